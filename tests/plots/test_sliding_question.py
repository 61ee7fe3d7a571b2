"""The sliding picture while the class is asked for the output size: the window, not the answer."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from cnnlib.plots import colour_rgb, sliding_picture
from cnnlib.plots.sliding import CELL_CODE, CELLS, CURRENT_COLOUR
from cnnlib.shapes import LayerSettings, single_layer

OUTPUT = CELLS[CELL_CODE["output"]][1]


def _count(png: bytes, colour: str) -> int:
    pic = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))  # [H, W, 3]
    return int((pic == np.array(colour_rgb(colour))).all(axis=2).sum())


def test_without_the_answer_no_output_grid_is_drawn():
    for size, kernel, stride, padding in ((7, 3, 2, 1), (9, 2, 3, 0), (28, 3, 2, 1), (6, 5, 1, 2)):
        settings = LayerSettings(kind="Conv2d", size=(size, size), kernel=(kernel, kernel), stride=(stride, stride),
                                 padding=(padding, padding))  # fmt: skip
        r = single_layer(settings)
        args = (r.rows, r.cols, 0, 0, tuple(r.uncovered_rows), tuple(r.uncovered_cols), "Input", False)
        shown, hidden = sliding_picture(*args), sliding_picture(*args, 760, False)
        legend = _count(hidden, OUTPUT)  # the legend keeps its swatch (a 17 px square at most)
        assert _count(shown, OUTPUT) > legend + 50 and legend <= 17 * 17
        assert _count(hidden, CURRENT_COLOUR) <= 17 * 17  # no output pixel lit, only its legend swatch
        size_of = lambda png: Image.open(io.BytesIO(png)).size  # noqa: E731
        (w1, h1), (w2, h2) = size_of(shown), size_of(hidden)
        assert w1 == w2 and 0 <= h1 - h2 <= 2 * 26  # the legend may lose its row of unread cells
        assert sliding_picture(*args, 760, True) == shown  # the default is the picture with its answer
