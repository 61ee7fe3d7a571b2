"""A training run's settings: `TrainConfig` (every hyperparameter, validated) and `ConfigError`.

    cfg = TrainConfig(optimizer="sgd", lr=0.05, epochs=3).validate(dataset_size=800)

`validate` refuses, with a message a student can act on and `.field` naming the setting, anything
that cannot train (an unknown optimizer, a learning rate of 0, a batch bigger than the data, a GPU
the server lacks, ...). Also the allowed choices and limits, and the default classroom demo
(DEMO_DATASET, DEMO_SPEC, DEFAULT_DEMO). cnnlib.training re-exports TrainConfig, ConfigError and
the demo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch

from cnnlib.spec import DIGIT_CNN, PRESETS

__all__ = ["MIN_TRAIN_SIZE", "ConfigError", "TrainConfig", "DEMO_DATASET", "DEMO_SPEC", "DEFAULT_DEMO"]


OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("none", "step", "cosine", "onecycle")
AUGMENTATIONS = ("rotate", "shift", "flip", "color")
DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_LR = 1e6  # all up to this trains: a far too high rate is a lesson (the loss blows up, the run says why)
TYPICAL_LR = {"sgd": 0.05, "adam": 0.001, "adamw": 0.001}
MAX_EPOCHS = 500
MAX_BATCH_SIZE = 4096
MIN_TRAIN_SIZE = 20  # a smaller training set (TrainConfig.train_size) has at least this many images
MAX_TRAIN_SIZE = 10_000_000


class ConfigError(ValueError):
    """A setting that cannot work; `.field` names the TrainConfig field (or "model"/"dataset")."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class TrainConfig:
    """Every hyperparameter of a training run. `validate(n)` checks it against a dataset of n images.

    The defaults are a sound start for small CNNs (Adam, lr 0.001, batch 64).
    """

    optimizer: str = "adam"  # "sgd" (with momentum), "adam", "adamw"
    lr: float = 1e-3
    momentum: float = 0.9  # SGD only
    batch_size: int = 64
    epochs: int = 5
    weight_decay: float = 0.0
    scheduler: str = "none"  # "none", "step", "cosine", "onecycle"
    step_size: int = 5  # StepLR: multiply lr by gamma every step_size epochs
    gamma: float = 0.5
    label_smoothing: float = 0.0
    augment: tuple[str, ...] = ()  # any of "rotate", "shift", "flip", "color"
    val_fraction: float = 0.1  # share of the training images held out for validation
    train_size: int | None = None  # train on this many of the images left after the split; None: all
    label_noise: float = 0.0  # share of the training labels replaced by a uniformly drawn class
    patience: int = 0  # early stopping: epochs without a better val loss before stopping; 0 = off
    seed: int = 0
    device: str = "auto"  # "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "mps"
    max_seconds: float | None = None  # wall-time cap (the server's own cap applies too)
    num_threads: int | None = None  # torch threads for this run; None: cores / concurrent runs

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["augment"] = list(self.augment)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        unknown = [k for k in d if k not in names]
        if unknown:
            raise ConfigError(f"Unknown training setting {unknown[0]!r}.", unknown[0])
        cfg = cls(**d)
        cfg.augment = tuple(cfg.augment) if isinstance(cfg.augment, (list, tuple)) else cfg.augment
        return cfg

    def train_val_sizes(self, dataset_size: int, subset: bool = True) -> tuple[int, int]:
        """(training images, validation images) after holding out `val_fraction`, and keeping
        `train_size` of the rest when it is set (and `subset`) and smaller than what is left.

        The validation split does not depend on `train_size`: fewer training images are measured
        on the same validation images (cnnlib.training.selection)."""
        n_val = round(dataset_size * float(self.val_fraction)) if self.val_fraction else 0
        if self.val_fraction and dataset_size >= 2:
            n_val = min(max(n_val, 1), dataset_size - 1)
        n_train = dataset_size - n_val
        if subset and self.train_size is not None:
            n_train = min(n_train, int(self.train_size))
        return n_train, n_val

    def validate(self, dataset_size: int | None = None) -> TrainConfig:
        """Raise ConfigError (with `.field`) for any setting that cannot work; return self if all good.

        `dataset_size` is the number of training images before the validation split.
        """
        self._check_optimization()
        self._check_augment()
        self._check_data_settings()
        self._check_run_settings()
        if dataset_size is not None:
            self._check_dataset_size(dataset_size)
        return self

    def _number(self, name: str, lo: float, hi: float, *, lo_open: bool = False, hint: str = "") -> float:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{_LABELS[name]} must be a number, got {value!r}.", name)
        if value < lo or (lo_open and value == lo) or value > hi:
            low = f"above {lo:g}" if lo_open else f"at least {lo:g}"
            raise ConfigError(f"{_LABELS[name]} must be {low} and at most {hi:g}, got {value:g}.{hint}", name)
        return float(value)

    def _whole(self, name: str, lo: int, hi: int, hint: str = "") -> int:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
                setattr(self, name, value)
            else:
                raise ConfigError(f"{_LABELS[name]} must be a whole number, got {value!r}.", name)
        if not lo <= value <= hi:
            raise ConfigError(f"{_LABELS[name]} must be from {lo:,} to {hi:,}, got {value:,}.{hint}", name)
        return int(value)

    def _choice(self, name: str, options: Sequence[str]) -> None:
        value = getattr(self, name)
        if not isinstance(value, str) or value.lower() not in options:
            raise ConfigError(f"{_LABELS[name]} must be one of {', '.join(options)}, got {value!r}.", name)
        setattr(self, name, value.lower())

    def _check_optimization(self) -> None:
        """Optimizer, learning rate and its schedule, epochs, batch size, regularisation."""
        self._choice("optimizer", OPTIMIZERS)
        lr = self.lr
        if isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and lr <= 0:
            raise ConfigError(
                f"The learning rate must be above 0 (got {lr:g}): with 0 the weights never change, and a "
                "negative one climbs the loss instead of descending it. Try 0.001 for Adam or 0.05 for SGD.",
                "lr",
            )
        typical = " Typical values: 0.001 for Adam, 0.01 to 0.1 for SGD."
        self._number("lr", 0.0, MAX_LR, lo_open=True, hint=typical)
        self._number("momentum", 0.0, 0.999)
        self._whole("epochs", 1, MAX_EPOCHS)
        self._whole("batch_size", 1, MAX_BATCH_SIZE)
        self._number("weight_decay", 0.0, 1.0)
        self._choice("scheduler", SCHEDULERS)
        self._whole("step_size", 1, MAX_EPOCHS)
        self._number("gamma", 0.0, 1.0, lo_open=True)
        self._number("label_smoothing", 0.0, 0.9)

    def _check_augment(self) -> None:
        """Augmentation: a known subset, kept as a tuple in AUGMENTATIONS' order."""
        if isinstance(self.augment, str):
            self.augment = (self.augment,) if self.augment else ()
        if not isinstance(self.augment, (list, tuple, set, frozenset)):
            raise ConfigError(f"Augmentation must be a list of {', '.join(AUGMENTATIONS)}.", "augment")
        bad = [a for a in self.augment if a not in AUGMENTATIONS]
        if bad:
            raise ConfigError(
                f"Unknown augmentation {bad[0]!r}: choose from {', '.join(AUGMENTATIONS)}.", "augment"
            )
        self.augment = tuple(a for a in AUGMENTATIONS if a in self.augment)  # canonical order, no repeats

    def _check_data_settings(self) -> None:
        """Validation split, training images, shuffled labels and early stopping."""
        self._number("val_fraction", 0.0, 0.5, hint=" 0.1 (10%) is typical.")
        if self.train_size is not None:
            size = self.train_size
            if isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size < MIN_TRAIN_SIZE:
                raise ConfigError(
                    f"{_LABELS['train_size']} must be at least {MIN_TRAIN_SIZE}, got {size:,}, "
                    "or no limit to train on all of them.",
                    "train_size",
                )
            self._whole("train_size", MIN_TRAIN_SIZE, MAX_TRAIN_SIZE, hint=" Or no limit: all of them.")
        self._number("label_noise", 0.0, 1.0, hint=" 0 keeps every label; 1 replaces all of them.")
        self._whole("patience", 0, MAX_EPOCHS)
        if self.patience and not self.val_fraction:
            raise ConfigError(
                "Early stopping watches the validation loss: set a validation split above 0, or patience to 0.",
                "patience",
            )

    def _check_run_settings(self) -> None:
        """Seed, device (one this server has), time cap and threads."""
        self._whole("seed", 0, 2**31 - 1)
        self._choice("device", DEVICES)
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError(
                "CUDA (an NVIDIA GPU) is not available on this server: choose auto or cpu.", "device"
            )
        mps = getattr(torch.backends, "mps", None)
        if self.device == "mps" and not (mps is not None and mps.is_available()):
            raise ConfigError(
                "MPS (an Apple GPU) is not available on this server: choose auto or cpu.", "device"
            )
        if self.max_seconds is not None:
            self._number("max_seconds", 0.0, 7 * 24 * 3600, lo_open=True)
        if self.num_threads is not None:
            self._whole("num_threads", 1, 256)

    def _check_dataset_size(self, dataset_size: int) -> None:
        """Enough images for the training images asked for, a validation split and one batch."""
        available, n_val = self.train_val_sizes(int(dataset_size), subset=False)
        if self.train_size is not None and self.train_size > available:
            raise ConfigError(
                f"{_LABELS['train_size']} must be at most {available:,}: the dataset has "
                f"{available:,} training image(s)"
                + (f" after holding out {n_val:,} for validation" if n_val else "")
                + f", got {self.train_size:,}. Or no limit: all of them.",
                "train_size",
            )
        n_train, n_val = self.train_val_sizes(int(dataset_size))
        if n_train < 1 or (self.val_fraction and n_val < 1):
            raise ConfigError(
                f"The dataset has only {dataset_size} training image(s): too few to train"
                + (" and validate" if self.val_fraction else "")
                + ".",
                "val_fraction" if self.val_fraction else "dataset",
            )
        if self.batch_size > n_train:
            raise ConfigError(
                f"Batch size {self.batch_size:,} is larger than the {n_train:,} training images"
                + (f" (after holding out {n_val:,} for validation)" if n_val else "")
                + f": choose at most {n_train:,}.",
                "batch_size",
            )


