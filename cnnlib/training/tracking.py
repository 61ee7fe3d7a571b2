"""What the training loop (cnnlib.training.loop) keeps track of between batches and epochs.

`Progress` counts steps and examples and reports the speed and the time left; `EarlyStopping`
keeps the best epoch's weights and says when the validation loss has stopped improving. Both
report through the loop's `emit(kind, data)` events.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__: list[str] = []


Emit = Callable[[str, dict[str, Any]], None]


@dataclass
class Progress:
    """The loop's counters across epochs: steps, examples, the speed mark and the first loss."""

    t0: float  # when training began (time.perf_counter)
    total_steps: int
    step: int = 0
    examples: int = 0
    speed_mark: tuple[float, int] = (0.0, 0)  # (time, examples) for examples_per_sec
    first_loss: float = math.nan  # the first batch's loss: the yardstick for "the loss exploded"

    def batch_done(self, loss: float, lr: float, nb: int, emit: Emit) -> float:
        """Count one batch of `nb` examples and report it (the speed and time left twice a second);
        returns the time now."""
        self.examples += nb
        self.step += 1
        now = time.perf_counter()
        mark_t, mark_n = self.speed_mark
        tick = now - mark_t >= 0.5
        speed = (self.examples - mark_n) / (now - mark_t) if tick else None
        emit("batch", {"loss": loss, "step": self.step, "lr": lr, "examples_per_sec": speed})
        if tick:  # twice a second: tell the queue how long this run still needs
            self.speed_mark = (now, self.examples)
            emit("remaining", {"seconds": (self.total_steps - self.step) * (now - self.t0) / self.step})
        return now

    def epoch_done(self, emit: Emit) -> None:
        """Restart the speed mark (the speed counts training time only) and report the time left."""
        now = time.perf_counter()
        self.speed_mark = (now, self.examples)
        emit("remaining", {"seconds": (self.total_steps - self.step) * (now - self.t0) / max(1, self.step)})


class EarlyStopping:
    """Early stopping on the validation loss: the best epoch's weights, and when patience runs out."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best_loss, self.bad_epochs = math.inf, 0
        self.best_epoch: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None

    def out_of_patience(self, model: nn.Module, val_loss: float | None, epoch: int, emit: Emit) -> bool:
        """After (1-based) `epoch`: keep the weights when they are the best yet ("best" event);
        True when the validation loss has not improved for `patience` epochs."""
        if not self.patience or val_loss is None:
            return False
        if val_loss < self.best_loss - 1e-4:
            self.best_loss, self.bad_epochs, self.best_epoch = val_loss, 0, epoch
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            emit("best", {"epoch": self.best_epoch})
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def message(self, epoch: int) -> str:
        return (
            f"Early stopping: the validation loss has not improved for {self.patience} "
            f"epoch(s), so training stopped after epoch {epoch} and kept the weights "
            f"of epoch {self.best_epoch} (validation loss {self.best_loss:.4f})."
        )
