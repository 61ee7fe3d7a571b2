"""Tests for cnnlib.plots_builder: blocks follow the summary's shapes; the figure is well-formed."""

from __future__ import annotations

import plotly.graph_objects as go

from cnnlib import spec as S
from cnnlib.plots_builder import block_geometry, group_blocks, network_diagram
from cnnlib.presets import PRESETS


def test_blocks_group_shape_keeping_layers():
    spec = PRESETS["SimpleCNN"]
    blocks = group_blocks(spec.input_shape, S.summarize(spec))
    assert [b.shape for b in blocks] == [
        (1, 28, 28),
        (4, 28, 28),
        (4, 14, 14),
        (8, 14, 14),
        (8, 7, 7),
        (392,),
        (64,),
        (10,),
    ]
    assert blocks[1].names == ["Conv 3x3", "ReLU"] and blocks[1].indices == [0, 1]
    assert sum(b.params for b in blocks) == 26_138
    # every layer is in exactly one block
    assert sorted(i for b in blocks for i in b.indices) == list(range(len(spec.layers)))


def test_geometry_follows_height_and_channels():
    spec = PRESETS["Small VGG"]
    blocks = group_blocks(spec.input_shape, S.summarize(spec))
    geo = block_geometry(blocks)
    maps = [(b.shape, g) for b, g in zip(blocks, geo, strict=True) if len(b.shape) == 3]
    for (s1, g1), (s2, g2) in zip(maps, maps[1:], strict=False):
        if s2[1] < s1[1]:
            assert g2[0] < g1[0]  # smaller map, shorter block
        if s2[0] > s1[0]:
            assert g2[2] > g1[2]  # more channels, thicker block


def test_diagram_figure_and_error_marker():
    spec = PRESETS["BatchNorm + Dropout CNN"]
    rows = S.summarize(spec)
    fig = network_diagram(spec.input_shape, rows)
    assert isinstance(fig, go.Figure)
    n_blocks = len(group_blocks(spec.input_shape, rows))
    assert len(fig.data) == 3 * n_blocks  # three faces per block
    texts = [a.text for a in fig.layout.annotations]
    assert "<b>128 × 4 × 4</b>" in texts and "<b>4</b>" in texts
    broken = S.remove_layer(spec, 13)  # no Flatten: the Linear breaks
    rows, err = S.summarize_partial(broken)
    fig = network_diagram(broken.input_shape, rows, err.layer_index, err.layer_type)
    assert fig.data[-1].name == "error"
    assert any("Linear 13<br>breaks here" in a.text for a in fig.layout.annotations)
    empty = network_diagram((1, 28, 28), [])
    assert len(empty.data) == 3
