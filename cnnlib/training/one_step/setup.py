"""What a slow-motion step runs on: the DataLoader's first batch, and a SlowStep built for the app.

`first_batch` shows what a DataLoader's batch size and shuffle change: the first batch it yields.
`setup_slow_step` builds the session's model spec (seeded, adapted to the dataset when needed),
takes that batch from a DatasetBundle, normalises it and wraps it all in a `SlowStep`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset

from cnnlib.training.one_step.run import SlowStep
from cnnlib.training.one_step.settings import OptimizerSettings, StepError, WeightRef

__all__ = ["first_batch", "setup_slow_step"]


@dataclass
class BatchView:
    """The first batch a DataLoader yields for a batch size, shuffle flag and seed."""

    images: torch.Tensor  # [B, C, H, W] as stored (uint8 pixels)
    labels: torch.Tensor  # [B] int64
    indices: torch.Tensor  # [B] positions in the dataset
    batch_size: int
    shuffle: bool
    seed: int
    dataset_size: int

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape)

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(self.dataset_size / self.batch_size)

    @property
    def last_batch_size(self) -> int:
        rest = self.dataset_size % self.batch_size
        return rest if rest else self.batch_size

    def label_counts(self, num_classes: int) -> list[int]:
        """How many images of each class the batch holds."""
        return torch.bincount(self.labels, minlength=num_classes).tolist()


def first_batch(
    images: torch.Tensor, labels: torch.Tensor, batch_size: int, shuffle: bool = True, seed: int = 0
) -> BatchView:
    """The first batch of `DataLoader(TensorDataset(...), batch_size, shuffle, generator=seed)`.

    images: [N, C, H, W]; labels: [N]. Without shuffle the batch is always the first `batch_size`
    images; with it, a seeded random draw (the same seed gives the same batch).
    """
    if images.ndim != 4:
        raise StepError(f"Images must be shaped [N, C, H, W]; got {list(images.shape)}.")
    n = int(images.shape[0])
    if n == 0:
        raise StepError("The dataset is empty: there is no batch to show.")
    if labels.shape != (n,):
        raise StepError(f"Expected {n} labels shaped [{n}], got {list(labels.shape)}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise StepError(f"The batch size must be a whole number ≥ 1 (got {batch_size!r}).")
    generator = torch.Generator().manual_seed(int(seed))
    loader = DataLoader(
        TensorDataset(torch.arange(n)), batch_size=batch_size, shuffle=shuffle, generator=generator
    )
    (indices,) = next(iter(loader))  # [B]
    return BatchView(
        images=images[indices],
        labels=labels[indices].long(),
        indices=indices,
        batch_size=batch_size,
        shuffle=bool(shuffle),
        seed=int(seed),
        dataset_size=n,
    )


@dataclass
class SlowStepSetup:
    """A SlowStep built from a model spec and a dataset, with the batch it steps on."""

    slow: SlowStep
    batch: BatchView
    spec: Any  # the ModelSpec actually built (adapted to the dataset when needed)
    adapted: bool  # True: the spec's input shape or class count was changed to fit the dataset
    classes: list[str]


def setup_slow_step(
    spec: Any,
    bundle: Any,
    batch_size: int = 16,
    shuffle: bool = True,
    seed: int = 0,
    settings: OptimizerSettings | None = None,
    weight: WeightRef | None = None,
    n_show: int = 4,
    max_bytes: int | None = None,
) -> SlowStepSetup:
    """Build the model (seeded init) and the DataLoader's first batch, and wrap them in a SlowStep.

    spec: a ModelSpec, its dict, or None (the default preset). bundle: a cnnlib.data.DatasetBundle.
    A spec made for other images or another number of classes is adapted to the dataset; one that
    cannot be raises StepError with the reason, and so does one whose step would take more than
    `max_bytes` of memory (default `cnnlib.spec.MAX_SERVER_WORK_BYTES`), before anything is built.
    """
    from cnnlib.data import normalize
    from cnnlib.spec import (
        DEFAULT_PRESET,
        MAX_SERVER_WORK_BYTES,
        PRESETS,
        MemoryBudgetError,
        ModelSpec,
        SpecError,
        adapt_to_dataset,
        build_model,
        check_memory,
    )

    max_bytes = MAX_SERVER_WORK_BYTES if max_bytes is None else int(max_bytes)
    try:
        if spec is None:
            spec = PRESETS[DEFAULT_PRESET]
        elif isinstance(spec, dict):
            spec = ModelSpec.from_dict(spec)
        fitted = adapt_to_dataset(spec, bundle.input_shape, len(bundle.classes))
        adapted = fitted.to_dict() != spec.to_dict()
        # Priced on the meta device before anything is built: this step runs in the web server.
        check_memory(fitted, batch_size, budget=max_bytes, training=True, what="One step in slow motion")
        with torch.random.fork_rng(devices=[]):  # seeded init, others' RNG untouched
            torch.manual_seed(int(seed))
            model = build_model(fitted)
    except MemoryBudgetError as exc:
        raise StepError(str(exc)) from None
    except SpecError as exc:
        raise StepError(f"The session's model does not fit the {bundle.name} images: {exc}") from exc
    batch = first_batch(bundle.train_images, bundle.train_labels, batch_size, shuffle, seed)
    x = normalize(batch.images, bundle)  # [B, C, H, W] float
    slow = SlowStep(
        model, x, batch.labels, settings or OptimizerSettings(), weight=weight, n_show=n_show, seed=seed
    )
    return SlowStepSetup(slow, batch, fitted, adapted, list(bundle.classes))
