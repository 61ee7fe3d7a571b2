"""cnnlib.plots.sliding: the shape calculator's sliding window as a PNG."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from cnnlib.plots import colour_rgb, sliding_picture
from cnnlib.plots.shapes import CELL_CODE, CELLS, CURRENT_COLOUR
from cnnlib.shapes import sliding_axis


def _png(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB"))  # [H, W, 3]


def _has(pic: np.ndarray, colour: str) -> bool:
    return bool((pic == np.array(colour_rgb(colour))).all(axis=2).any())


def test_padding_output_and_the_current_pixel_are_drawn_in_their_colours():
    ax = sliding_axis("Conv2d", 5, 3, 1, 1, 1)  # 5 + 2 padding, output 5
    pic = _png(sliding_picture(ax, ax, 1, 2, (), (), "Input 5×5 + padding"))
    for kind in ("input", "pad", "output"):
        assert _has(pic, CELLS[CELL_CODE[kind]][1]), kind
    assert _has(pic, CURRENT_COLOUR)
    assert not _has(pic, CELLS[CELL_CODE["unread"]][1])  # every pixel is read: no such colour


def test_unread_cells_and_inserted_zeros_show_only_when_there_are_some():
    ax = sliding_axis("Conv2d", 9, 3, 2, 0, 2)
    pic = _png(sliding_picture(ax, ax, 1, 1, (8,), (8,), "Input 9×9"))
    assert _has(pic, CELLS[CELL_CODE["unread"]][1])
    tr = sliding_axis("ConvTranspose2d", 3, 3, 2, 0)
    pic_t = _png(sliding_picture(tr, tr, 2, 3, (), (), "Input 3×3 (stretched)", True))
    assert _has(pic_t, CELLS[CELL_CODE["zero"]][1])


def test_the_current_pixel_moves_with_the_output_position():
    ax = sliding_axis("Conv2d", 6, 3, 1, 0, 1)  # output 4
    first = _png(sliding_picture(ax, ax, 0, 0))
    last = _png(sliding_picture(ax, ax, 3, 3))
    ys0, xs0 = np.nonzero((first == np.array(colour_rgb(CURRENT_COLOUR))).all(axis=2))
    ys1, xs1 = np.nonzero((last == np.array(colour_rgb(CURRENT_COLOUR))).all(axis=2))
    assert ys1.mean() > ys0.mean() and xs1.mean() > xs0.mean()  # down and to the right


def test_big_grids_get_smaller_cells_within_the_width():
    small = _png(sliding_picture(*(2 * (sliding_axis("Conv2d", 5, 3),)), 0, 0))
    big = _png(sliding_picture(*(2 * (sliding_axis("Conv2d", 38, 3, 1, 1),)), 0, 0))
    assert small.shape[1] <= 800  # about 760 px wide: cells of up to 50 px
    assert big.shape[1] < 1000  # 40 + 38 cells: down to 12 px a cell (the page scales it to fit)
    assert big.shape[1] / 80.5 < small.shape[1] / 10.5  # smaller cells
