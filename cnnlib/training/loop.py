"""The training loop itself: epochs of batches, validation, early stopping, the test pass.

`train_loop` trains a model in the calling thread and tells the world what happens through
`emit(kind, data)` events, so the same loop serves a run in a background thread (the events update
the run's state under its lock) and a run in a worker process (the events travel over a pipe):

    ("running",   {"t_start"})                              training has begun
    ("batch",     {"loss", "step", "lr", "examples_per_sec"})  one batch done (speed: twice a second)
    ("remaining", {"seconds"})                              estimated seconds left, for the queue
    ("epoch",     {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "current_lr"})
    ("best",      {"epoch"})                                early stopping keeps this epoch's weights
    ("trained",   {"examples_per_sec", "t_end"})            the loop is over; the test pass follows
    ("test",      {"test_accuracy", "test_loss", "probs"})  probs: numpy [N_test, K]
    ("done",      {"status", "message", "steps"})           finished / stopped / early-stopped
    ("failed",    {"message", "error", "t_end"})            the loss became NaN or exploded

`should_stop(step)` is asked before every batch and returns why to stop ("user", "time", "stale")
or None. Images stay uint8 until each batch is turned into floats, augmented and normalised, so
memory stays small and the per-batch overhead over a bare PyTorch loop is a few tensor ops and one
`loss.item()`. Times are `time.perf_counter()` (CLOCK_MONOTONIC: one clock for every process).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.data import DatasetBundle, normalize
from cnnlib.training.advice import divergence_message
from cnnlib.training.augment import augment_batch
from cnnlib.training.config import TrainConfig
from cnnlib.training.optim import make_optimizer, make_scheduler
from cnnlib.training.selection import training_data
from cnnlib.training.tracking import EarlyStopping, Emit, Progress

__all__: list[str] = []


EXPLODED_LOSS = 1e3  # a finite batch loss above this (and 100x the first one) has blown up: stop like NaN
EVAL_BATCH_SIZE = 500
PRENORMALISE_MAX_BYTES = 64 * 2**20  # a dataset normalised once per run when its float copy fits


@dataclass(frozen=True)
class LoopPlan:
    """The run's shape, fixed before it starts: sizes, steps and limits."""

    train_size: int
    val_size: int
    steps_per_epoch: int
    total_steps: int
    num_threads: int
    max_seconds: float  # wall-time cap on the loop (math.inf: none)


def plan_steps(train_size: int, batch_size: int, epochs: int) -> tuple[int, int]:
    """(steps per epoch, total steps); a last batch of a single example is dropped."""
    steps = train_size // batch_size + (1 if train_size % batch_size > 1 else 0)
    return steps, steps * epochs


class _Stop(Exception):
    """Raised inside the loop to leave it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Diverged(Exception):
    def __init__(self, loss: float, epoch: int, batch: int, lr: float, first_loss: float) -> None:
        super().__init__(loss)
        self.loss, self.epoch, self.batch, self.lr, self.first_loss = loss, epoch, batch, lr, first_loss


@dataclass(frozen=True)
class LoopData:
    """The run's tensors on the training device, made once before the first batch."""

    images: torch.Tensor  # [N, C, H, W] uint8
    labels: torch.Tensor  # [N], the training positions' labels noised when asked
    train_idx: torch.Tensor  # [n_train]
    val_idx: torch.Tensor | None  # [n_val]
    mean: torch.Tensor  # [1, C, 1, 1]
    std: torch.Tensor  # [1, C, 1, 1]
    augment: tuple[str, ...]
    ready: torch.Tensor | None  # [N, C, H, W] float32, normalised once (no augmentation, small data)

    def batch(self, idx: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """The normalised (and augmented, when asked) images of positions `idx` [B]: [B, C, H, W]."""
        if self.ready is not None:
            return self.ready.index_select(0, idx)  # [B, C, H, W] normalised
        xb = self.images.index_select(0, idx).float().div_(255)  # [B, C, H, W] in [0, 1]
        if self.augment:
            xb = augment_batch(xb, self.augment, g)
        return xb.sub_(self.mean).div_(self.std)


def prepare_data(bundle: DatasetBundle, cfg: TrainConfig, dev: torch.device, g: torch.Generator) -> LoopData:
    """Move the bundle's training images to `dev` and pick the split (cnnlib.training.selection)."""
    images = bundle.train_images.to(dev)  # [N, C, H, W] uint8 (no copy on the CPU)
    # The validation split, then train_size and label_noise (cnnlib.training.selection): the
    # labels are the bundle's, with the training positions' labels noised when asked.
    data = training_data(bundle.train_labels, cfg, bundle.num_classes, g)
    c = bundle.input_shape[0]
    augment = tuple(cfg.augment)
    # Without augmentation every batch is a plain slice of the same normalised images: normalise
    # them once (the bare PyTorch loop's way) instead of three elementwise passes per batch, when
    # the float copy is small (the bundled MNIST sample: 12.5 MB).
    ready = None
    if not augment and images.numel() * 4 <= PRENORMALISE_MAX_BYTES:
        ready = normalize(images, bundle)  # [N, C, H, W] float32
    return LoopData(
        images=images,
        labels=data.labels.to(dev),  # [N]
        train_idx=data.train_idx.to(dev),  # [n_train]
        val_idx=data.val_idx.to(dev) if data.val_idx is not None else None,  # [n_val]
        mean=torch.tensor(bundle.mean, device=dev, dtype=torch.float32).view(1, c, 1, 1),
        std=torch.tensor(bundle.std, device=dev, dtype=torch.float32).view(1, c, 1, 1),
        augment=augment,
        ready=ready,
    )


@dataclass
class Optimisation:
    """What takes a step: the optimizer, its scheduler (stepped per batch or per epoch), the loss."""

    optimizer: torch.optim.Optimizer
    scheduler: Any
    per_batch: bool
    criterion: nn.Module

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]


