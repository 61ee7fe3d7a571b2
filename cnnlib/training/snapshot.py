"""What a training run reports: its status names and `RunSnapshot`, a frozen copy of its progress.

TrainingRun.snapshot() returns one; the Training page and cnnlib.plots.training read it. The run's
batch-loss curve is kept short by `LossCurve` (at most MAX_LOSS_POINTS points).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RunSnapshot"]


MAX_LOSS_POINTS = 2000  # batch-loss history kept in a run (older points are averaged in pairs)

STATUSES = ("ready", "queued", "running", "finished", "stopped", "failed", "early-stopped")
ACTIVE_STATUSES = ("queued", "running")
DONE_STATUSES = ("finished", "stopped", "failed", "early-stopped")


@dataclass(frozen=True)
class RunSnapshot:
    """A consistent copy of a run's progress, safe to read from any thread.

    Epoch lists have one entry per completed epoch. `batch_loss[i]` is the mean training loss of
    the batches ending at step `batch_step[i]` (1-based); up to MAX_LOSS_POINTS (cnnlib.training)
    points are kept, older ones averaged in pairs, so a point may stand for several batches.
    """

    run_id: str
    name: str
    status: str  # one of STATUSES
    message: str  # one line for the student, e.g. why it stopped
    error: str | None  # the technical error, when status == "failed"
    queue_position: int | None  # 1 = next, while status == "queued"
    queue_wait: float | None  # estimated seconds until it starts, while queued
    epoch: int  # completed epochs
    epochs: int
    step: int  # completed batches
    total_steps: int
    steps_per_epoch: int
    batch_loss: tuple[float, ...]
    batch_step: tuple[int, ...]
    batch_lr: tuple[float, ...]
    train_loss: tuple[float, ...]
    train_acc: tuple[float, ...]
    val_loss: tuple[float, ...]
    val_acc: tuple[float, ...]
    lr: tuple[float, ...]  # learning rate at the start of each epoch
    current_lr: float
    examples_per_sec: float
    elapsed: float  # seconds since training started (not counting the queue)
    eta: float | None  # seconds left, estimated
    test_accuracy: float | None
    test_loss: float | None
    best_epoch: int | None  # 1-based epoch whose weights are kept by early stopping
    device: str
    num_threads: int
    train_size: int
    val_size: int

    @property
    def progress(self) -> float:
        """0..1 share of the batches done."""
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    @property
    def done(self) -> bool:
        return self.status in DONE_STATUSES

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class LossCurve:
    """A run's batch-loss history in its state dict: s["batch_loss"], s["batch_step"], s["batch_lr"].

    One point per `stride` batches (their mean loss and learning rate, at the last one's step); when
    MAX_LOSS_POINTS points are kept, neighbours are averaged in pairs and the stride doubles. The
    caller holds the run's lock.
    """

    def __init__(self) -> None:
        self.stride = 1  # batches per kept loss point
        self.pending = [0.0, 0, 0.0]  # loss sum, batches, lr sum of the point being built

    def add(self, s: dict[str, Any], loss: float, step: int, lr: float) -> None:
        """Add one batch's loss (and learning rate) at `step`."""
        acc = self.pending
        acc[0] += loss
        acc[1] += 1
        acc[2] += lr
        if acc[1] >= self.stride:
            s["batch_loss"].append(acc[0] / acc[1])
            s["batch_step"].append(step)
            s["batch_lr"].append(acc[2] / acc[1])
            acc[0], acc[1], acc[2] = 0.0, 0, 0.0
            if len(s["batch_loss"]) >= MAX_LOSS_POINTS:  # halve the history: average pairs
                for key in ("batch_loss", "batch_lr"):
                    v = s[key]
                    s[key] = [(v[j] + v[j + 1]) / 2 for j in range(0, len(v) - 1, 2)]
                st = s["batch_step"]
                s["batch_step"] = [st[j + 1] for j in range(0, len(st) - 1, 2)]
                self.stride *= 2
