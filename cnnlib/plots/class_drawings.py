"""The class's drawn dataset on the projector: one row of thumbnails per label, as a PNG.

Each row starts with the label and its count, then the label's newest drawings (white on black,
as the network sees them), each scaled up with nearest-neighbour so its pixels stay crisp.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from cnnlib.plots.pictures import TEXT, fitting_font, to_png

__all__ = ["class_drawings_png"]


BACKGROUND = (255, 255, 255)
EMPTY = (229, 231, 235)  # a slot with no drawing yet


def class_drawings_png(
    images: np.ndarray,
    targets: np.ndarray,
    labels: Sequence[str],
    counts: dict[str, int] | None = None,
    *,
    per_row: int = 10,
    cell: int = 56,
    label_width: int = 160,
) -> bytes:
    """A PNG: per label, "label (count)" then its last `per_row` drawings ((N, 28, 28) uint8 `images`,
    `targets` the label index of each, oldest first), `cell` px each; empty slots grey."""
    gap = 4
    rows = max(1, len(labels))
    width = label_width + per_row * (cell + gap)
    height = rows * (cell + gap) + gap
    picture = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    for r, label in enumerate(labels):
        y = gap + r * (cell + gap)
        shown = images[np.asarray(targets) == r][-per_row:]  # [k, 28, 28] uint8, newest last
        n = (counts or {}).get(label, len(shown))
        text = f"{label} ({n})"
        draw.text(
            (4, y + cell / 2), text, fill=TEXT, font=fitting_font(text, 20, label_width - 8), anchor="lm"
        )
        for j in range(per_row):
            x = label_width + j * (cell + gap)
            if j < len(shown):
                thumb = Image.fromarray(shown[j], mode="L").resize((cell, cell), Image.Resampling.NEAREST)
                picture.paste(thumb.convert("RGB"), (x, y))
            else:
                draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=EMPTY)
    return to_png(picture)