def train_epoch(
    model: nn.Module,
    data: LoopData,
    opt: Optimisation,
    epoch: int,
    plan: LoopPlan,
    batch_size: int,
    g: torch.Generator,
    progress: Progress,
    emit: Emit,
    should_stop: Callable[[int], str | None],
) -> tuple[float, float]:
    """One epoch of batches in a fresh random order: (mean training loss, training accuracy).

    Raises _Stop (asked to stop, or past the time cap) and _Diverged (NaN or exploded loss).
    """
    model.train()
    n_train, steps_per_epoch = plan.train_size, plan.steps_per_epoch
    order = data.train_idx[torch.randperm(n_train, generator=g).to(data.train_idx.device)]  # [n_train]
    loss_sum, seen = 0.0, 0
    correct = torch.zeros((), dtype=torch.int64, device=data.labels.device)
    for i in range(steps_per_epoch):
        reason = should_stop(progress.step)
        if reason:
            raise _Stop(reason)
        idx = order[i * batch_size : (i + 1) * batch_size if i < steps_per_epoch - 1 else n_train]
        xb = data.batch(idx, g)  # [B, C, H, W]
        yb = data.labels.index_select(0, idx)  # [B]
        out = model(xb)  # [B, K]
        loss = opt.criterion(out, yb)
        opt.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        opt.optimizer.step()
        lr_now = opt.lr
        if opt.per_batch:
            opt.scheduler.step()
        lv = loss.item()  # the one sync per batch
        if progress.step == 0:
            progress.first_loss = lv
        if not math.isfinite(lv) or (lv > EXPLODED_LOSS and lv > 100 * progress.first_loss):
            raise _Diverged(lv, epoch, i, lr_now, progress.first_loss)
        nb = idx.shape[0]
        correct += (out.detach().argmax(1) == yb).sum()
        loss_sum += lv * nb
        seen += nb
        now = progress.batch_done(lv, lr_now, nb, emit)
        if now - progress.t0 > plan.max_seconds:
            raise _Stop("time")
    return loss_sum / max(1, seen), correct.item() / max(1, seen)


def stop_message(reason: str, step: int, plan: LoopPlan) -> str:
    """What the student reads when the loop was stopped for `reason` ("user", "time", "stale")."""
    return {
        "user": f"Stopped by you after {step:,} of {plan.total_steps:,} batches; the model keeps "
        "the weights it had.",
        "time": f"Stopped at the time limit of {plan.max_seconds:.0f} s after {step:,} of {plan.total_steps:,} "
        "batches; the model keeps the weights it had.",
        "stale": "Stopped: the page that started this run was closed.",
    }.get(reason, "Stopped.")


def evaluate_test_set(model: nn.Module, bundle: DatasetBundle, data: LoopData, emit: Emit) -> float:
    """Evaluate on the bundle's test set ("test" event with the probabilities); the accuracy."""
    dev = data.images.device
    test_idx = torch.arange(len(bundle.test), device=dev)  # [N_test]
    t_images, t_labels = bundle.test_images.to(dev), bundle.test_labels.to(dev)
    test_loss, test_acc, probs = evaluate_split(
        model, t_images, t_labels, test_idx, data.mean, data.std, want_probs=True
    )
    emit("test", {"test_accuracy": test_acc, "test_loss": test_loss, "probs": probs})
    return test_acc


