"""The Model builder's diagram draws a Residual block's skip connection (issue 26): a band with an
arrowhead from the block before it into the block, in the figure and in its PNG picture."""

from __future__ import annotations

import json

import plotly.graph_objects as go

from cnnlib.plots.builder import COLORS, network_diagram_dict
from cnnlib.spec import PRESETS, ModelSpec, summarize, summarize_partial


def skips(fig: dict) -> list[dict]:
    return [t for t in fig["data"] if t["name"] == "skip"]


def test_each_block_gets_one_skip_into_it():
    spec = PRESETS["Small ResNet"]
    fig = network_diagram_dict(spec.input_shape, summarize(spec))
    drawn = skips(fig)
    assert len(drawn) == 2 * 3  # a band and an arrowhead for each of the three blocks
    assert [t["text"] for t in drawn[::2]] == [
        f"skip connection: the input of layer {n} is added to its output" for n in (4, 6, 8)
    ]
    assert all(t["fillcolor"] == COLORS["Residual"] for t in drawn)
    go.Figure(fig)  # valid Plotly, property by property
    for band, head in zip(drawn[::2], drawn[1::2], strict=True):
        assert min(head["y"]) < band["y"][3]  # the arrowhead points down, below where the band lands
        assert band["x"][0] < band["x"][2]  # left to right: from the block before to the block


def test_two_skips_in_a_row_stay_apart_and_plain_models_have_none():
    spec = PRESETS["Small ResNet"]
    drawn = skips(network_diagram_dict(spec.input_shape, summarize(spec)))
    arrive, leave = max(drawn[0]["x"]), min(drawn[2]["x"])  # into block 2, out of it to block 3
    assert leave > arrive  # not one shared vertical line
    plain = PRESETS["SimpleCNN"]
    assert skips(network_diagram_dict(plain.input_shape, summarize(plain))) == []


def test_a_broken_block_is_drawn_as_the_error_marker_only():
    bad = {
        "input_shape": [1, 10, 10],
        "layers": [{"type": "Residual", "layers": [{"type": "Conv2d", "out_channels": 2, "kernel_size": 3}]}],
    }
    spec = ModelSpec.from_dict(bad)
    rows, err = summarize_partial(spec)
    assert err is not None and "cannot match" in err.message
    fig = network_diagram_dict(spec.input_shape, rows, err.layer_index, err.layer_type)
    assert skips(fig) == [] and any(t["name"] == "error" for t in fig["data"])
    assert json.dumps(fig)
