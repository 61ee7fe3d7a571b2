"""Every preset: PyTorch's parameter count and shapes equal the summary's; the seed models exactly."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlib import spec as S
from cnnlib.spec import DEFAULT_PRESET, PRESET_NOTES, PRESETS

EXPECTED_PARAMS = {
    "Digit CNN": 29_290,
    "TinyCNN": 23_560,
    "SimpleCNN": 26_138,
    "Minimal CNN": 7_890,
    "Three-block CNN": 156_074,
    "BatchNorm + Dropout CNN": 619_268,
    "LeNet-5": 61_706,
    "Small VGG": 814_122,
    "Small ResNet": 19_810,
}


def test_names_and_notes():
    assert {"TinyCNN", "SimpleCNN"} <= set(PRESETS)
    assert set(PRESETS) == set(PRESET_NOTES) == set(EXPECTED_PARAMS)
    assert DEFAULT_PRESET == "Digit CNN" == next(iter(PRESETS))  # the app's one model, first in every menu
    assert (
        "619,268" in PRESET_NOTES["BatchNorm + Dropout CNN"]
        and "540,000" in PRESET_NOTES["BatchNorm + Dropout CNN"]
    )


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_matches_torch(name):
    spec = PRESETS[name]
    model = S.build_model(spec).eval()
    n = sum(p.numel() for p in model.parameters())
    assert n == EXPECTED_PARAMS[name] == S.totals(spec).params
    assert f"{n:,}" in PRESET_NOTES[name]
    x = torch.zeros(1, *spec.input_shape)  # [1, C, H, W]
    with torch.no_grad():
        for row, child in zip(S.summarize(spec), model, strict=True):
            x = child(x)
            assert row.output_shape == tuple(x.shape[1:])
            assert row.params == sum(p.numel() for p in child.parameters())
    assert S.ModelSpec.from_json(spec.to_json()) == spec


def test_seed_models_layer_by_layer():
    """The seed tutorials' models, written the way the tutorials write them."""
    simple = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(392, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )
    tiny = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 28 * 28, 10))

    def blk(i, o):
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)]

    bn = nn.Sequential(
        *blk(3, 32),
        *blk(32, 64),
        *blk(64, 128),
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
        nn.Linear(2048, 256),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(256, 4),
    )
    digit = nn.Sequential(  # the bundled digit model (scripts/train_pretrained.py)
        *blk(1, 16), *blk(16, 32), *blk(32, 64), nn.Flatten(), nn.Dropout(0.3), nn.Linear(576, 10)
    )
    cases = [("SimpleCNN", simple), ("TinyCNN", tiny), ("BatchNorm + Dropout CNN", bn), ("Digit CNN", digit)]
    for name, ref in cases:
        built = S.build_model(PRESETS[name])
        assert [repr(m) for m in built] == [repr(m) for m in ref], name
        assert {k: v.shape for k, v in built.state_dict().items()} == {
            k: v.shape for k, v in ref.state_dict().items()
        }


def test_presets_adapt_to_common_datasets():
    for name, spec in PRESETS.items():
        for shape, classes in [((1, 28, 28), 10), ((3, 32, 32), 10), ((1, 28, 28), 4)]:
            adapted = S.adapt_to_dataset(spec, shape, classes)
            assert S.output_shape(adapted) == (classes,), name


def test_preset_label_names_a_preset_with_its_parameter_count():
    assert S.preset_label("Digit CNN") == "Digit CNN (29,290 parameters)"
    for name, spec in PRESETS.items():
        assert S.preset_label(name) == f"{name} ({S.format_count(S.totals(spec).params)} parameters)"
    with pytest.raises(KeyError):
        S.preset_label("No such model")
