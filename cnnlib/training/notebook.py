"""Take it home: a training experiment as a Jupyter notebook and its data, in one zip.

    data = notebook_zip(spec, bundle, cfg, title="Digit CNN on the MNIST sample")   # bytes of a .zip

The zip holds `experiment.ipynb` (nbformat 4, written as plain JSON: no nbformat at run time) and
`data.npz`: the training images as uint8 `[N, C, H, W]`, the labels the run trains on (after
`label_noise`), the run's training and validation positions (after `train_size`), the test set,
the class names and the per-channel mean and std. The notebook needs only torch, numpy and plotly:
no cnnlib. Its cells are the model (`cnnlib.spec.to_pytorch_code`, initialised with the run's
seed, as `TrainingRun` does), the augmentation the run used (the source of
`cnnlib.training.augment`, copied in), and a plain PyTorch loop that follows `cnnlib.training.loop`
step by step: the same generator state, batch order, optimizer, scheduler, loss, early stopping
and evaluation. On the CPU the notebook's run is the app's run (tests/training/test_notebook.py
executes it with nbclient and compares the test accuracy).

Priced before it is built: `export_size` is the npz's size; past `MAX_EXPORT_BYTES` the export is
refused with a message (an uploaded dataset of many large images stays in the app).
"""

from __future__ import annotations

import inspect
import io
import json
import zipfile
from typing import Any

import numpy as np
import torch

from cnnlib.data import DatasetBundle
from cnnlib.spec import ModelSpec, to_pytorch_code
from cnnlib.training import augment as augment_module
from cnnlib.training.config import ConfigError, TrainConfig
from cnnlib.training.loop import EVAL_BATCH_SIZE
from cnnlib.training.selection import training_data

__all__ = ["MAX_EXPORT_BYTES", "NOTEBOOK_NAME", "export_size", "notebook_cells", "notebook_zip"]


MAX_EXPORT_BYTES = 64 * 1024 * 1024  # the data in the zip: the MNIST sample is 3.7 MB, shapes 1.6 MB
NOTEBOOK_NAME = "experiment.ipynb"


def export_size(bundle: DatasetBundle) -> int:
    """Bytes of the images and labels the zip would hold (uint8 images, int64 labels)."""
    n_train, n_test = len(bundle.train_labels), len(bundle.test_labels)
    return int(bundle.train_images.numel() + bundle.test_images.numel() + 8 * (2 * n_train + n_test))


def _data_npz(bundle: DatasetBundle, cfg: TrainConfig) -> bytes:
    """The run's data as the loop sees it, and the generator's state where the loop starts."""
    g = torch.Generator().manual_seed(cfg.seed)  # as train_loop: split fallback, order, augmentation
    data = training_data(bundle.train_labels, cfg, bundle.num_classes, g)
    out = io.BytesIO()
    np.savez_compressed(
        out,
        images=bundle.train_images.numpy(),  # [N, C, H, W] uint8
        labels=data.labels.numpy(),  # [N] the labels trained on (noised where asked)
        train_idx=data.train_idx.numpy(),  # [n_train]
        val_idx=(data.val_idx if data.val_idx is not None else torch.zeros(0, dtype=torch.long)).numpy(),
        test_images=bundle.test_images.numpy(),  # [N_test, C, H, W] uint8
        test_labels=bundle.test_labels.numpy(),  # [N_test]
        classes=np.array(bundle.classes),
        mean=np.array(bundle.mean, dtype=np.float32),
        std=np.array(bundle.std, dtype=np.float32),
        generator_state=g.get_state().numpy(),  # uint8: the loop's generator after the split
    )
    return out.getvalue()


def _augment_source() -> str:
    """`cnnlib.training.augment`'s strengths and batch functions, as the notebook's own code."""
    src = inspect.getsource(augment_module)
    start, end = src.index("# Augmentation strengths"), src.index("class AugmentPreview")
    return (
        "import math\nfrom collections.abc import Sequence\n\nimport torch.nn.functional as F\n\n"
        + src[start:end].rstrip()
        + "\n"
    )


def _model_source(spec: ModelSpec) -> str:
    code = to_pytorch_code(spec)
    return code.split('if __name__ == "__main__":')[0].rstrip() + "\n"


_SETUP = """\
import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SETTINGS = json.loads({settings!r})
print(json.dumps(SETTINGS, indent=1))
"""

