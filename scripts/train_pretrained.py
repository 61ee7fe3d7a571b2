"""Train the bundled digit model (cnnlib/data/files/mnist_cnn.pt) on the bundled MNIST sample.

    .venv/bin/python scripts/train_pretrained.py            # a few minutes on one CPU thread
    .venv/bin/python scripts/train_pretrained.py --epochs 3 --out /tmp/quick.pt

Trains the Digit CNN (`cnnlib.spec.PRESETS["Digit CNN"]`, the model every page starts from; the app
rebuilds it with `build_model`) on the 4,000 training digits of the bundled sample, with augmentation
so digits drawn on the canvas work: small rotations, shifts, scaling, shear and stroke-thickness changes. Reports the accuracy on the
1,000 held-out test digits (never used for training or for choosing anything) and stores
{"spec", "state_dict", "classes", "test_accuracy", "mean", "std", ...} (a cnnlib.trained.TrainedModel's
dict form) with torch.save; the app loads it with torch.load(weights_only=True).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnlib.data import load_dataset, normalize  # noqa: E402
from cnnlib.inference import pretrained_path  # noqa: E402
from cnnlib.spec import DIGIT_CNN, PRESETS, ModelSpec, build_model  # noqa: E402
from cnnlib.trained import TrainedModel  # noqa: E402

SPEC = PRESETS[DIGIT_CNN].to_dict()  # the Digit CNN: the model every page of the app starts from


ROTATE_DEG, SHEAR_DEG, SCALE, SHIFT = 12.0, 8.0, (0.85, 1.1), 0.08
THICKEN_P, THIN_P = 0.15, 0.08


def random_affine(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A different small rotation, scale, shear and shift per image, batched with affine_grid.

    float [N, 1, 28, 28] in [0, 1] -> same shape (bilinear, zeros outside).
    """
    n = images.shape[0]

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=gen)  # [N]

    angle = torch.deg2rad(uniform(-ROTATE_DEG, ROTATE_DEG))
    shear = torch.deg2rad(uniform(-SHEAR_DEG, SHEAR_DEG))
    scale = uniform(*SCALE)
    cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
    fwd = torch.zeros(n, 3, 3)  # forward map (input -> output), in [-1, 1] grid units
    fwd[:, 0, 0] = scale * cos
    fwd[:, 0, 1] = scale * (cos * tan - sin)
    fwd[:, 1, 0] = scale * sin
    fwd[:, 1, 1] = scale * (sin * tan + cos)
    fwd[:, 0, 2] = uniform(-SHIFT, SHIFT) * 2  # a fraction of the width is twice that in grid units
    fwd[:, 1, 2] = uniform(-SHIFT, SHIFT) * 2
    fwd[:, 2, 2] = 1
    theta = torch.linalg.inv(fwd)[:, :2]  # [N, 2, 3]: grid_sample wants output -> input
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)  # [N, 28, 28, 2]
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random affine per image plus random stroke thickening/thinning. float [N, 1, 28, 28] in [0, 1]."""
    out = random_affine(images, gen)  # [N, 1, 28, 28]
    r = torch.rand(out.shape[0], 1, 1, 1, generator=gen)
    thick = F.max_pool2d(out, 3, stride=1, padding=1)  # dilation: thicker strokes
    thin = -F.max_pool2d(-out, 3, stride=1, padding=1)  # erosion: thinner strokes
    out = torch.where(r < THICKEN_P, 0.5 * (out + thick), out)
    out = torch.where(r > 1 - THIN_P, 0.5 * (out + thin), out)
    return out


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i : i + 500]).argmax(1) for i in range(0, len(x), 500)])
    return float((pred == y).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=4e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=pretrained_path("mnist"))
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    bundle = load_dataset("mnist-sample")
    spec = ModelSpec.from_dict(SPEC)
    model = build_model(spec)  # nn.Sequential, children "0", "1", ...
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters; data: {len(bundle.train)} train / {len(bundle.test)} test digits")

    train_x = bundle.train_images.float() / 255.0  # [4000, 1, 28, 28] in [0, 1]
    train_y = bundle.train_labels  # [4000]
    test_x = normalize(bundle.test_images, bundle)  # [1000, 1, 28, 28]
    test_y = bundle.test_labels
    mean = torch.tensor(bundle.mean).view(1, -1, 1, 1)
    std = torch.tensor(bundle.std).view(1, -1, 1, 1)

    steps_per_epoch = math.ceil(len(train_x) / args.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch
    )
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            xb = (augment(train_x[idx], gen) - mean) / std  # [B, 1, 28, 28] normalised
            yb = train_y[idx]
            logits = model(xb)  # [B, 10]
            loss = F.cross_entropy(logits, yb, label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            total += len(idx)
        print(
            f"epoch {epoch + 1:2d}/{args.epochs}: loss {loss_sum / total:.4f}, "
            f"train acc (augmented) {correct / total:.3f}, {time.perf_counter() - start:.0f} s"
        )

    model.eval()
    test_acc = evaluate(model, test_x, test_y)
    record = TrainedModel(
        spec=spec.to_dict(),
        state_dict={k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        classes=list(bundle.classes),
        mean=list(bundle.mean),
        std=list(bundle.std),
        dataset="mnist-sample",
        test_accuracy=test_acc,
        extra={
            "train_size": len(bundle.train),
            "test_size": len(bundle.test),
            "epochs": args.epochs,
            "seed": args.seed,
            "augmentation": (
                f"rotate ±{ROTATE_DEG:g}°, shear ±{SHEAR_DEG:g}°, scale {SCALE[0]}-{SCALE[1]}, shift ±{SHIFT:.0%}; "
                f"strokes thickened {THICKEN_P:.0%} / thinned {THIN_P:.0%} of the time"
            ),
        },
    )
    blob = record.to_dict()  # the dict form cnnlib.inference.load_pretrained_bundle reads back
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(blob, args.out)
    size_kb = args.out.stat().st_size / 1024
    print(f"test accuracy on the {len(test_y)} held-out digits: {test_acc:.2%}")
    print(f"saved {args.out} ({size_kb:.0f} KB) in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
