"""cnnlib.shapes.stack: layers named as students count them, and each layer's fate in a stack."""

from __future__ import annotations

from cnnlib.shapes import layer_settings, layer_status, layer_title, stack_shapes

LAYERS = [
    {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
    {"type": "MaxPool2d", "kernel_size": 2},
    {"type": "Conv2d", "out_channels": 8, "kernel_size": 5},
    {"type": "ReLU"},
]


def test_layer_title_counts_from_one_with_its_settings():
    assert layer_title(1, LAYERS[1]) == "2 · MaxPool2d 2×2"
    assert layer_title(0, LAYERS[0]) == "1 · Conv2d 3×3 → 8 ch p=1"
    assert layer_title(3, LAYERS[3]) == "4 · ReLU"
    assert layer_settings({"type": "MaxPool2d", "kernel_size": [1, 2, 3]}) == ""  # unreadable: no crash


def test_layer_status_marks_the_refused_layer_and_those_after_it():
    ok = stack_shapes((1, 28, 28), LAYERS)
    assert layer_status(ok, len(LAYERS)) == ["ok"] * 4
    bad = stack_shapes((1, 6, 6), LAYERS)  # 6 -> 6 -> 3: a 5×5 kernel without padding is refused
    assert bad.error is not None and bad.error.layer_index == 2 and len(bad.rows) == 2
    assert layer_status(bad, len(LAYERS)) == ["ok", "ok", "refused", "not reached"]
