"""Two runs side by side: "same run, but ..." changes one training setting and says which.

    cmp = same_run_but(TrainConfig(train_size=200), "weight_decay", 1e-4, dataset_size=4000)
    cmp.base, cmp.variant    # two validated TrainConfigs, equal but for weight_decay (same seed)
    cmp.description          # "same run, but weight decay 0.0001 instead of 0"

Both configs keep the base's seed, so both runs start from the same weights and see the same
images in the same order; only the one setting differs (`differences` checks it). The settings that
can differ are COMPARABLE (every learning setting, the seed included: "how much is luck?");
where a run trains (device, threads, time limit) is not a lesson and cannot be the difference.
Model changes (dropout, batch norm) are not TrainConfig settings: they belong to the model spec.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, fields
from typing import Any

from cnnlib.training.config import ConfigError, TrainConfig

__all__: list[str] = []


SETTING_NAMES = {  # field -> how a sentence names it
    "optimizer": "optimizer",
    "lr": "learning rate",
    "momentum": "momentum",
    "batch_size": "batch size",
    "epochs": "epochs",
    "weight_decay": "weight decay",
    "scheduler": "scheduler",
    "step_size": "StepLR step size",
    "gamma": "StepLR gamma",
    "label_smoothing": "label smoothing",
    "augment": "augmentation",
    "val_fraction": "validation split",
    "train_size": "training images",
    "label_noise": "shuffled labels",
    "patience": "early-stopping patience",
    "seed": "seed",
}
COMPARABLE = tuple(SETTING_NAMES)


@dataclass(frozen=True)
class Comparison:
    """A base run's settings and the same settings with one changed."""

    base: TrainConfig
    variant: TrainConfig
    field: str  # the TrainConfig field that differs
    description: str  # "same run, but <setting> <new> instead of <old>"


def format_setting(name: str, value: Any) -> str:
    """A setting's value as a sentence shows it: 0.0001, 50%, all, rotate + shift, none, Adam."""
    if name == "train_size":
        return "all" if value is None else f"{int(value):,}"
    if name in ("label_noise", "val_fraction"):
        return f"{float(value):.0%}"
    if name == "augment":
        return " + ".join(value) if value else "none"
    if name == "patience":
        return "off" if not value else str(value)
    if name == "optimizer":
        return {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}.get(value, str(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def differences(a: TrainConfig, b: TrainConfig) -> list[str]:
    """The TrainConfig fields whose values differ between `a` and `b`, in field order."""
    da, db = a.to_dict(), b.to_dict()
    return [f.name for f in fields(TrainConfig) if da[f.name] != db[f.name]]


def same_run_but(base: TrainConfig, field: str, value: Any, dataset_size: int | None = None) -> Comparison:
    """`base` and a copy with `field` set to `value`, both validated (against `dataset_size` images
    when given), and a sentence naming the one difference.

    ConfigError (with `.field`) when the setting cannot be compared, when the new value is not
    valid, or when it is the base's own value (after validation: 0.10 and 0.1 are the same).
    `base` itself is not changed.
    """
    if field not in COMPARABLE:
        names = ", ".join(COMPARABLE)
        raise ConfigError(
            f"{field!r} is not a setting two runs can be compared on: choose one of {names}.", field
        )
    base = copy.deepcopy(base).validate(dataset_size)
    variant = copy.deepcopy(base)
    setattr(variant, field, value)
    variant.validate(dataset_size)
    changed = differences(base, variant)
    name = SETTING_NAMES[field]
    if not changed:
        raise ConfigError(
            f"Both runs would have the same {name} ({format_setting(field, getattr(base, field))}): "
            "choose another value to compare.",
            field,
        )
    old, new = format_setting(field, getattr(base, field)), format_setting(field, getattr(variant, field))
    return Comparison(base, variant, field, f"same run, but {name} {new} instead of {old}")
