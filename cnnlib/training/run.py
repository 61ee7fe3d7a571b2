"""Training: `TrainingRun`, which trains a model on a dataset in a background thread.

    run = TrainingRun(spec_or_model, load_dataset("shapes"), TrainConfig(epochs=3))
    run.start()
    snap = run.snapshot()          # a frozen, consistent copy of the metrics; poll it from the page
    run.stop()                     # takes effect within one batch; the model stays as it is
    run.wait(timeout=10)

The run waits for a training slot (cnnlib.training.slots: a process-wide limit on concurrent runs) with
status "queued", then trains on the chosen device with `torch.set_num_threads` set in its own
thread. Images stay uint8 until each batch is turned into floats, augmented (vectorised, one
random transform per image) and normalised, so memory stays small and the per-batch overhead over a
bare PyTorch loop is a few tensor ops and one `loss.item()`. A NaN or infinite loss stops the run
("failed") with a message naming the likely cause; early stopping restores the best weights.
Nothing here knows about Streamlit.

The pieces it uses live beside it: cnnlib.training.config (TrainConfig, ConfigError, the demo;
re-exported here), cnnlib.training.snapshot (RunSnapshot and the status names; re-exported here),
cnnlib.training.augment, cnnlib.training.checks, cnnlib.training.optim and cnnlib.training.advice.
"""

from __future__ import annotations

import copy
import math
import threading
import time
import uuid
from dataclasses import replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.data import DatasetBundle, stratified_split
from cnnlib.device import describe_device, pick_device
from cnnlib.training.advice import chance_accuracy, divergence_message, friendly_error, guessing_note
from cnnlib.training.augment import augment_batch
from cnnlib.training.checks import check_model, resolve_model
from cnnlib.training.config import TrainConfig
from cnnlib.training.optim import make_optimizer, make_scheduler
from cnnlib.training.slots import SlotLimiter, Ticket, get_limiter, threads_per_run
from cnnlib.training.snapshot import DONE_STATUSES, RunSnapshot

EXPLODED_LOSS = 1e3  # a finite batch loss above this (and 100x the first one) has blown up: stop like NaN
MAX_LOSS_POINTS = 2000  # batch-loss history kept in a run (older points are averaged in pairs)
EVAL_BATCH_SIZE = 500


class _Stop(Exception):
    """Raised inside the worker to leave the training loop."""


