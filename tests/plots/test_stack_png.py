"""The Shape calculator's stack chart as a PNG: the bars, the lines and the refused layer's cross."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnnlib.plots import STACK_COLOURS, nice_ticks, stack_picture, stack_series
from cnnlib.shapes import stack_shapes

LAYERS = [
    {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
    {"type": "ReLU"},
    {"type": "MaxPool2d", "kernel_size": 2},
    {"type": "Conv2d", "out_channels": 16, "kernel_size": 3},
    {"type": "MaxPool2d", "kernel_size": 2},
]


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))  # [H, W, 3]


def _count(pixels: np.ndarray, rgb: tuple[int, int, int]) -> int:
    return int(np.all(pixels == np.array(rgb, dtype=np.uint8), axis=-1).sum())


@pytest.mark.parametrize("top", [0, 1, 3, 9.5, 28, 31.4, 99, 224, 1000, 4097, 123456])
def test_nice_ticks_cover_the_top_in_a_few_round_steps(top):
    ticks = nice_ticks(top)
    assert ticks[0] == 0 and ticks[-1] >= top and 2 <= len(ticks) <= 7
    step = ticks[1] - ticks[0]
    assert all(b - a == step for a, b in zip(ticks, ticks[1:], strict=False))
    assert str(step).strip("0") in ("1", "2", "5")


def test_square_stack_has_one_bar_colour_and_both_lines():
    res = stack_shapes((1, 28, 28), LAYERS)
    pixels = _pixels(stack_picture(res))
    assert pixels.shape == (380, 760, 3)
    assert _count(pixels, STACK_COLOURS["height"]) > 2000
    assert _count(pixels, STACK_COLOURS["width"]) < 300  # only the legend has none either: no width bars
    assert _count(pixels, STACK_COLOURS["rf"]) > 200 and _count(pixels, STACK_COLOURS["jump"]) > 100
    assert _count(pixels, STACK_COLOURS["refused"]) == 0
    names, heights, widths, rf, jump = stack_series(res)
    assert names[0] == "input" and heights == widths and len(rf) == len(jump) == len(LAYERS) + 1


def test_a_refused_layer_gets_its_cross_and_a_non_square_input_two_bars():
    res = stack_shapes((1, 6, 9), LAYERS)  # the second pool gets a 1-pixel-high map: refused
    assert res.error is not None
    pixels = _pixels(stack_picture(res))
    assert _count(pixels, STACK_COLOURS["refused"]) > 50
    assert _count(pixels, STACK_COLOURS["width"]) > 500


def test_the_same_stack_gives_the_same_bytes():
    res = stack_shapes((3, 32, 32), LAYERS)
    assert stack_picture(res) == stack_picture(res)
