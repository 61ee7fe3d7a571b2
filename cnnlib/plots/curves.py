"""One run's history as the Training page's charts read it (Curves), made from a run's snapshot.

x in epochs (fractional for batches), 1-based epoch numbers; cnnlib.plots.training draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Curves", "curves_from_snapshot"]


@dataclass
class Curves:
    """One run's history, in the units the charts use (x in epochs, 1-based epoch numbers)."""

    name: str
    batch_x: list[float] = field(default_factory=list)  # fractional epoch of each recorded batch
    batch_loss: list[float] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)  # 1, 2, ... for the per-epoch lists below
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)  # fractions 0..1
    val_acc: list[float] = field(default_factory=list)
    lr_x: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    x_end: float | None = None  # the epoch the x axes reach: the planned epochs while training

    @property
    def extent(self) -> float:
        """How far the x axes must reach for this run: `x_end`, else its last point."""
        if self.x_end:
            return float(self.x_end)
        return float(max([*self.batch_x[-1:], *self.epochs[-1:], *self.lr_x[-1:], 0]))


def curves_from_snapshot(snap: Any, name: str | None = None) -> Curves:
    """Curves from a cnnlib.training.RunSnapshot (or anything with the same fields).

    While the run is queued, running or finished, the x axes reach its planned epochs; a run that
    stopped early (by the student, early stopping or a blow-up) reaches as far as it got.
    """
    spe = max(1, int(getattr(snap, "steps_per_epoch", 1) or 1))
    steps = list(getattr(snap, "batch_step", ()))
    n_epochs = len(getattr(snap, "train_loss", ()))
    planned = getattr(snap, "epochs", None)
    status = getattr(snap, "status", "running")
    x_end = float(planned) if planned and status in ("ready", "queued", "running", "finished") else None
    return Curves(
        name=name if name is not None else str(getattr(snap, "name", "")),
        batch_x=[s / spe for s in steps],
        batch_loss=list(getattr(snap, "batch_loss", ())),
        epochs=list(range(1, n_epochs + 1)),
        train_loss=list(snap.train_loss),
        val_loss=list(getattr(snap, "val_loss", ())),
        train_acc=list(getattr(snap, "train_acc", ())),
        val_acc=list(getattr(snap, "val_acc", ())),
        lr_x=[s / spe for s in steps],
        lr=list(getattr(snap, "batch_lr", ())),
        x_end=x_end,
    )
