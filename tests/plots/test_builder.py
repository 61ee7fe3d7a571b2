"""Tests for cnnlib.plots.builder: blocks follow the summary's shapes; the figure is well-formed."""

from __future__ import annotations

import plotly.graph_objects as go

from cnnlib import spec as S
from cnnlib.plots import spec_diagram
from cnnlib.plots.builder import (
    REF_WIDTH_PX,
    block_geometry,
    group_blocks,
    label_rows,
    label_width_px,
    network_diagram,
    network_diagram_dict,
    thin_labels,
)
from cnnlib.spec import PRESETS


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
    assert any("Linear 14<br>breaks here" in a.text for a in fig.layout.annotations)  # counted from 1
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


def _overlaps(fig: go.Figure) -> list[tuple[str, str]]:
    """Pairs of labels in the same row (same anchor and shift) that overlap on a REF_WIDTH_PX-wide plot."""
    lo, hi = fig.layout.xaxis.range
    px = REF_WIDTH_PX / (hi - lo)
    rows: dict = {}
    for a in fig.layout.annotations:
        if a.yanchor in ("top", "bottom"):
            rows.setdefault((a.yanchor, a.yshift), []).append(a)
    bad = []
    for row in rows.values():
        row.sort(key=lambda a: a.x)
        for a, b in zip(row, row[1:], strict=False):
            half = (label_width_px(a.text, a.font.size) + label_width_px(b.text, b.font.size)) / 2
            if (b.x - a.x) * px < half:
                bad.append((a.text, b.text))
    return bad


def test_labels_never_overlap_and_stay_readable():
    deep = S.ModelSpec.from_dict(
        {
            "input_shape": [3, 64, 64],
            "layers": [
                {"type": "Conv2d", "out_channels": 16 * (1 + i // 6), "kernel_size": 3, "padding": 1}
                if i % 2 == 0
                else {"type": "MaxPool2d", "kernel_size": 2}
                if i % 6 == 5
                else {"type": "BatchNorm2d"}
                for i in range(24)
            ]
            + [{"type": "Flatten"}, {"type": "Linear", "out_features": 10}],
        }
    )
    for name, spec in [*PRESETS.items(), ("deep", deep)]:
        rows, err = S.summarize_partial(spec)
        assert err is None, name
        fig = network_diagram(spec.input_shape, rows)
        assert not _overlaps(fig), name
        fonts = {a.font.size for a in fig.layout.annotations}
        assert min(fonts) >= (11 if name == "deep" else 14), (name, fonts)
    simple = network_diagram((1, 28, 28), S.summarize(PRESETS["SimpleCNN"]))
    assert {a.yshift for a in simple.layout.annotations} == {0}  # 8 blocks fit in one row
    vgg = network_diagram((3, 32, 32), S.summarize(PRESETS["Small VGG"]))
    assert len({a.yshift for a in vgg.layout.annotations if a.yanchor == "top"}) == 2  # two rows


def test_label_rows():
    assert label_rows([0, 100, 200], [50, 50, 50]) == [0, 0, 0]
    assert label_rows([0, 50, 100], [60, 60, 60]) == [0, 1, 0]
    assert label_rows([0, 10, 20], [60, 60, 60]) == [0, 1, 2]
    assert label_rows([0, 10, 20], [60, 60, 60], max_rows=2) is None
    assert thin_labels([0, 10, 20, 30, 40], [60] * 5, max_rows=1) == [None, None, None, None, 0]
    assert thin_labels([0, 40, 80, 120], [60] * 4, max_rows=1) == [None, 0, None, 0]
