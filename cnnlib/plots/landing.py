"""The landing page's picture: what the app does, as one static PNG (numpy and Pillow, no Plotly).

A digit from the bundled MNIST sample goes through the bundled pretrained model: the digit, the
first conv layer's feature maps (its strongest eight), then the class probabilities, with arrows
between them. `pipeline_picture` draws given arrays (pure); `landing_pipeline` computes them with the
real model and returns the PNG bytes, saved as `LANDING_PICTURE` (the same for everyone).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from cnnlib.plots.palette import MAGNITUDE
from cnnlib.plots.pictures import TEXT, colourize, font, to_png

__all__ = ["LANDING_PICTURE", "SAMPLE_DIGIT_INDEX", "landing_pipeline", "pipeline_picture"]

# landing_pipeline()'s PNG, saved by scripts/make_landing_picture.py (a test checks it is the same), so the
# landing page shows it without importing torch: the first page a class opens stays light.
LANDING_PICTURE = Path(__file__).resolve().parents[1] / "data" / "files" / "landing_pipeline.png"

SAMPLE_DIGIT_INDEX = 10  # a test image of the bundled MNIST sample: a 7
BAR = (31, 95, 191)  # the theme's primary colour: the top class
OTHER_BAR = (184, 194, 209)
BACKGROUND = (255, 255, 255)


def _arrow(draw: ImageDraw.ImageDraw, x0: int, x1: int, y: int, label: str) -> None:
    draw.line((x0, y, x1 - 10, y), fill=TEXT, width=3)
    draw.polygon([(x1, y), (x1 - 12, y - 7), (x1 - 12, y + 7)], fill=TEXT)
    draw.text(((x0 + x1) / 2, y - 12), label, fill=TEXT, font=font(15), anchor="mb")


def pipeline_picture(
    digit: np.ndarray, maps: np.ndarray, probs: np.ndarray, classes: Sequence[str], height: int = 260
) -> Image.Image:
    """digit [H, W] in [0, 1] (white ink on black), maps [C, h, w] (C <= 8 shown, as given) and
    probs [K] -> the picture: digit → feature maps → class probabilities, `height` px high."""
    k = len(classes)
    side = height - 70  # the digit's square
    cell = (side - 6) // 2  # feature maps: two rows of four
    bar_w = max(14, min(26, 300 // max(k, 1)))
    x_maps = 20 + side + 90
    x_bars = x_maps + 4 * (cell + 6) + 90
    width = x_bars + k * (bar_w + 6) + 20
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    title, top = font(17), 34
    grey = (np.clip(digit, 0, 1) * 255).astype(np.uint8)  # [H, W]
    img.paste(Image.fromarray(grey).resize((side, side), Image.Resampling.NEAREST), (20, top))
    draw.text((20, 8), "A handwritten digit", fill=TEXT, font=title)
    shown = maps[:8]
    for i, fmap in enumerate(shown):  # fmap [h, w]
        top_v = float(fmap.max()) if float(fmap.max()) > 0 else 1.0
        rgb = colourize(fmap, MAGNITUDE, 0.0, top_v)  # [h, w, 3]
        tile = Image.fromarray(rgb).resize((cell, cell), Image.Resampling.NEAREST)
        img.paste(tile, (x_maps + (i % 4) * (cell + 6), top + (i // 4) * (cell + 6)))
    draw.text((x_maps, 8), "Feature maps", fill=TEXT, font=title)
    best = int(np.argmax(probs))
    base = top + side  # the bars' baseline
    for j, p in enumerate(probs):
        x0 = x_bars + j * (bar_w + 6)
        h = int(round(float(p) * (side - 22)))
        draw.rectangle((x0, base - h, x0 + bar_w, base), fill=BAR if j == best else OTHER_BAR)
        draw.text((x0 + bar_w / 2, base + 4), str(classes[j]), fill=TEXT, font=font(14), anchor="ma")
    draw.line((x_bars - 4, base, x_bars + k * (bar_w + 6), base), fill=TEXT, width=1)
    label = f"{classes[best]}: {float(probs[best]):.0%}"
    draw.text((x_bars + best * (bar_w + 6) + bar_w / 2, base - int(float(probs[best]) * (side - 22)) - 4),
              label, fill=TEXT, font=font(14), anchor="mb")  # fmt: skip
    draw.text((x_bars, 8), "Class probabilities", fill=TEXT, font=title)
    mid = top + side // 2
    _arrow(draw, 20 + side + 12, x_maps - 12, mid, "conv")
    _arrow(draw, x_maps + 4 * (cell + 6) + 6, x_bars - 14, mid, "more layers")
    return img


def landing_pipeline(index: int = SAMPLE_DIGIT_INDEX) -> bytes:
    """The landing picture, computed: the bundled MNIST sample's test digit `index` through the
    bundled pretrained model (first conv layer's strongest eight maps, its probabilities), as PNG."""
    import torch

    from cnnlib.data import load_dataset
    from cnnlib.inference import channel_order, feature_maps, load_pretrained_bundle, predict

    bundle = load_pretrained_bundle()
    images = load_dataset("mnist-sample").test.images  # [N, 1, 28, 28] uint8
    digit = images[index, 0].float() / 255.0  # [28, 28]
    x = ((digit - bundle.mean) / bundle.std)[None, None]  # [1, 1, 28, 28], as the model was trained
    with torch.no_grad():
        probs = predict(bundle.model, x)  # [K]
        _name, fmap = feature_maps(bundle.model, x)[0]  # [C, 28, 28], after BatchNorm and ReLU
    order = channel_order(fmap)[:8]
    return to_png(pipeline_picture(digit.numpy(), fmap[order], probs, bundle.classes))
