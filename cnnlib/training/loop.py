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

EXPLODED_LOSS = 1e3  # a finite batch loss above this (and 100x the first one) has blown up: stop like NaN
EVAL_BATCH_SIZE = 500
PRENORMALISE_MAX_BYTES = 64 * 2**20  # a dataset normalised once per run when its float copy fits

Emit = Callable[[str, dict[str, Any]], None]


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

    images = bundle.train_images.to(dev)  # [N, C, H, W] uint8 (no copy on the CPU)
    # The validation split, then train_size and label_noise (cnnlib.training.selection): the
    # labels are the bundle's, with the training positions' labels noised when asked.
    data = training_data(bundle.train_labels, cfg, bundle.num_classes, g)
    labels = data.labels.to(dev)  # [N]
    train_idx = data.train_idx.to(dev)  # [n_train]
    val_idx = data.val_idx.to(dev) if data.val_idx is not None else None  # [n_val]
    c = bundle.input_shape[0]
    mean = torch.tensor(bundle.mean, device=dev, dtype=torch.float32).view(1, c, 1, 1)
    std = torch.tensor(bundle.std, device=dev, dtype=torch.float32).view(1, c, 1, 1)
    augment = tuple(cfg.augment)
    # Without augmentation every batch is a plain slice of the same normalised images: normalise
    # them once (the bare PyTorch loop's way) instead of three elementwise passes per batch, when
    # the float copy is small (the bundled MNIST sample: 12.5 MB).
    ready = None
    if not augment and images.numel() * 4 <= PRENORMALISE_MAX_BYTES:
        ready = normalize(images, bundle)  # [N, C, H, W] float32

    optimizer = make_optimizer(model, cfg)
    scheduler, per_batch = make_scheduler(optimizer, cfg, plan.total_steps)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    cap = plan.max_seconds

    bs, n_train, steps_per_epoch = cfg.batch_size, plan.train_size, plan.steps_per_epoch
    best_loss, best_state, best_epoch, bad_epochs = math.inf, None, None, 0
    t0 = time.perf_counter()
    emit("running", {"t_start": t0})
    speed_mark = (t0, 0)  # (time, examples) for examples_per_sec
    examples = 0
    step = 0
    first_loss = math.nan  # the first batch's loss: the yardstick for "the loss exploded"
    final_status, final_message = "finished", ""
    try:
        for epoch in range(cfg.epochs):
            model.train()
            order = train_idx[torch.randperm(n_train, generator=g).to(dev)]  # [n_train]
            loss_sum, seen = 0.0, 0
            correct = torch.zeros((), dtype=torch.int64, device=dev)
            epoch_lr = optimizer.param_groups[0]["lr"]
            for i in range(steps_per_epoch):
                reason = should_stop(step)
                if reason:
                    raise _Stop(reason)
                idx = order[i * bs : (i + 1) * bs if i < steps_per_epoch - 1 else n_train]
                if ready is not None:
                    xb = ready.index_select(0, idx)  # [B, C, H, W] normalised
                else:
                    xb = images.index_select(0, idx).float().div_(255)  # [B, C, H, W] in [0, 1]
                    if augment:
                        xb = augment_batch(xb, augment, g)
                    xb = xb.sub_(mean).div_(std)
                yb = labels.index_select(0, idx)  # [B]
                out = model(xb)  # [B, K]
                loss = criterion(out, yb)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                lr_now = optimizer.param_groups[0]["lr"]
                if per_batch:
                    scheduler.step()
                lv = loss.item()  # the one sync per batch
                if step == 0:
                    first_loss = lv
                if not math.isfinite(lv) or (lv > EXPLODED_LOSS and lv > 100 * first_loss):
                    raise _Diverged(lv, epoch, i, lr_now, first_loss)
                nb = idx.shape[0]
                correct += (out.detach().argmax(1) == yb).sum()
                loss_sum += lv * nb
                seen += nb
                examples += nb
                step += 1
                now = time.perf_counter()
                tick = now - speed_mark[0] >= 0.5
                speed = (examples - speed_mark[1]) / (now - speed_mark[0]) if tick else None
                emit("batch", {"loss": lv, "step": step, "lr": lr_now, "examples_per_sec": speed})
                if tick:  # twice a second: tell the queue how long this run still needs
                    speed_mark = (now, examples)
                    emit("remaining", {"seconds": (plan.total_steps - step) * (now - t0) / step})
                if now - t0 > cap:
                    raise _Stop("time")
            if not per_batch and scheduler is not None:
                scheduler.step()
            train_loss, train_acc = loss_sum / max(1, seen), correct.item() / max(1, seen)
            val_loss = val_acc = None
            if val_idx is not None:
                val_loss, val_acc = evaluate_split(model, images, labels, val_idx, mean, std)
            emit(
                "epoch",
                {
                    "epoch": epoch + 1,
                    "train_loss": train_loss,
                    "train_acc": train_acc,
                    "val_loss": val_loss,
                    "val_acc": val_acc,
                    "lr": epoch_lr,
                    "current_lr": optimizer.param_groups[0]["lr"],
                },
            )
            now = time.perf_counter()
            speed_mark = (now, examples)  # the speed counts training time only
            emit("remaining", {"seconds": (plan.total_steps - step) * (now - t0) / max(1, step)})
            if cfg.patience and val_loss is not None:
                if val_loss < best_loss - 1e-4:
                    best_loss, bad_epochs, best_epoch = val_loss, 0, epoch + 1
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    emit("best", {"epoch": best_epoch})
                else:
                    bad_epochs += 1
                    if bad_epochs >= cfg.patience and epoch + 1 < cfg.epochs:
                        model.load_state_dict(best_state)
                        final_status = "early-stopped"
                        final_message = (
                            f"Early stopping: the validation loss has not improved for {cfg.patience} "
                            f"epoch(s), so training stopped after epoch {epoch + 1} and kept the weights "
                            f"of epoch {best_epoch} (validation loss {best_loss:.4f})."
                        )
                        break
        else:
            if best_state is not None and cfg.patience:  # finished all epochs: keep the best weights
                model.load_state_dict(best_state)
    except _Stop as stop:
        final_status = "stopped"
        final_message = {
            "user": f"Stopped by you after {step:,} of {plan.total_steps:,} batches; the model keeps "
            "the weights it had.",
            "time": f"Stopped at the time limit of {cap:.0f} s after {step:,} of {plan.total_steps:,} "
            "batches; the model keeps the weights it had.",
            "stale": "Stopped: the page that started this run was closed.",
        }.get(stop.reason, "Stopped.")
        if stop.reason == "stale":
            step = 0  # nobody is watching: skip the test pass
    except _Diverged as d:
        msg = divergence_message(d.loss, d.first_loss, d.epoch, d.batch, d.lr, cfg)
        emit("failed", {"message": msg, "error": f"loss = {d.loss}", "t_end": time.perf_counter()})
        return

    t_train_end = time.perf_counter()
    emit(
        "trained",
        {
            "examples_per_sec": examples / max(1e-9, t_train_end - t0) if examples else 0.0,
            "t_end": t_train_end,
        },
    )
    if step > 0:
        test_idx = torch.arange(len(bundle.test), device=dev)
        t_images, t_labels = bundle.test_images.to(dev), bundle.test_labels.to(dev)
        test_loss, test_acc, probs = evaluate_split(
            model, t_images, t_labels, test_idx, mean, std, want_probs=True
        )
        emit("test", {"test_accuracy": test_acc, "test_loss": test_loss, "probs": probs})
        if final_status == "finished":
            final_message = f"Finished {cfg.epochs} epoch(s): test accuracy {test_acc:.1%}."
        else:
            final_message += f" Test accuracy {test_acc:.1%}."
    emit("done", {"status": final_status, "message": final_message, "steps": step})


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