def train_loop(
    model: nn.Module,
    bundle: DatasetBundle,
    cfg: TrainConfig,
    plan: LoopPlan,
    device: torch.device,
    emit: Emit,
    should_stop: Callable[[int], str | None],
) -> None:
    """Train `model` in place on `device` in this thread, reporting through `emit` (see the module)."""
    torch.set_num_threads(plan.num_threads)
    dev = device
    g = torch.Generator().manual_seed(cfg.seed)  # data order, split and augmentation
    model = model.to(dev)
    data = prepare_data(bundle, cfg, dev, g)
    optimizer = make_optimizer(model, cfg)
    scheduler, per_batch = make_scheduler(optimizer, cfg, plan.total_steps)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    opt = Optimisation(optimizer, scheduler, per_batch, criterion)

    early = EarlyStopping(cfg.patience)
    t0 = time.perf_counter()
    emit("running", {"t_start": t0})
    progress = Progress(t0, plan.total_steps, speed_mark=(t0, 0))
    final_status, final_message = "finished", ""
    try:
        for epoch in range(cfg.epochs):
            epoch_lr = opt.lr
            train_loss, train_acc = train_epoch(
                model, data, opt, epoch, plan, cfg.batch_size, g, progress, emit, should_stop
            )
            if not per_batch and scheduler is not None:
                scheduler.step()
            val_loss = val_acc = None
            if data.val_idx is not None:
                val_loss, val_acc = evaluate_split(
                    model, data.images, data.labels, data.val_idx, data.mean, data.std
                )
            emit(
                "epoch",
                {
                    "epoch": epoch + 1,
                    "train_loss": train_loss,
                    "train_acc": train_acc,
                    "val_loss": val_loss,
                    "val_acc": val_acc,
                    "lr": epoch_lr,
                    "current_lr": opt.lr,
                },
            )
            progress.epoch_done(emit)
            if early.out_of_patience(model, val_loss, epoch + 1, emit) and epoch + 1 < cfg.epochs:
                if early.best_state is not None:  # out of patience means some epoch was best
                    model.load_state_dict(early.best_state)
                final_status, final_message = "early-stopped", early.message(epoch + 1)
                break
        else:
            if early.best_state is not None and cfg.patience:  # finished all epochs: keep the best weights
                model.load_state_dict(early.best_state)
    except _Stop as stop:
        final_status, final_message = "stopped", stop_message(stop.reason, progress.step, plan)
        if stop.reason == "stale":
            progress.step = 0  # nobody is watching: skip the test pass
    except _Diverged as d:
        msg = divergence_message(d.loss, d.first_loss, d.epoch, d.batch, d.lr, cfg)
        emit("failed", {"message": msg, "error": f"loss = {d.loss}", "t_end": time.perf_counter()})
        return

    finish(model, bundle, data, cfg, progress, final_status, final_message, emit)


def finish(
    model: nn.Module,
    bundle: DatasetBundle,
    data: LoopData,
    cfg: TrainConfig,
    progress: Progress,
    status: str,
    message: str,
    emit: Emit,
) -> None:
    """After the loop: "trained" (the speed), the test pass unless no batch counts, then "done"."""
    t_train_end = time.perf_counter()
    examples = progress.examples
    emit(
        "trained",
        {
            "examples_per_sec": examples / max(1e-9, t_train_end - progress.t0) if examples else 0.0,
            "t_end": t_train_end,
        },
    )
    if progress.step > 0:
        test_acc = evaluate_test_set(model, bundle, data, emit)
        if status == "finished":
            message = f"Finished {cfg.epochs} epoch(s): test accuracy {test_acc:.1%}."
        else:
            message += f" Test accuracy {test_acc:.1%}."
    emit("done", {"status": status, "message": message, "steps": progress.step})


@torch.no_grad()
def evaluate_split(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    idx: torch.Tensor,
    mean: torch.Tensor,
    std: torch.Tensor,
    want_probs: bool = False,
) -> Any:
    """(mean cross-entropy, accuracy[, probs [N, K] numpy]) over images[idx], in eval mode."""
    was_training = model.training
    model.eval()
    loss_sum, correct, probs = 0.0, 0, []
    try:
        for start in range(0, idx.shape[0], EVAL_BATCH_SIZE):
            j = idx[start : start + EVAL_BATCH_SIZE]
            x = images.index_select(0, j).float().div_(255).sub_(mean).div_(std)  # [B, C, H, W]
            y = labels.index_select(0, j)
            out = model(x).float()  # [B, K]
            loss_sum += F.cross_entropy(out, y, reduction="sum").item()
            correct += int((out.argmax(1) == y).sum())
            if want_probs:
                probs.append(torch.softmax(out, dim=1).cpu())
    finally:
        model.train(was_training)
    n = max(1, idx.shape[0])
    result = (loss_sum / n, correct / n)
    if want_probs:
        return (*result, torch.cat(probs).numpy() if probs else np.zeros((0, 0), np.float32))
    return result
