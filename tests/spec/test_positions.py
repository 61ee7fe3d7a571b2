"""cnnlib.spec.edit: where the Model builder offers to add a layer, in words that count from 1."""

from __future__ import annotations

from cnnlib import spec as S
from cnnlib.spec import PRESETS


def test_positions_default_after_the_edited_layer_and_words_count_from_one():
    spec = PRESETS["SimpleCNN"]  # Conv2d, ReLU, MaxPool2d, Conv2d, ReLU, MaxPool2d, Flatten, Linear, ...
    n = len(spec.layers)
    assert S.insert_positions(n) == list(range(n + 1))
    assert S.default_position(n, 6) == 7 and S.default_position(n, 99) == n and S.default_position(0, 3) == 0
    assert S.position_label(spec, 7, 6) == "after layer 7 (Flatten), the one you edit"
    assert S.position_label(spec, 6, 6) == "before layer 7 (Flatten), the one you edit"
    assert S.position_label(spec, 0, 6) == "before layer 1 (Conv2d)"
    assert S.position_label(spec, n, 6) == f"at the end (after layer {n}, {spec.layers[-1].type})"
    assert S.position_label(spec, n, n - 1).endswith("the one you edit, at the end")
    assert S.position_label(S.ModelSpec((1, 28, 28)), 0, 0) == "as the first layer"
    added = S.add_layer(spec, "Dropout", S.default_position(n, 6))
    assert added.layers[7].type == "Dropout" and added.layers[6].type == "Flatten"
