"""Training in a process of its own: the loop in a child's main thread, its events over a pipe.

Measured on this project's 2-core machine (torch 2.14.1, OpenMP): the same training loop runs at
~22,000 examples/s in a process's main thread with 2 torch threads but ~12,500 in a second thread
of the same process, because only the main thread's OpenMP team keeps spinning between parallel
regions. So a run trains in a child process: forked from a forkserver that has imported torch and
this module once (the first run starts it, ~2 s), so a new child costs a fork, not an import.

The child gets plain data (the model pickled: built and initialised here, so the child needs no
spec analysis; the dataset's uint8 arrays; the config and the plan), runs
`cnnlib.training.loop.train_loop` in its main thread, and sends the loop's events back, per-batch
events gathered every SEND_EVERY_S seconds so the web server's interpreter lock is touched a few
times a second, not per batch. It ends by sending the final weights, then the closing event
("done" or "failed"), so a run is never seen as done before its weights are back. A crash, a kill
(e.g. the kernel's out-of-memory killer) or an exception in the child ends the run as "failed" with a
message; the web server itself is never at risk.

`stop` is a shared integer the child reads before each batch: 0 go on, else the index of the
reason in STOP_REASONS (the parent sets it: the student's Stop, or the page gone stale).
"""

from __future__ import annotations

import gc
import importlib.machinery
import os
import pickle
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnlib.data import DatasetBundle, ImageTensorDataset
from cnnlib.process import keep_freed_blocks
from cnnlib.training.advice import friendly_error
from cnnlib.training.capacity import lower_priority, training_plan
from cnnlib.training.config import TrainConfig
from cnnlib.training.loop import train_loop
from cnnlib.training.slots import cpu_runs

__all__ = ["backend_default", "prewarm"]


STOP_REASONS = ("", "user", "stale")
SEND_EVERY_S = 0.1  # batch events are gathered and sent this often
PRELOAD = [
    "torch",
    "torch._dynamo",  # torch.optim imports dynamo: 1 s
    "cnnlib.training.worker",
]

_CONTEXT: Any = None
_CONTEXT_LOCK = threading.Lock()
_START_LOCK = threading.Lock()
_PREWARMED = False


def backend_default() -> str:
    """ "process" (a forkserver child per run) where the platform has forkserver and the memory
    limit holds a training process beside the server (cnnlib.training.capacity), else "thread".

    $CNN_CLASSROOM_TRAIN_IN=thread or =process overrides it.
    """
    import multiprocessing as mp

    choice = os.environ.get("CNN_CLASSROOM_TRAIN_IN", "").strip().lower()
    if choice in ("thread", "process"):
        return choice if choice == "thread" or "forkserver" in mp.get_all_start_methods() else "thread"
    if "forkserver" not in mp.get_all_start_methods():
        return "thread"
    return training_plan(cpu_runs()).backend  # "thread" where no training process fits the memory


def context() -> Any:
    """The forkserver context, with torch and this module preloaded in the server (made once)."""
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            import multiprocessing as mp

            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _CONTEXT = ctx
        return _CONTEXT


def prewarm() -> None:
    """Start the forkserver now, in the background (it imports torch once: ~2 s, then ready).

    Idempotent and cheap after the first call (the Training page calls it on every view). Does
    nothing where runs train in threads (no training process fits the memory: no forkserver).
    """
    global _PREWARMED
    if backend_default() != "process":
        return
    with _CONTEXT_LOCK:
        if _PREWARMED:
            return
        _PREWARMED = True

    def start() -> None:
        from multiprocessing import forkserver

        context()
        forkserver.ensure_running()

    threading.Thread(target=start, name="forkserver-prewarm", daemon=True).start()


# ------------------------------------------------------------------------------ the parent's side


def model_payload(model: nn.Module) -> bytes:
    """The model, pickled on the CPU (parameters and buffers included). Raises for a module whose
    class cannot be pickled (e.g. defined inside a function); the run then trains in a thread."""
    return pickle.dumps(model.cpu(), protocol=pickle.HIGHEST_PROTOCOL)


def bundle_payload(bundle: DatasetBundle) -> dict[str, Any]:
    """The dataset as numpy arrays and plain fields (no shared-memory tensors cross the pipe)."""
    return {
        "name": bundle.name,
        "train_images": bundle.train_images.numpy(),  # [N, C, H, W] uint8
        "train_labels": bundle.train_labels.numpy(),  # [N] int64
        "test_images": bundle.test_images.numpy(),  # [M, C, H, W] uint8
        "test_labels": bundle.test_labels.numpy(),  # [M] int64
        "classes": list(bundle.classes),
        "input_shape": tuple(bundle.input_shape),
        "mean": tuple(bundle.mean),
        "std": tuple(bundle.std),
    }


def load_weights(model: nn.Module, state: dict[str, np.ndarray]) -> None:
    """Put the child's final weights into the parent's model (same architecture)."""
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})


def exit_message(exitcode: int | None) -> str:
    """Why a child ended without a word, for a student."""
    if exitcode is not None and exitcode < 0:
        import signal

        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return (
            f"The training process stopped unexpectedly: it was killed by {name}{hint}. The web app is fine; "
            "try a smaller model or batch size, or train again."
        )
    return f"The training process stopped unexpectedly (exit code {exitcode}). Train again."


