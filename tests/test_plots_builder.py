"""Tests for cnnlib.plots_builder: blocks follow the summary's shapes; the figure is well-formed."""

from __future__ import annotations

import plotly.graph_objects as go

from cnnlib import spec as S
from cnnlib.plots_builder import (
    block_geometry,
    group_blocks,
    network_diagram,
    network_diagram_dict,
    spec_diagram,
)
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


def test_unvalidated_figure_is_valid_plotly():
    """network_diagram skips plotly's validation for speed: validating the same dict changes nothing."""
    for name, spec in PRESETS.items():
        for variant in (spec, S.remove_layer(spec, len(spec.layers) - 3)):
            rows, err = S.summarize_partial(variant)
            args = (
                variant.input_shape,
                rows,
                err.layer_index if err else None,
                err.layer_type if err else None,
            )
            fig = network_diagram(*args)
            validated = go.Figure(network_diagram_dict(*args))  # raises on any invalid property
            assert validated.to_dict() == fig.to_dict(), name


def test_spec_diagram_matches_network_diagram():
    spec = PRESETS["LeNet-5"]
    assert (
        spec_diagram(spec.to_json(indent=None)).to_dict()
        == network_diagram(spec.input_shape, S.summarize(spec)).to_dict()
    )
    broken = S.set_layer_field(spec, 3, "out_channels", 32)  # Linear(400→120) now receives 800
    rows, err = S.summarize_partial(broken)
    fig = spec_diagram(broken.to_json(indent=None), height=300)
    assert fig.layout.height == 300 and fig.data[-1].name == "error"
    assert fig.to_dict() == network_diagram(broken.input_shape, rows, 7, "Linear", 300).to_dict()
    tiny_input = S.set_input_shape(spec, [1, 1, 1])  # the input itself is wrong: no blocks after it
    fig = spec_diagram(tiny_input.to_json())
    assert len(fig.data) == 3 and all(d.name != "error" for d in fig.data)