_LABELS = {
    "lr": "The learning rate",
    "momentum": "Momentum",
    "batch_size": "The batch size",
    "epochs": "The number of epochs",
    "weight_decay": "Weight decay",
    "scheduler": "The scheduler",
    "step_size": "The StepLR step size",
    "gamma": "The StepLR gamma",
    "label_smoothing": "Label smoothing",
    "val_fraction": "The validation fraction",
    "train_size": "The number of training images",
    "label_noise": "The share of shuffled labels",
    "patience": "Patience",
    "seed": "The seed",
    "device": "The device",
    "optimizer": "The optimizer",
    "max_seconds": "The time limit",
    "num_threads": "The number of threads",
}


# ----------------------------------------------------------------------------------------------
# The default classroom demo
# ----------------------------------------------------------------------------------------------

DEMO_DATASET = "mnist-sample"
DEMO_SPEC: dict[str, Any] = PRESETS[DIGIT_CNN].to_dict()
"""The demo trains the Digit CNN (29,290 parameters), the bundled digit model's architecture: the model
the Model builder, the slow-motion step, the Shape calculator and Draw & predict start from."""
DEFAULT_DEMO = TrainConfig(optimizer="adam", lr=2e-3, batch_size=64, epochs=6, scheduler="onecycle")
"""6 epochs, not the earlier demo's 10: an epoch of the Digit CNN costs about 1.8x the CPU of the earlier
105,866-parameter Demo CNN's (three convolutions, BatchNorm), so 6 epochs take what 10 did (13-15
CPU-seconds) and reach 97.2-97.8 % test accuracy on 3 seeds (README, "Speed")."""