_DATA = """\
d = np.load("data.npz")
images = torch.from_numpy(d["images"])  # [N, C, H, W] uint8
labels = torch.from_numpy(d["labels"])  # [N]
train_idx, val_idx = torch.from_numpy(d["train_idx"]), torch.from_numpy(d["val_idx"])
test_images, test_labels = torch.from_numpy(d["test_images"]), torch.from_numpy(d["test_labels"])
classes = [str(c) for c in d["classes"]]
C = images.shape[1]
mean = torch.from_numpy(d["mean"]).view(1, C, 1, 1)
std = torch.from_numpy(d["std"]).view(1, C, 1, 1)
g = torch.Generator()
g.set_state(torch.from_numpy(d["generator_state"]))  # where the app's loop started
print(f"{{len(train_idx)}} training, {{len(val_idx)}} validation, {{len(test_labels)}} test images "
      f"of shape {{list(images.shape[1:])}}; classes {{classes}}")
"""

_INIT = """\
torch.manual_seed(SETTINGS["seed"])  # the app builds the model right after seeding, as here
model = Net()
print(model)
print(sum(p.numel() for p in model.parameters()), "parameters")
"""

_LOOP = """\
AUGMENT = tuple(SETTINGS["augment"])
EVAL_BATCH_SIZE = {eval_batch}


def batch(idx):
    x = images.index_select(0, idx).float().div_(255)  # [B, C, H, W] in [0, 1]
    if AUGMENT:
        x = augment_batch(x, AUGMENT, g)
    return x.sub_(mean).div_(std)


def evaluate(imgs, labs, idx):
    \"\"\"(mean cross-entropy, accuracy) over imgs[idx], in eval mode.\"\"\"
    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(idx), EVAL_BATCH_SIZE):
            j = idx[start : start + EVAL_BATCH_SIZE]
            x = imgs.index_select(0, j).float().div_(255).sub_(mean).div_(std)
            y = labs.index_select(0, j)
            out = model(x).float()  # [B, K]
            loss_sum += F.cross_entropy(out, y, reduction="sum").item()
            correct += int((out.argmax(1) == y).sum())
    model.train()
    return loss_sum / max(1, len(idx)), correct / max(1, len(idx))


S = SETTINGS
n_train, bs = len(train_idx), S["batch_size"]
steps = n_train // bs + (1 if n_train % bs > 1 else 0)  # a last batch of one image is dropped
params = [p for p in model.parameters() if p.requires_grad]
if S["optimizer"] == "sgd":
    optimizer = torch.optim.SGD(params, lr=S["lr"], momentum=S["momentum"], weight_decay=S["weight_decay"])
elif S["optimizer"] == "adamw":
    optimizer = torch.optim.AdamW(params, lr=S["lr"], weight_decay=S["weight_decay"])
else:
    optimizer = torch.optim.Adam(params, lr=S["lr"], weight_decay=S["weight_decay"])
total = max(1, steps * S["epochs"])
scheduler, per_batch = None, False
if S["scheduler"] == "step":
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=S["step_size"], gamma=S["gamma"])
elif S["scheduler"] == "cosine":
    scheduler, per_batch = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total), True
elif S["scheduler"] == "onecycle":
    scheduler, per_batch = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=S["lr"], total_steps=total), True
criterion = nn.CrossEntropyLoss(label_smoothing=S["label_smoothing"])

torch.manual_seed(S["seed"])  # dropout's masks: the app's training process seeds them so too
history = []
best_loss, bad_epochs, best_epoch, best_state = math.inf, 0, None, None
t0 = time.perf_counter()
model.train()
for epoch in range(S["epochs"]):
    order = train_idx[torch.randperm(n_train, generator=g)]  # a fresh random order each epoch
    loss_sum, correct, seen = 0.0, 0, 0
    for i in range(steps):
        idx = order[i * bs : (i + 1) * bs if i < steps - 1 else n_train]
        xb, yb = batch(idx), labels.index_select(0, idx)  # [B, C, H, W], [B]
        out = model(xb)  # [B, K] logits
        loss = criterion(out, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if per_batch:
            scheduler.step()
        loss_sum += loss.item() * len(idx)
        correct += int((out.detach().argmax(1) == yb).sum())
        seen += len(idx)
    if scheduler is not None and not per_batch:
        scheduler.step()
    val_loss = val_acc = None
    if len(val_idx):
        val_loss, val_acc = evaluate(images, labels, val_idx)
    history.append({{"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_acc": correct / seen,
                    "val_loss": val_loss, "val_acc": val_acc}})
    print(history[-1])
    if S["patience"] and val_loss is not None:  # early stopping on the validation loss
        if val_loss < best_loss - 1e-4:
            best_loss, bad_epochs, best_epoch = val_loss, 0, epoch + 1
            best_state = {{k: v.detach().clone() for k, v in model.state_dict().items()}}
        else:
            bad_epochs += 1
            if bad_epochs >= S["patience"] and epoch + 1 < S["epochs"]:
                print(f"Early stopping after epoch {{epoch + 1}}: keeping epoch {{best_epoch}}")
                break
if best_state is not None:
    model.load_state_dict(best_state)
print(f"trained in {{time.perf_counter() - t0:.1f}} s")
"""

