"""Tests for cnnlib.training.compare: "same run, but ..." gives two validated configs that differ in
exactly the one setting asked for, and a sentence naming it."""

from __future__ import annotations

import pytest
import torch

from cnnlib.training import ConfigError, TrainConfig, training_data
from cnnlib.training.compare import COMPARABLE, differences, same_run_but

# one valid new value per comparable setting (each differs from TrainConfig()'s default)
CHANGES = {
    "optimizer": ("sgd", "optimizer SGD instead of Adam"),
    "lr": (0.01, "learning rate 0.01 instead of 0.001"),
    "momentum": (0.5, "momentum 0.5 instead of 0.9"),
    "batch_size": (32, "batch size 32 instead of 64"),
    "epochs": (10, "epochs 10 instead of 5"),
    "weight_decay": (1e-4, "weight decay 0.0001 instead of 0"),
    "scheduler": ("cosine", "scheduler cosine instead of none"),
    "step_size": (2, "StepLR step size 2 instead of 5"),
    "gamma": (0.1, "StepLR gamma 0.1 instead of 0.5"),
    "label_smoothing": (0.1, "label smoothing 0.1 instead of 0"),
    "augment": (("shift", "rotate"), "augmentation rotate + shift instead of none"),
    "val_fraction": (0.2, "validation split 20% instead of 10%"),
    "train_size": (200, "training images 200 instead of all"),
    "label_noise": (1.0, "shuffled labels 100% instead of 0%"),
    "patience": (3, "early-stopping patience 3 instead of off"),
    "seed": (7, "seed 7 instead of 0"),
}


def test_every_comparable_setting_has_a_case():
    assert set(CHANGES) == set(COMPARABLE)


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_one_setting_changes_and_the_sentence_names_it(field):
    value, words = CHANGES[field]
    base = TrainConfig()
    before = base.to_dict()
    cmp = same_run_but(base, field, value, dataset_size=4000)
    assert differences(cmp.base, cmp.variant) == [field] and cmp.field == field
    assert cmp.description == f"same run, but {words}"
    assert field == "seed" or cmp.base.seed == cmp.variant.seed  # same start, same data order
    assert base.to_dict() == before and cmp.base is not base  # the caller's config untouched
    assert cmp.variant.validate(4000) is cmp.variant


def test_back_to_all_images_and_normalised_values():
    cmp = same_run_but(TrainConfig(train_size=200), "train_size", None)
    assert cmp.description == "same run, but training images all instead of 200"
    cmp = same_run_but(TrainConfig(), "optimizer", "AdamW")  # validation lower-cases it
    assert cmp.variant.optimizer == "adamw" and differences(cmp.base, cmp.variant) == ["optimizer"]


@pytest.mark.parametrize(
    "base, field, value, words",
    [
        (TrainConfig(), "lr", 0.001, "same learning rate (0.001)"),
        (TrainConfig(), "optimizer", "ADAM", "same optimizer (Adam)"),
        (TrainConfig(augment=("shift",)), "augment", ["shift", "shift"], "same augmentation (shift)"),
        (TrainConfig(), "train_size", None, "same training images (all)"),
        (TrainConfig(), "device", "cpu", "not a setting two runs can be compared on"),
        (TrainConfig(), "num_threads", 2, "not a setting"),
        (TrainConfig(), "colour", "red", "not a setting"),
        (TrainConfig(), "lr", -1.0, "must be above 0"),
        (TrainConfig(), "train_size", 5000, "at most 3,600"),
        (TrainConfig(), "label_noise", 2.0, "at most 1"),
    ],
)
def test_no_difference_or_a_bad_one_is_refused_with_the_field(base, field, value, words):
    with pytest.raises(ConfigError) as err:
        same_run_but(base, field, value, dataset_size=4000)
    assert err.value.field == field and words in err.value.message, err.value.message


def test_a_smaller_training_set_is_validated_on_the_same_images():
    labels = torch.arange(10).repeat(400)  # [4000]
    cmp = same_run_but(TrainConfig(), "train_size", 200, dataset_size=4000)
    runs = [training_data(labels, c, 10, torch.Generator().manual_seed(0)) for c in (cmp.base, cmp.variant)]
    assert torch.equal(runs[0].val_idx, runs[1].val_idx)
    assert len(runs[0].train_idx) == 3600 and len(runs[1].train_idx) == 200