class TrainingRun:
    """Train a model on a DatasetBundle in a background daemon thread.

    `model` is a ModelSpec, a spec dict or an nn.Module (trained in place). The constructor
    validates the config and checks the model against the data (ConfigError, SpecError); nothing
    trains until `start()`. After the run `.model` is on the CPU in eval mode.
    """

    def __init__(
        self,
        model: Any,
        dataset: DatasetBundle,
        config: TrainConfig | None = None,
        *,
        name: str = "",
        slots: SlotLimiter | None = None,
    ) -> None:
        self.config = copy.deepcopy(config) if config is not None else TrainConfig()
        self.config.validate(len(dataset.train))
        self.bundle = dataset
        self.classes = list(dataset.classes)
        self.model, self.spec = resolve_model(model, self.config.seed)
        self.num_params = check_model(self.model, dataset, self.config.batch_size)
        self.id = uuid.uuid4().hex[:8]
        self.name = name or f"run {self.id}"
        self.slots = slots if slots is not None else get_limiter()
        self.device = pick_device(self.config.device)
        self.num_threads = self.config.num_threads or threads_per_run(self.slots.max_runs)

        n = len(dataset.train)
        self.train_size, self.val_size = self.config.train_val_sizes(n)
        bs = self.config.batch_size
        self.steps_per_epoch = self.train_size // bs + (
            1 if self.train_size % bs > 1 else 0
        )  # drop a batch of 1
        self.total_steps = self.steps_per_epoch * self.config.epochs

        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._done_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._ticket: Ticket | None = None
        self._stop_reason: str | None = None
        self.test_probs: np.ndarray | None = None  # [N_test, K] after the run
        self._state: dict[str, Any] = {
            "status": "ready",
            "message": "Ready to train.",
            "error": None,
            "epoch": 0,
            "step": 0,
            "batch_loss": [],
            "batch_step": [],
            "batch_lr": [],
            "train_loss": [],
            "train_acc": [],
            "val_loss": [],
            "val_acc": [],
            "lr": [],
            "current_lr": float(self.config.lr),
            "examples_per_sec": 0.0,
            "t_start": None,
            "t_end": None,
            "test_accuracy": None,
            "test_loss": None,
            "best_epoch": None,
        }
        self._loss_stride = 1  # batches per kept loss point
        self._acc = [0.0, 0, 0.0]  # loss sum, batches, lr sum of the point being built

    # -- public API ----------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._state["status"]

    @property
    def done(self) -> bool:
        return self._state["status"] in DONE_STATUSES

    def start(self) -> TrainingRun:
        """Queue the run for a slot and start its thread. A run starts once; make a new one to retrain."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError(
                    "This run has already been started; create a new TrainingRun to train again."
                )
            self._ticket = self.slots.enqueue(self.name)
            self._state.update(status="queued", message="Waiting for a free training slot.")
            self._thread = threading.Thread(target=self._worker, name=f"training-{self.id}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> bool:
        """Ask the run to stop (within one batch; a queued run leaves the queue). True if it was active."""
        if self.done or self._thread is None:
            return False
        if self._stop_reason is None:
            self._stop_reason = "user"
        self._stop_event.set()
        if self._ticket is not None and self._ticket.state == "queued":
            self._ticket.cancel()
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run is done (True) or `timeout` seconds pass (False)."""
        if self._thread is None:
            return self.done
        return self._done_event.wait(timeout)

    def heartbeat(self) -> None:
        """The page is still watching. After the first call, a run not heard from for the limiter's
        heartbeat_timeout seconds (the session has gone) is stopped and frees its slot."""
        if self._ticket is not None:
            self._ticket.heartbeat()

    def snapshot(self) -> RunSnapshot:
        """A consistent, immutable copy of the progress (cheap: a few list copies under the lock)."""
        now = time.perf_counter()
        with self._lock:
            s = self._state
            status = s["status"]
            t_start, t_end = s["t_start"], s["t_end"]
            elapsed = 0.0 if t_start is None else (t_end if t_end is not None else now) - t_start
            step = s["step"]
            eta = None
            if status == "running" and step > 0 and elapsed > 0:
                eta = (self.total_steps - step) * elapsed / step
            elif status == "queued":
                eta = None
            elif status in DONE_STATUSES:
                eta = 0.0
            snap = RunSnapshot(
                run_id=self.id,
                name=self.name,
                status=status,
                message=s["message"],
                error=s["error"],
                queue_position=None,
                queue_wait=None,
                epoch=s["epoch"],
                epochs=self.config.epochs,
                step=step,
                total_steps=self.total_steps,
                steps_per_epoch=self.steps_per_epoch,
                batch_loss=tuple(s["batch_loss"]),
                batch_step=tuple(s["batch_step"]),
                batch_lr=tuple(s["batch_lr"]),
                train_loss=tuple(s["train_loss"]),
                train_acc=tuple(s["train_acc"]),
                val_loss=tuple(s["val_loss"]),
                val_acc=tuple(s["val_acc"]),
                lr=tuple(s["lr"]),
                current_lr=s["current_lr"],
                examples_per_sec=s["examples_per_sec"],
                elapsed=elapsed,
                eta=eta,
                test_accuracy=s["test_accuracy"],
                test_loss=s["test_loss"],
                best_epoch=s["best_epoch"],
                device=describe_device(self.device)
                if self.device.type != "cpu"
                else f"CPU · {self.num_threads} thread(s)",
                num_threads=self.num_threads,
                train_size=self.train_size,
                val_size=self.val_size,
            )
        if status == "queued" and self._ticket is not None:  # outside our lock: the limiter has its own
            position, wait = self._ticket.position, self._ticket.estimated_wait()
            if position:
                snap = replace(snap, queue_position=position, queue_wait=wait)
        return snap

    # -- the worker ------------------------------------------------------------------------------
    def _set(self, **kw: Any) -> None:
        with self._lock:
            self._state.update(kw)

    def _worker(self) -> None:
        ticket = self._ticket
        assert ticket is not None
        try:
            while not ticket.wait(timeout=0.25):
                if self._stop_event.is_set() or ticket.state == "cancelled" or ticket.is_stale():
                    stale = ticket.is_stale() and self._stop_reason is None
                    ticket.cancel()
                    self._set(
                        status="stopped",
                        message="Stopped: the page that started it was closed."
                        if stale
                        else "Cancelled while waiting in the queue.",
                    )
                    return
            if self._stop_event.is_set():  # stopped in the instant the slot came free
                self._set(status="stopped", message="Cancelled before training started.")
                return
            self._set(status="running", message="Setting up…")
            self._train(ticket)
        except BaseException as exc:  # never let the thread die silently
            self._set(status="failed", error=f"{type(exc).__name__}: {exc}", message=friendly_error(exc))
        finally:
            ticket.release()
            try:
                self.model.to("cpu").eval()
            except Exception:
                pass
            with self._lock:
                if self._state["t_start"] is not None and self._state["t_end"] is None:
                    self._state["t_end"] = time.perf_counter()
            self._done_event.set()

    def _train(self, ticket: Ticket) -> None:
        cfg = self.config
        torch.set_num_threads(self.num_threads)
        dev = self.device
        g = torch.Generator().manual_seed(cfg.seed)  # data order, split and augmentation
        bundle = self.bundle
        model = self.model.to(dev)

        images = bundle.train_images.to(dev)  # [N, C, H, W] uint8 (no copy on the CPU)
        labels = bundle.train_labels.to(dev)  # [N]
        if self.val_size:
            train_idx, val_idx = stratified_split(bundle.train_labels, cfg.val_fraction, cfg.seed)
            if len(val_idx) != self.val_size:  # tiny classes: fall back to a plain random split
                perm = torch.randperm(len(bundle.train), generator=g)
                train_idx, val_idx = perm[self.val_size :], perm[: self.val_size]
            train_idx, val_idx = train_idx.to(dev), val_idx.to(dev)
        else:
            train_idx, val_idx = torch.arange(len(bundle.train), device=dev), None
        c = bundle.input_shape[0]
        mean = torch.tensor(bundle.mean, device=dev, dtype=torch.float32).view(1, c, 1, 1)
        std = torch.tensor(bundle.std, device=dev, dtype=torch.float32).view(1, c, 1, 1)
        augment = tuple(cfg.augment)

        optimizer = make_optimizer(model, cfg)
        scheduler, per_batch = make_scheduler(optimizer, cfg, self.total_steps)
        criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        cap = min(cfg.max_seconds or math.inf, self.slots.max_seconds or math.inf)

        bs, n_train = cfg.batch_size, self.train_size
        best_loss, best_state, bad_epochs = math.inf, None, 0
        t0 = time.perf_counter()
        with self._lock:
            self._state.update(status="running", message="Training…", t_start=t0)
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
                for i in range(self.steps_per_epoch):
                    if self._stop_event.is_set():
                        raise _Stop
                    idx = order[i * bs : (i + 1) * bs if i < self.steps_per_epoch - 1 else n_train]
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
                    with self._lock:
                        self._record_batch(lv, step, lr_now)
                        if tick:
                            self._state["examples_per_sec"] = (examples - speed_mark[1]) / (
                                now - speed_mark[0]
                            )
                    if tick:  # twice a second: tell the queue how long this run still needs
                        speed_mark = (now, examples)
                        ticket.set_remaining((self.total_steps - step) * (now - t0) / step)
                    if now - t0 > cap:
                        self._stop_reason = "time"
                        raise _Stop
                    if (step & 31) == 0 and ticket.is_stale():
                        self._stop_reason = "stale"
                        raise _Stop
                if not per_batch and scheduler is not None:
                    scheduler.step()
                train_loss, train_acc = loss_sum / max(1, seen), correct.item() / max(1, seen)
                val_loss = val_acc = None
                if val_idx is not None:
                    val_loss, val_acc = evaluate_split(model, images, labels, val_idx, mean, std)
                with self._lock:
                    s = self._state
                    s["epoch"] = epoch + 1
                    s["train_loss"].append(train_loss)
                    s["train_acc"].append(train_acc)
                    if val_loss is not None:
                        s["val_loss"].append(val_loss)
                        s["val_acc"].append(val_acc)
                    s["lr"].append(epoch_lr)
                    s["current_lr"] = optimizer.param_groups[0]["lr"]
                speed_mark = (time.perf_counter(), examples)  # the speed counts training time only
                ticket.set_remaining(self._eta())
                if cfg.patience and val_loss is not None:
                    if val_loss < best_loss - 1e-4:
                        best_loss, bad_epochs = val_loss, 0
                        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                        self._set(best_epoch=epoch + 1)
                    else:
                        bad_epochs += 1
                        if bad_epochs >= cfg.patience and epoch + 1 < cfg.epochs:
                            model.load_state_dict(best_state)
                            best = self._state["best_epoch"]
                            final_status = "early-stopped"
                            final_message = (
                                f"Early stopping: the validation loss has not improved for {cfg.patience} "
                                f"epoch(s), so training stopped after epoch {epoch + 1} and kept the weights "
                                f"of epoch {best} (validation loss {best_loss:.4f})."
                            )
                            break
            else:
                if best_state is not None and cfg.patience:  # finished all epochs: keep the best weights
                    model.load_state_dict(best_state)
        except _Stop:
            final_status = "stopped"
            final_message = {
                "user": f"Stopped by you after {step:,} of {self.total_steps:,} batches; the model keeps "
                "the weights it had.",
                "time": f"Stopped at the time limit of {cap:.0f} s after {step:,} of {self.total_steps:,} "
                "batches; the model keeps the weights it had.",
                "stale": "Stopped: the page that started this run was closed.",
            }.get(self._stop_reason or "user", "Stopped.")
        except _Diverged as d:
            self._finish_failed(d)
            return

        t_train_end = time.perf_counter()
        with self._lock:
            s = self._state
            s["examples_per_sec"] = examples / max(1e-9, t_train_end - t0) if examples else 0.0
            s["t_end"] = t_train_end
            s["message"] = "Measuring accuracy on the test set…"
        if step > 0 and self._stop_reason != "stale":
            test_idx = torch.arange(len(bundle.test), device=dev)
            t_images, t_labels = bundle.test_images.to(dev), bundle.test_labels.to(dev)
            test_loss, test_acc, probs = evaluate_split(
                model, t_images, t_labels, test_idx, mean, std, want_probs=True
            )
            self.test_probs = probs
            self._set(test_accuracy=test_acc, test_loss=test_loss)
            if final_status == "finished":
                final_message = f"Finished {cfg.epochs} epoch(s): test accuracy {test_acc:.1%}."
            else:
                final_message += f" Test accuracy {test_acc:.1%}."
            with self._lock:
                losses = list(self._state["batch_loss"])
            final_message += guessing_note(
                test_acc, chance_accuracy(bundle.test_labels), cfg, losses, step, self.steps_per_epoch
            )
        self._set(status=final_status, message=final_message)

    def _record_batch(self, loss: float, step: int, lr: float) -> None:
        """Add one batch loss to the history, averaging `_loss_stride` batches per point (lock held)."""
        acc = self._acc
        acc[0] += loss
        acc[1] += 1
        acc[2] += lr
        s = self._state
        s["step"] = step
        s["current_lr"] = lr
        if acc[1] >= self._loss_stride:
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
                self._loss_stride *= 2

    def _eta(self) -> float | None:
        with self._lock:
            t_start, step = self._state["t_start"], self._state["step"]
        if t_start is None or step == 0:
            return None
        return (self.total_steps - step) * (time.perf_counter() - t_start) / step

    def _finish_failed(self, d: _Diverged) -> None:
        msg = divergence_message(d.loss, d.first_loss, d.epoch, d.batch, d.lr, self.config)
        with self._lock:
            self._state.update(
                status="failed", message=msg, error=f"loss = {d.loss}", t_end=time.perf_counter()
            )


class _Diverged(Exception):
    def __init__(self, loss: float, epoch: int, batch: int, lr: float, first_loss: float) -> None:
        super().__init__(loss)
        self.loss, self.epoch, self.batch, self.lr, self.first_loss = loss, epoch, batch, lr, first_loss


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
