"""cnnlib.plots.shapes: the sliding picture and the stack chart draw what cnnlib.shapes computes."""

from __future__ import annotations

import numpy as np

from cnnlib import plots as PS
from cnnlib.plots.shapes import CELL_CODE, CELLS, TAP_COLOUR
from cnnlib.shapes import LayerSettings, single_layer, stack_shapes


def _cells(fig) -> np.ndarray:
    """The input grid's cell codes (0.5 + index into CELLS)."""
    return np.asarray(fig.data[0].z)


def test_padding_and_input_cells_are_drawn_differently_and_taps_follow_dilation():
    r = single_layer(LayerSettings("Conv2d", 7, 3, 1, 1, 2))
    fig = PS.sliding_figure(r.rows, r.cols, 0, 0, r.uncovered_rows, r.uncovered_cols, "Input 7×7")
    codes = _cells(fig)
    assert codes.shape == (9, 9)  # 7 + 2·1 padding
    assert codes[0, 0] == CELL_CODE["pad"] + 0.5 and codes[1, 1] == CELL_CODE["input"] + 0.5
    assert fig.data[0].text[0][0] == "0" and fig.data[0].text[1][1] == ""  # zeros written in the padding
    taps = [s for s in fig.layout.shapes if s.fillcolor == TAP_COLOUR]
    assert sorted({s.x0 + 0.42 for s in taps}) == [0, 2, 4]  # dilation 2: gaps between the taps
    span = fig.layout.shapes[0]
    assert (span.x0, span.x1, span.line.dash) == (-0.5, 4.5, "dash")
    labels = [a.text for a in fig.layout.annotations]
    assert "<b>Input 7×7</b>" in labels and "<b>Output 5×5</b>" in labels
    colours = dict((name, colour) for name, colour, _ in CELLS)
    assert colours["pad"] != colours["input"]


def test_ceil_mode_cells_beyond_the_input_are_visible_and_unread_cells_marked():
    r = single_layer(LayerSettings("MaxPool2d", 8, 3, None, 0, 1, ceil_mode=True))
    fig = PS.sliding_figure(r.rows, r.cols, 2, 2)
    assert _cells(fig)[8, 8] == CELL_CODE["off"] + 0.5
    colours = dict((name, colour) for name, colour, _ in CELLS)
    assert colours["off"].lower() not in ("#ffffff", "white", fig.layout.plot_bgcolor)  # not white on white
    r = single_layer(LayerSettings("Conv2d", 9, 2, 3, 0))
    fig = PS.sliding_figure(r.rows, r.cols, 0, 0, r.uncovered_rows, r.uncovered_cols)
    assert _cells(fig)[2, 0] == CELL_CODE["unread"] + 0.5 and _cells(fig)[0, 0] == CELL_CODE["input"] + 0.5


def test_stack_chart_has_sizes_receptive_field_jump_and_the_refused_layer():
    layers = [
        {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Conv2d", "out_channels": 8, "kernel_size": 5},
        {"type": "MaxPool2d", "kernel_size": 2},
    ]
    fig = PS.stack_figure(stack_shapes((1, 28, 28), layers))
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["feature map size"].y) == [28, 28, 14, 10, 5]
    assert list(by_name["receptive field"].y) == [1, 3, 4, 12, 14]
    assert list(by_name["jump (effective stride)"].y) == [1, 1, 2, 2, 4]
    assert fig.layout.xaxis.tickfont.size >= 14 and fig.layout.legend.font.size >= 14
    refused = PS.stack_figure(stack_shapes((1, 3, 28), layers))
    assert "layer PyTorch refuses" in [t.name for t in refused.data]