_TEST = """\
test_loss, test_acc = evaluate(test_images, test_labels, torch.arange(len(test_labels)))
print(f"Test accuracy: {test_acc:.4f} (the app reported {REPORTED})")
with open("results.json", "w") as f:
    json.dump({"test_accuracy": test_acc, "test_loss": test_loss, "history": history}, f)
"""

_PLOTS = """\
import plotly.graph_objects as go
from plotly.subplots import make_subplots

ep = [h["epoch"] for h in history]
fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
for key, col, name in (("train_loss", 1, "training"), ("val_loss", 1, "validation"),
                       ("train_acc", 2, "training"), ("val_acc", 2, "validation")):
    if history and history[0][key] is not None:
        fig.add_trace(go.Scatter(x=ep, y=[h[key] for h in history], name=f"{name} {key.split('_')[1]}"),
                      row=1, col=col)
fig.update_xaxes(title_text="epoch")
fig.show()
"""


def _md(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text: str) -> dict[str, Any]:
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": text}


def notebook_cells(
    spec: ModelSpec, cfg: TrainConfig, title: str, reported: float | None = None
) -> list[dict[str, Any]]:
    """The notebook's cells (nbformat 4 dicts) for `spec` trained with `cfg` on the zip's data."""
    settings = {k: v for k, v in cfg.to_dict().items() if k not in ("device", "max_seconds", "num_threads")}
    shown = "not known" if reported is None else f"{reported:.4f}"
    cells = [
        _md(
            f"# {title}\n\nExported from CNN Classroom. This notebook repeats the app's training run "
            "with plain PyTorch: the same model, data, split, seed and settings (run it beside "
            "`data.npz`; it needs `torch`, `numpy` and `plotly`). On a CPU it gives the app's numbers."
        ),
        _code(_SETUP.format(settings=json.dumps(settings))),
        _md("## The data\n\nThe images as the app trained on them, with its training/validation split."),
        _code(_DATA.format()),
        _md("## The model\n\nThe model builder's code, initialised from the run's seed."),
        _code(_model_source(spec) + "\n\n" + _INIT),
    ]
    if cfg.augment:
        cells.append(_md("## Augmentation\n\nEach training image gets its own random transform."))
        cells.append(_code(_augment_source()))
    cells += [
        _md("## Training\n\nOne epoch is every training image once, in a fresh random order."),
        _code(_LOOP.format(eval_batch=EVAL_BATCH_SIZE)),
        _md("## Test accuracy"),
        _code(_TEST.replace("REPORTED", repr(shown))),
        _md("## Curves"),
        _code(_PLOTS),
    ]
    return cells


def notebook_zip(
    spec: ModelSpec | dict[str, Any],
    bundle: DatasetBundle,
    cfg: TrainConfig,
    title: str = "A CNN Classroom experiment",
    reported: float | None = None,
) -> bytes:
    """A zip of `experiment.ipynb` and `data.npz`; ConfigError("dataset") when the data is too big."""
    size = export_size(bundle)
    if size > MAX_EXPORT_BYTES:
        raise ConfigError(
            f"This dataset is {size / 2**20:.0f} MB: too big to put in a notebook's zip (at most "
            f"{MAX_EXPORT_BYTES // 2**20} MB). Export a run on a smaller dataset.",
            "dataset",
        )
    spec = ModelSpec.from_dict(spec) if isinstance(spec, dict) else spec
    cells = notebook_cells(spec, cfg, title, reported)
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"  # nbformat 4.5 asks for cell ids
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": cells,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(NOTEBOOK_NAME, json.dumps(nb, indent=1))
        z.writestr("data.npz", _data_npz(bundle, cfg))
    return out.getvalue()
