"""What a training run reports: its status names and `RunSnapshot`, a frozen copy of its progress.

TrainingRun.snapshot() returns one; the Training page and cnnlib.plots.training read it.
"""

from __future__ import annotations

from dataclasses import dataclass

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
