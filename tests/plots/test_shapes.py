"""cnnlib.plots.shapes: the stack chart draws what cnnlib.shapes computes (the sliding window's
picture is tests/plots/test_sliding.py's)."""

from __future__ import annotations

from cnnlib import plots as PS
from cnnlib.shapes import stack_shapes


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
