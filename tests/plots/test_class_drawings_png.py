"""The class's drawn dataset as a PNG: one row per label, the newest drawings, crisp pixels."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from cnnlib.plots import class_drawings_png


def test_rows_per_label_with_the_newest_drawings():
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    images[:, 10:18, 10:18] = np.array([50, 100, 150, 200, 250], dtype=np.uint8)[:, None, None]
    targets = np.array([0, 0, 1, 0, 1])
    png = class_drawings_png(images, targets, ["circle", "star", "tri"], {"circle": 3}, per_row=2, cell=56)
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    gap, label_width = 4, 160
    assert picture.size == (label_width + 2 * (56 + gap), 3 * (56 + gap) + gap)
    arr = np.asarray(picture)

    def centre(row: int, col: int) -> int:  # the red value in the middle of a thumbnail
        return int(arr[gap + row * 60 + 28, label_width + col * 60 + 28, 0])

    assert (centre(0, 0), centre(0, 1)) == (100, 200)  # circle: its newest two, oldest first
    assert (centre(1, 0), centre(1, 1)) == (150, 250)  # star
    assert centre(2, 0) == 229  # tri: no drawings yet, an empty grey slot
    assert int(arr[gap + 2, label_width + 2, 0]) == 0  # black around the ink (nearest-neighbour)