@contextmanager
def main_module_hidden() -> Iterator[None]:
    """While a child starts, `__main__` is a bare module, so the child does not run the main script.

    multiprocessing tells each child the path of `sys.modules["__main__"]` and the child runs that
    file as `__mp_main__` before its target. In a web server `__main__` is the page script that
    ran last (Streamlit installs each run's script there): the child re-ran a whole page in bare
    mode (~0.76 s of CPU and ~58 KB of warnings per run) for nothing, as the target is a function
    of this module. A module named `__main__` by its spec is skipped by the child. The real one is
    put back unless a page run has installed its own meanwhile.
    """
    bare = types.ModuleType("__main__")
    bare.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
    with _START_LOCK:
        real = sys.modules.get("__main__")
        sys.modules["__main__"] = bare
        try:
            yield
        finally:
            if sys.modules.get("__main__") is bare and real is not None:
                sys.modules["__main__"] = real


def start_child(payload: dict[str, Any]) -> tuple[Any, Connection, Any]:
    """Fork a training child from the forkserver. Returns (process, the parent's pipe end, stop value)."""
    ctx = context()
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    stop = ctx.Value("i", 0, lock=False)
    proc = ctx.Process(target=child_main, args=(child_conn, stop, payload), name="cnn-training", daemon=True)
    with main_module_hidden():
        proc.start()
    child_conn.close()
    return proc, parent_conn, stop


def pump(
    proc: Any,
    conn: Connection,
    stop: Any,
    apply: Callable[[str, dict[str, Any]], None],
    stop_reason: Callable[[], str | None],
    on_weights: Callable[[dict[str, np.ndarray]], None],
) -> None:
    """Read the child's events into `apply` until it ends; its final weights go to `on_weights`
    as they arrive (before the closing event).

    `stop_reason()` is asked several times a second; a reason is passed on to the child.
    Ends the run with a "failed" event when the child dies without its closing event.
    """
    closed = False
    try:
        while True:
            reason = stop_reason()
            if reason and stop.value == 0:
                stop.value = STOP_REASONS.index(reason) if reason in STOP_REASONS else 1
            if conn.poll(0.2):
                try:
                    kind, data = conn.recv()
                except (EOFError, OSError):
                    break
                if kind == "batches":
                    for item in data:
                        apply("batch", item)
                elif kind == "weights":
                    on_weights(data)
                else:
                    apply(kind, data)
                    if kind in ("done", "failed"):
                        closed = True
                        break
            elif not proc.is_alive() and not conn.poll(0):
                break
    finally:
        conn.close()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)
    if not closed:
        apply(
            "failed",
            {
                "message": exit_message(proc.exitcode),
                "error": f"exit code {proc.exitcode}",
                "t_end": time.perf_counter(),
            },
        )


# ------------------------------------------------------------------------------ the child's side


def _rebuild_bundle(d: dict[str, Any]) -> DatasetBundle:
    return DatasetBundle(
        name=d["name"],
        train=ImageTensorDataset(torch.from_numpy(d["train_images"]), torch.from_numpy(d["train_labels"])),
        test=ImageTensorDataset(torch.from_numpy(d["test_images"]), torch.from_numpy(d["test_labels"])),
        classes=list(d["classes"]),
        input_shape=tuple(d["input_shape"]),
        mean=tuple(d["mean"]),
        std=tuple(d["std"]),
    )


def child_main(conn: Connection, stop: Any, payload: dict[str, Any]) -> None:
    """The child: rebuild, train in this (main) thread, send events, then the weights, then the end."""
    gc.freeze()  # the forkserver's objects (torch, dynamo: ~150 MB) out of the collector's sight
    lower_priority()  # page runs first: on one core, a student's answer must not wait for a batch
    keep_freed_blocks()  # activations reuse the heap instead of new pages every batch (+25 %)
    torch.set_num_threads(payload["plan"].num_threads)
    batches: list[dict[str, Any]] = []
    last_send = time.perf_counter()
    closing: list[tuple[str, dict[str, Any]]] = []
    model = None

    def flush() -> None:
        nonlocal last_send
        if batches:
            conn.send(("batches", list(batches)))
            batches.clear()
        last_send = time.perf_counter()

    def emit(kind: str, data: dict[str, Any]) -> None:
        if kind == "batch":
            batches.append(data)
            if time.perf_counter() - last_send >= SEND_EVERY_S:
                flush()
            return
        flush()
        if kind in ("done", "failed"):
            closing.append((kind, data))  # sent after the weights
        else:
            conn.send((kind, data))

    def should_stop(_step: int) -> str | None:
        code = stop.value
        return STOP_REASONS[code] if 0 < code < len(STOP_REASONS) else None

    try:
        model = pickle.loads(payload["model"])
        bundle = _rebuild_bundle(payload["bundle"])
        config: TrainConfig = payload["config"]
        # Dropout's masks come from torch's global generator: this process trains one run only,
        # so seeding it here makes a run with dropout repeat itself (and the exported notebook).
        torch.manual_seed(config.seed)
        train_loop(model, bundle, config, payload["plan"], torch.device(payload["device"]), emit, should_stop)
        flush()
    except BaseException as exc:  # noqa: BLE001 - anything: the parent must hear why
        flush()
        closing[:] = [
            (
                "failed",
                {
                    "message": friendly_error(exc),
                    "error": f"{type(exc).__name__}: {exc}",
                    "t_end": time.perf_counter(),
                },
            )
        ]
    try:
        if model is not None:
            conn.send(("weights", {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}))
        for item in closing:
            conn.send(item)
    finally:
        conn.close()
