"""`TrainingRun`: one training run of a model on a dataset, off the page's thread.

    run = TrainingRun(spec_or_model, load_dataset("shapes"), TrainConfig(epochs=3))
    run.start()
    snap = run.snapshot()          # a frozen, consistent copy of the metrics; poll it from the page
    run.stop()                     # takes effect within one batch; the model stays as it is
    run.wait(timeout=10)

The run waits for a training slot (cnnlib.training.slots: a process-wide limit on concurrent runs)
with status "queued", then trains with cnnlib.training.loop, whose events it takes into its state
under a lock; `snapshot()` copies that state. A NaN or infinite loss stops the run ("failed") with
a message naming the likely cause; early stopping restores the best weights. Nothing here knows
about Streamlit.
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

from cnnlib.data import DatasetBundle
from cnnlib.device import describe_device, pick_device
from cnnlib.trained import TrainedModel
from cnnlib.training.advice import chance_accuracy, friendly_error, guessing_note
from cnnlib.training.capacity import lower_priority
from cnnlib.training.checks import check_model, resolve_model
from cnnlib.training.config import TrainConfig
from cnnlib.training.evaluation import cpu_state_dict
from cnnlib.training.loop import LoopPlan, plan_steps, train_loop
from cnnlib.training.slots import SlotLimiter, Ticket, get_limiter, threads_per_run
from cnnlib.training.snapshot import DONE_STATUSES, LossCurve, RunSnapshot
from cnnlib.training.worker import (
    backend_default,
    bundle_payload,
    load_weights,
    model_payload,
    pump,
    start_child,
)

__all__ = ["TrainingRun"]


class TrainingRun:
    """Train a model on a DatasetBundle, off the caller's thread.

    `model` is a ModelSpec, a spec dict or an nn.Module (trained in place). The constructor
    validates the config and checks the model against the data (ConfigError, SpecError); nothing
    trains until `start()`. After the run `.model` is on the CPU in eval mode.

    `backend`: "process" trains in a child process's main thread (cnnlib.training.worker; ~1.8x
    faster with 2 OpenMP threads, and a crash cannot take the web server down), "thread" in a
    thread of this process; None: `backend_default()` ($CNN_CLASSROOM_TRAIN_IN, else process where
    the platform has forkserver). A background thread of this process waits for the slot and, with
    the process backend, relays the child's events into the run's state.
    """

    def __init__(
        self,
        model: Any,
        dataset: DatasetBundle,
        config: TrainConfig | None = None,
        *,
        name: str = "",
        slots: SlotLimiter | None = None,
        backend: str | None = None,
        owner: str | None = None,
        priority: bool = False,
    ) -> None:
        if backend not in (None, "thread", "process"):
            raise ValueError(f"backend must be 'thread' or 'process', got {backend!r}")
        self.backend = backend or backend_default()
        self.config = copy.deepcopy(config) if config is not None else TrainConfig()
        self.config.validate(len(dataset.train))
        self.bundle = dataset
        self.classes = list(dataset.classes)
        # Priced on the meta device first: nothing of the student's model is allocated before it fits.
        self.num_params = check_model(model, dataset, self.config.batch_size)
        self.model, self.spec = resolve_model(model, self.config.seed)
        self.id = uuid.uuid4().hex[:8]
        self.name = name or f"run {self.id}"
        self.slots = slots if slots is not None else get_limiter()
        self.owner, self.priority = owner, priority  # one run per owner; the teacher's go first
        self.device = pick_device(self.config.device)
        self.num_threads = self.config.num_threads or threads_per_run(self.slots.max_runs)

        n = len(dataset.train)
        self.train_size, self.val_size = self.config.train_val_sizes(n)
        self.steps_per_epoch, self.total_steps = plan_steps(
            self.train_size, self.config.batch_size, self.config.epochs
        )

        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._done_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._ticket: Ticket | None = None
        self._stop_reason: str | None = None
        self.test_probs: np.ndarray | None = None  # [N_test, K] after the run
        self.child_pid: int | None = None  # the training process's pid (process backend), once started
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
        self._losses = LossCurve()  # fills s["batch_loss"], s["batch_step"], s["batch_lr"]
        self._recorded = False

    # -- public API ----------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._state["status"]

    @property
    def done(self) -> bool:
        return self._state["status"] in DONE_STATUSES

    @property
    def recorded(self) -> bool:
        """True once `claim_record()` has been called: someone has kept (or declined) the model."""
        return self._recorded

    def claim_record(self) -> bool:
        """True for the first caller only: whoever gets it keeps `record()` (the page and its
        keep-alive thread may both try, the moment the run ends), so a run is recorded once."""
        with self._lock:
            first, self._recorded = not self._recorded, True
        return first

    def record(self, name: str = "") -> TrainedModel | None:
        """The trained model (weights copied to the CPU) once the run is done, or None when there is
        nothing to keep: not done, no batch trained, no test accuracy, or a module without a spec."""
        snap = self.snapshot()
        if not self.done or snap.step == 0 or snap.test_accuracy is None or self.spec is None:
            return None
        return TrainedModel(
            spec=self.spec.to_dict(),
            state_dict=cpu_state_dict(self.model),
            classes=list(self.classes),
            mean=list(self.bundle.mean),
            std=list(self.bundle.std),
            dataset=self.bundle.name,
            name=name,
            test_accuracy=float(snap.test_accuracy),
        )

    def start(self) -> TrainingRun:
        """Queue the run for a slot and start its thread. A run starts once; make a new one to retrain.
        Raises QueueRefused (nothing started) when its owner has a run queued or running, or the
        queue is full."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError(
                    "This run has already been started; create a new TrainingRun to train again."
                )
            self._ticket = self.slots.enqueue(
                self.name,
                owner=self.owner,
                priority=self.priority,
                work=float(self.total_steps * self.config.batch_size),  # examples over all epochs
                max_seconds=self.config.max_seconds,
            )
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
            ticket.work_done = float(self._state["step"] * self.config.batch_size)  # for estimates
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
        cap = min(self.config.max_seconds or math.inf, self.slots.max_seconds or math.inf)
        plan = LoopPlan(
            self.train_size, self.val_size, self.steps_per_epoch, self.total_steps, self.num_threads, cap
        )
        if self.backend == "process":
            try:
                payload = {
                    "model": model_payload(self.model),
                    "bundle": bundle_payload(self.bundle),
                    "config": self.config,
                    "plan": plan,
                    "device": str(self.device),
                }
            except Exception:  # noqa: BLE001 - e.g. a model class that cannot be pickled
                self.backend = "thread"  # train here instead: slower, but it trains
            else:
                self._train_in_child(ticket, payload)
                return
        self._train_in_thread(ticket, plan)

    def _stale(self, ticket: Ticket, step: int | None = None) -> bool:
        if (step is None or (step & 31) == 0 and step) and ticket.is_stale():
            self._stop_reason = "stale"
            return True
        return False

    def _train_in_thread(self, ticket: Ticket, plan: LoopPlan) -> None:
        lower_priority(thread_only=True)  # this run's own thread yields to page runs (ends with it)

        def should_stop(step: int) -> str | None:
            if self._stop_event.is_set():
                return self._stop_reason or "user"
            return "stale" if self._stale(ticket, step) else None

        train_loop(self.model, self.bundle, self.config, plan, self.device, self._apply, should_stop)

    def _train_in_child(self, ticket: Ticket, payload: dict[str, Any]) -> None:
        self._set(message="Starting the training process…")
        proc, conn, stop = start_child(payload)
        self.child_pid = proc.pid
        last_check = [0.0]

        def stop_reason() -> str | None:
            if self._stop_event.is_set():
                return self._stop_reason or "user"
            now = time.monotonic()
            if now - last_check[0] >= 1.0:
                last_check[0] = now
                if self._stale(ticket):
                    return "stale"
            return None

        pump(proc, conn, stop, self._apply, stop_reason, lambda state: load_weights(self.model, state))

    def _apply(self, kind: str, data: dict[str, Any]) -> None:
        """Take one event of the training loop (cnnlib.training.loop) into the run's state."""
        if kind == "remaining":
            if self._ticket is not None:
                self._ticket.set_remaining(data["seconds"])
            return
        with self._lock:
            s = self._state
            if kind == "batch":
                s.update(step=data["step"], current_lr=data["lr"])
                self._losses.add(s, data["loss"], data["step"], data["lr"])
                if data["examples_per_sec"] is not None:
                    s["examples_per_sec"] = data["examples_per_sec"]
            elif kind == "running":
                s.update(status="running", message="Training…", t_start=data["t_start"])
            elif kind == "epoch":
                s["epoch"] = data["epoch"]
                s["train_loss"].append(data["train_loss"])
                s["train_acc"].append(data["train_acc"])
                if data["val_loss"] is not None:
                    s["val_loss"].append(data["val_loss"])
                    s["val_acc"].append(data["val_acc"])
                s["lr"].append(data["lr"])
                s["current_lr"] = data["current_lr"]
            elif kind == "best":
                s["best_epoch"] = data["epoch"]
            elif kind == "trained":
                s.update(
                    examples_per_sec=data["examples_per_sec"],
                    t_end=data["t_end"],
                    message="Measuring accuracy on the test set…",
                )
            elif kind == "test":
                self.test_probs = data["probs"]
                s.update(test_accuracy=data["test_accuracy"], test_loss=data["test_loss"])
            elif kind == "done":
                message = data["message"]
                if s["test_accuracy"] is not None:
                    message += guessing_note(
                        s["test_accuracy"],
                        chance_accuracy(self.bundle.test_labels),
                        self.config,
                        list(s["batch_loss"]),
                        data["steps"],
                        self.steps_per_epoch,
                    )
                s.update(status=data["status"], message=message)
            elif kind == "failed":
                s.update(status="failed", message=data["message"], error=data["error"], t_end=data["t_end"])
