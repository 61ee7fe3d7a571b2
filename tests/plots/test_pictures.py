"""cnnlib.plots.pictures and grids: palettes to pixels, numbered grids, the step-through's PNG."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnnlib.plots import colour_rgb, colourize, fitting_font, font, grid_labels, ink_for, step_picture
from cnnlib.plots.kernels import PAD_CELL
from cnnlib.plots.palette import IMAGE, MAGNITUDE, SIGNED, signed_range


def _png(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB"))  # [H, W, 3]


def test_colour_rgb_reads_the_palettes_notations():
    assert colour_rgb("#fde725") == (253, 231, 37)
    assert colour_rgb("rgb(5,48,97)") == (5, 48, 97)
    assert colour_rgb("rgba(255, 127, 14, 0.35)") == (255, 127, 14)
    with pytest.raises(ValueError):
        colour_rgb("teal")


def test_colourize_puts_the_ends_and_the_middle_where_the_heatmaps_do():
    rgb = colourize(np.array([[0.0, 0.5, 1.0, np.nan]]), IMAGE, 0.0, 1.0)  # [1, 4, 3]
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 4, 3)
    assert rgb[0, 0].tolist() == [0, 0, 0] and rgb[0, 2].tolist() == [255, 255, 255]
    assert rgb[0, 1].tolist() == [128, 128, 128]  # linear between stops
    assert rgb[0, 3].tolist() == [255, 255, 255]  # missing: white
    signed = signed_range(np.array([-2.0, 1.0]))
    ends = colourize(np.array([[-2.0, 0.0, 2.0, 9.0]]), SIGNED, signed["zmin"], signed["zmax"])
    assert ends[0, 0].tolist() == list(colour_rgb(SIGNED[0][1]))  # most negative: dark blue
    assert ends[0, 1].tolist() == list(colour_rgb(SIGNED[5][1]))  # 0: the white middle
    assert ends[0, 3].tolist() == list(colour_rgb(SIGNED[-1][1]))  # past the range: clipped
    flat = colourize(np.zeros((2, 2)), MAGNITUDE, 0.0, 0.0)  # an empty range does not divide by 0
    assert (flat == np.array(colour_rgb(MAGNITUDE[0][1]))).all()


def test_text_reads_on_dark_and_light_cells_and_fits_its_cell():
    assert ink_for((0, 0, 0)) == (255, 255, 255) and ink_for((255, 255, 255)) != (255, 255, 255)
    assert fitting_font("0.5", 20, 60).size == 20  # short: as asked
    small = fitting_font("-0.123456789", 20, 40)
    assert small.size < 20 and (small.getlength("-0.123456789") <= 40 or small.size == 9)
    assert font(20) is font(20)  # loaded once


def test_grid_labels_write_pads_fractions_and_no_minus_zero():
    values = np.array([[1 / 9, -0.0], [0.125, 1234.5]])
    padded = np.array([[False, False], [True, False]])
    assert grid_labels(values, padded) == [["0.11", "0"], ["pad", "1.23e+03"]]
    assert grid_labels(np.array([[1 / 9, -2 / 9]]), fractions=True) == [["1/9", "-2/9"]]


@pytest.mark.parametrize("k", [1, 3, 5, 7, 11])
def test_step_picture_draws_three_grids_in_the_palettes_colours(k):
    rng = np.random.default_rng(k)
    patch, kernel = rng.random((k, k)), rng.normal(size=(k, k))  # [k, k] each
    padded = np.zeros((k, k), dtype=bool)
    padded[0] = True
    pic = _png(step_picture(patch, kernel, patch * kernel, padded))
    h, w, _ = pic.shape
    assert 60 <= h <= 500 and w > 3 * k * 20  # three grids side by side, a title above
    # The patch's top-left cell lies in the padding: its corner pixel is the pad colour.
    assert tuple(pic[34 + 2, 4 + 2]) == colour_rgb(PAD_CELL)
    # Wider kernels, wider pictures (up to a cap per cell).
    if k > 1:
        assert pic.shape[1] > _png(step_picture(patch[:1, :1], kernel[:1, :1], patch[:1, :1])).shape[1]


def test_step_picture_colours_the_kernel_on_the_signed_scale():
    kernel = np.array([[-1.0, 0.0, 1.0]] * 3)  # [3, 3]
    patch = np.ones((3, 3))
    pic = _png(step_picture(patch, kernel, patch * kernel))
    cell, gap, between, title_h = 64, 2, 36, 34
    grid_w = 3 * (cell + gap) - gap
    x = 4 + grid_w + between  # the kernel's grid
    assert tuple(pic[title_h + 2, x + 2]) == colour_rgb(SIGNED[0][1])  # -1: the darkest blue
    assert tuple(pic[title_h + 2, x + 2 * (cell + gap) + 2]) == colour_rgb(SIGNED[-1][1])  # +1: dark red


def test_the_empty_live_picture_has_three_panels_over_the_planned_epochs():
    from cnnlib.plots import empty_live_picture

    pic = _png(empty_live_picture(20, 1200, 380))
    assert pic.shape == (380, 1200, 3)
    assert (pic != 255).any(axis=2).sum() > 2000  # axes, ticks and titles drawn
    assert not np.array_equal(pic, _png(empty_live_picture(3, 1200, 380)))  # the ticks follow the epochs
    assert _png(empty_live_picture(0, 600, 300)).shape == (300, 600, 3)  # no epochs yet: still drawn
