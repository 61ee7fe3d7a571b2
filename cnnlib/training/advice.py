"""Advice for a student after a run: what went wrong and what to try next, as sentences.

Pure functions (no training happens here): smaller_lr (a rate to try after one blew up),
divergence_message (the loss became NaN or exploded), chance_accuracy and guessing_note (a model
no better than guessing, and the likely cause), friendly_error (an exception in words) and
adaptation_notes (what adapting a model spec to a dataset changed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from cnnlib.training.config import TYPICAL_LR, TrainConfig

__all__ = ["chance_accuracy", "guessing_note", "adaptation_notes"]


def smaller_lr(lr: float, optimizer: str) -> float:
    """A learning rate to try after `lr` blew up: a tenth of it, or the optimizer's typical value if
    a tenth is still far above that (1e6 -> 0.001 for Adam, not 1e5)."""
    typical = TYPICAL_LR.get(optimizer, 0.001)
    return lr / 10 if lr / 10 <= 2 * typical else typical


def chance_accuracy(labels: torch.Tensor) -> float:
    """The accuracy of always answering the most common class of `labels` [N] (0 for no labels)."""
    if labels.numel() == 0:
        return 0.0
    return float(torch.bincount(labels).max()) / labels.numel()


def divergence_message(
    loss: float, first_loss: float, epoch: int, batch: int, lr_at_batch: float, cfg: TrainConfig
) -> str:
    """Why a run failed when its loss became NaN, infinite or exploded, and the rate to try instead.

    `epoch` and `batch` are 0-based; `lr_at_batch` is the learning rate at the batch that blew up.
    """
    if math.isnan(loss):
        what = "became NaN (not a number)"
    elif math.isinf(loss):
        what = "became infinite"
    else:
        what = f"exploded to {loss:,.0f} (it started at {first_loss:.3g})"
    lr = f"{cfg.lr:g}"
    if cfg.scheduler != "none" and not math.isclose(lr_at_batch, cfg.lr, rel_tol=1e-6):
        lr += f"; {lr_at_batch:.3g} at that batch, as the {cfg.scheduler} scheduler set it"
    return (
        f"The loss {what} in epoch {epoch + 1}, batch {batch + 1}: the learning rate "
        f"({lr}) is most likely too high, so the weights blew up. Train again with a smaller "
        f"learning rate (try {smaller_lr(cfg.lr, cfg.optimizer):g})."
    )


def guessing_note(
    test_acc: float,
    chance: float,
    cfg: TrainConfig,
    batch_loss: Sequence[float],
    steps: int,
    steps_per_epoch: int,
) -> str:
    """A sentence for a run whose test accuracy is no better than guessing (else ""), with the likely cause.

    `batch_loss` is the run's per-batch loss history: a loss that jumped far above its start points
    at a learning rate too high (the weights were thrown where ReLUs never fire, and stay there).
    """
    if test_acc > chance + 0.02:
        return ""
    note = (
        f" That is no better than guessing (always answering the most common class scores {chance:.0%}): "
        "the network has not learned anything useful."
    )
    losses = [v for v in batch_loss if math.isfinite(v)]
    if cfg.label_noise:
        return note + (
            f" {cfg.label_noise:.0%} of its training labels were replaced by random ones: what it"
            " learned from them (compare its training accuracy) does not carry over to new images."
        )
    if steps < steps_per_epoch:
        return note + " It trained for less than one epoch: let it run longer."
    if losses and max(losses) > 3 * losses[0]:
        return note + (
            f" The loss jumped far above where it started: the learning rate ({cfg.lr:g}) is most likely "
            f"too high. Try {smaller_lr(cfg.lr, cfg.optimizer):g}."
        )
    return note + (
        f" Try a learning rate near {TYPICAL_LR.get(cfg.optimizer, 0.001):g} for this optimizer, more "
        "epochs, or a bigger model."
    )


def adaptation_notes(original: Any, adapted: Any) -> list[str]:
    """What `cnnlib.spec.adapt_to_dataset` changed in a model spec, one sentence each (for the page).

    Compares the input shape and the last Linear layer's out_features (the class count).
    """
    a = original.to_dict() if hasattr(original, "to_dict") else dict(original)
    b = adapted.to_dict() if hasattr(adapted, "to_dict") else dict(adapted)
    notes = []
    if list(a.get("input_shape", [])) != list(b.get("input_shape", [])):
        old, new = ("×".join(str(v) for v in d["input_shape"]) for d in (a, b))
        notes.append(f"input {old} → {new} (the dataset's image size)")

    def outputs(d: dict) -> int | None:
        linear = [layer for layer in d.get("layers", []) if layer.get("type") == "Linear"]
        return linear[-1].get("out_features") if linear else None

    if outputs(a) != outputs(b):
        notes.append(f"last Linear layer {outputs(a)} → {outputs(b)} outputs (one per class)")
    return notes


def friendly_error(exc: BaseException) -> str:
    """One line for the student about an error that ended a run (out of memory, shapes, ...)."""
    text = str(exc)
    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in text.lower():
        return "Training ran out of memory: lower the batch size or use a smaller model."
    if isinstance(exc, RuntimeError) and ("shape" in text or "size" in text):
        return f"The model and the data do not fit together: {text.splitlines()[0]}"
    return f"Training failed: {type(exc).__name__}: {text.splitlines()[0] if text else ''}"
