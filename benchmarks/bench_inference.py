"""Benchmark: the Draw & predict page's work per drawing, on the CPU.

    .venv/bin/python benchmarks/bench_inference.py [--repeats 50] [--threads 1]

For a 280x280 canvas drawing, times each stage (decode the canvas PNG, preprocess_drawing,
predict, feature_maps, grad_cam) with the bundled pretrained model and prints the median and
90th percentile in milliseconds, and the total per drawing against the 50 ms target. Then, outside
that total, what else the page does per drawing: build its Plotly figures (probabilities, Grad-CAM,
one grid per conv layer, with cnnlib.plots.draw), and read_image on an uploaded 12-megapixel photo.
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def drawing(seed: int) -> str:
    """A canvas-like data URL: a random "7"-ish stroke, white on black, 280x280 RGBA PNG."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    pts = [(int(rng.integers(30, 120)), int(rng.integers(30, 90))) for _ in range(2)]
    pts.append((int(rng.integers(90, 200)), int(rng.integers(180, 260))))
    ImageDraw.Draw(img).line(pts, fill=(255, 255, 255, 255), width=int(rng.integers(14, 30)), joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the app caps them low)")
    args = parser.parse_args()

    import torch

    from cnnlib.inference import feature_maps, grad_cam, load_pretrained_bundle, predict, preprocess_drawing

    torch.set_num_threads(args.threads)
    bundle = load_pretrained_bundle()
    model = bundle.model
    urls = [drawing(i) for i in range(args.repeats)]
    stages = ["decode PNG", "preprocess_drawing", "predict", "feature_maps", "grad_cam"]
    times: dict[str, list[float]] = {s: [] for s in stages + ["total"]}

    def decode(url: str) -> np.ndarray:  # what CanvasResult.image_data does
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(";base64,", 1)[1]))))

    for warm in urls[:3]:  # warm-up: first calls allocate
        pre = preprocess_drawing(decode(warm), bundle.mean, bundle.std)
        predict(model, pre.tensor), feature_maps(model, pre.tensor), grad_cam(model, pre.tensor)
    for url in urls:
        t0 = time.perf_counter()
        rgba = decode(url)
        t1 = time.perf_counter()
        pre = preprocess_drawing(rgba, bundle.mean, bundle.std)
        t2 = time.perf_counter()
        probs = predict(model, pre.tensor)
        t3 = time.perf_counter()
        feature_maps(model, pre.tensor)
        t4 = time.perf_counter()
        grad_cam(model, pre.tensor, int(probs.argmax()))
        t5 = time.perf_counter()
        for name, dt in zip(
            stages + ["total"], [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0], strict=True
        ):
            times[name].append(1000 * dt)

    print(
        f"Draw & predict, per drawing, CPU, torch threads={args.threads}, {args.repeats} drawings (280x280)"
    )
    print(f"model: bundled pretrained CNN, {sum(p.numel() for p in model.parameters()):,} parameters")
    print(f"{'stage':<20} {'median ms':>10} {'p90 ms':>10}")
    for name, values in times.items():
        p90 = float(np.percentile(values, 90))
        print(f"{name:<20} {statistics.median(values):>10.2f} {p90:>10.2f}")
    total = statistics.median(times["total"])
    verdict = "OK" if total < 50 else "OVER"
    print(f"total per drawing: {total:.1f} ms (target < 50 ms): {verdict}")
    extras(model, bundle, urls, decode, args.repeats)


def extras(model, bundle, urls, decode, repeats: int) -> None:
    """The page's figures per drawing, and decoding one big uploaded photo (not in the total)."""
    from cnnlib.inference import (
        channel_order,
        feature_maps,
        grad_cam,
        predict,
        preprocess_drawing,
        read_image,
    )
    from cnnlib.plots import cam_figure, feature_grid_figure, probability_figure

    figs = []
    for url in urls[: max(5, repeats // 5)]:
        pre = preprocess_drawing(decode(url), bundle.mean, bundle.std)
        probs, maps = predict(model, pre.tensor), feature_maps(model, pre.tensor)
        cam = grad_cam(model, pre.tensor)
        t0 = time.perf_counter()
        probability_figure(probs, bundle.classes)
        cam_figure(pre.steps[-1][1], cam)
        for _name, fmap in maps:
            feature_grid_figure(fmap, channel_order(fmap)[:16], cols=4)
        figs.append(1000 * (time.perf_counter() - t0))
    rng = np.random.default_rng(0)
    photo = (rng.random((3024, 4032, 3)) * 30 + 190).astype(np.uint8)  # grainy paper
    photo[900:2100, 1900:2100] = 30  # a dark stroke
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, format="JPEG", quality=90)
    data = buf.getvalue()
    reads = []
    for _ in range(5):
        t0 = time.perf_counter()
        read_image(data)
        reads.append(1000 * (time.perf_counter() - t0))
    print(
        f"page figures (probabilities, Grad-CAM, {len(maps)} grids): {statistics.median(figs):.1f} ms median"
    )
    print(
        f"read_image, a 4032x3024 JPEG upload ({len(data) / 1e6:.1f} MB): {statistics.median(reads):.0f} ms median"
    )


if __name__ == "__main__":
    main()
