"""cnnlib.plots.sliding: the shape calculator's sliding window as a PNG, and what each of its cells is."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from cnnlib.plots import colour_rgb, sliding, sliding_picture
from cnnlib.plots.sliding import CELL_CODE, CELLS, CURRENT_COLOUR, TAP_COLOUR, WINDOW, input_cells
from cnnlib.shapes import LayerSettings, single_layer, sliding_axis


def _png(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB"))  # [H, W, 3]


def _is(pic: np.ndarray, rgb: tuple[int, ...]) -> np.ndarray:
    return (pic == np.array(rgb)).all(axis=2)  # [H, W]


def _has(pic: np.ndarray, colour: str) -> bool:
    return bool(_is(pic, colour_rgb(colour)).any())


def _tapped(colour: str) -> tuple[int, ...]:
    """A cell's colour under a kernel tap (the tap is see-through)."""
    cell = Image.new("RGBA", (1, 1), (*colour_rgb(colour), 255))
    tap = Image.new("RGBA", (1, 1), (*colour_rgb(TAP_COLOUR), int(0.72 * 255)))
    return tuple(Image.alpha_composite(cell, tap).getpixel((0, 0)))[:3]


def _runs(xs: np.ndarray) -> list[tuple[int, int]]:
    """Runs of consecutive values in xs: (first, last) each."""
    xs = np.unique(xs)
    breaks = np.nonzero(np.diff(xs) > 1)[0]
    return list(zip(xs[np.r_[0, breaks + 1]].tolist(), xs[np.r_[breaks, len(xs) - 1]].tolist(), strict=True))


def _colours(*kinds: str) -> dict[str, str]:
    return {name: colour for name, colour, _ in CELLS if name in kinds}


def test_padding_and_input_cells_are_coded_differently_with_zeros_written_in_the_padding():
    r = single_layer(LayerSettings("Conv2d", 7, 3, 1, 1, 2))
    codes, text, hover = input_cells(r.rows, r.cols, set(r.uncovered_rows), set(r.uncovered_cols))
    assert codes.shape == text.shape == hover.shape == (9, 9)  # 7 + 2·1 padding
    assert codes[0, 0] == CELL_CODE["pad"] + 0.5 and codes[1, 1] == CELL_CODE["input"] + 0.5
    assert text[0, 0] == "0" and text[1, 1] == ""
    assert hover[1, 1] == "input row 0, column 0" and hover[0, 0] == "padding"
    colours = _colours("pad", "input")
    assert colours["pad"] != colours["input"]


def test_taps_follow_dilation_inside_the_dashed_window_and_both_grids_are_titled(monkeypatch):
    titles: list[str] = []
    real = sliding.centred_text
    monkeypatch.setattr(
        sliding, "centred_text", lambda d, xy, text, *a: titles.append(text) or real(d, xy, text, *a)
    )
    r = single_layer(LayerSettings("Conv2d", 7, 3, 1, 1, 2))
    pic = _png(sliding_picture(r.rows, r.cols, 0, 0, r.uncovered_rows, r.uncovered_cols, "Input 7×7"))
    assert titles == ["Input 7×7", "Output 5×5"]
    colours = _colours("pad", "input")
    grid = _is(pic, colour_rgb(colours["pad"])) | _is(pic, colour_rgb(colours["input"]))  # [H, W]
    taps = _is(pic, _tapped(colours["pad"])) | _is(pic, _tapped(colours["input"]))  # [H, W]
    grid |= taps
    top = np.nonzero(grid)[0].min()
    row = np.nonzero(grid[top + 5])[0]  # the first row of cells: padding all along
    left, pitch = row.min(), (row.max() - row.min() + 3) / 9  # 9 cells, the last one's gap cut
    above_legend = (np.arange(pic.shape[0]) < top + 9 * pitch)[:, None]  # [H, 1]
    taps &= above_legend
    for axis, start in ((1, left), (0, top)):  # dilation 2: taps on cells 0, 2 and 4, gaps between
        runs = _runs(np.nonzero(taps)[axis])
        centres = [(a + b) / 2 - start for a, b in runs]
        assert len(runs) == 3, runs
        assert all(abs(c - (k + 0.5) * pitch) < 3 for c, k in zip(centres, (0, 2, 4), strict=True)), runs
    window = _is(pic, WINDOW) & above_legend  # [H, W]
    wy, wx = np.nonzero(window)
    assert abs(wx.min() - left) <= 3 and abs(wx.max() + 1 - left - 5 * pitch) <= 4  # spans cells 0 to 4
    assert 0 < window[wy.min(), wx.min() : wx.max() + 1].sum() < wx.max() - wx.min()  # dashed


def test_ceil_mode_cells_beyond_the_input_are_visible_and_unread_cells_marked():
    r = single_layer(LayerSettings("MaxPool2d", 8, 3, None, 0, 1, ceil_mode=True))
    codes, _, _ = input_cells(r.rows, r.cols, set(), set())
    assert codes[8, 8] == CELL_CODE["off"] + 0.5
    off = _colours("off")["off"]
    assert off.lower() not in ("#ffffff", "white")  # not white on white
    assert _has(_png(sliding_picture(r.rows, r.cols, 2, 2)), off)
    r = single_layer(LayerSettings("Conv2d", 9, 2, 3, 0))
    codes, _, _ = input_cells(r.rows, r.cols, set(r.uncovered_rows), set(r.uncovered_cols))
    assert codes[2, 0] == CELL_CODE["unread"] + 0.5 and codes[0, 0] == CELL_CODE["input"] + 0.5


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
