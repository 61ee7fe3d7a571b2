"""How many runs train at once, and where, from the memory there is (issue 28).

A small host (Streamlit Community Cloud guarantees 690 MB) cannot hold what a big one can. The web
server alone is 487-563 MB with the CPU-only torch build; a training process imports torch again
(measured on the CPU-only build: the forkserver 248 MB PSS and the resource tracker 6 MB, paid
once; each training child 248-292 MB PSS while it trains the Digit CNN on the MNIST sample).
So `plan_training` gives:

- no memory limit: the CPU rule (half the cores, at least 1), in forkserver children;
- a limit that holds the forkserver and at least one child beside the server: as many children
  as fit, never more than the CPU rule;
- a tighter limit (Cloud): one run at a time, trained in a thread of the server, which needs no
  second torch (about `THREAD_RUN_MB` for the run's data and activations); the other runs queue.

At least one run always trains; the rest wait in the queue rather than exceed the limit.

The server's footprint is its RSS when the plan is made (the first use of the training queue)
plus `SERVER_GROWTH_MB` (a class of 30 grew it from 487 to 563 MB). The limit comes from the
cgroup (v2 `memory.max`, v1 `memory/memory.limit_in_bytes`); "max" or a v1 "unlimited" value
means none. Environment overrides: CNN_CLASSROOM_MEMORY_MB (the limit in MB; 0: none),
CNN_CLASSROOM_TRAIN_CHILD_MB (one training child), CNN_CLASSROOM_MAX_RUNS (the run count itself,
cnnlib.training.slots) and CNN_CLASSROOM_TRAIN_IN (thread or process, cnnlib.training.worker).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "TrainingPlan",
    "memory_limit",
    "server_footprint",
    "plan_training",
    "training_plan",
    "background_niceness",
    "lower_priority",
]

MB = 1024 * 1024
CGROUP = Path("/sys/fs/cgroup")
PROC_SELF = Path("/proc/self")
UNLIMITED = 1 << 60  # cgroup v1 reports "no limit" as a number near 2**63
FORKSERVER_MB = 260  # the forkserver and multiprocessing's resource tracker, PSS (CPU-only build)
CHILD_MB = 290  # one training child's PSS at its peak: 248-292 MB measured (Digit CNN, MNIST sample)
THREAD_RUN_MB = 130  # a run trained in the server (measured 129 MB: data, model, activations, dynamo)
SERVER_GROWTH_MB = 96  # the server's growth from warm idle to a class of 30 (487 -> 563 MB)
DEFAULT_NICE = 10  # training yields the CPU to page runs (a student waiting for an answer)


@dataclass(frozen=True)
class TrainingPlan:
    """What the memory allows: `runs` at once, trained in `backend` ("process" or "thread");
    `limit` and `server` in bytes (None: no limit / not read); `reason` says why, for a teacher."""

    runs: int
    backend: str
    limit: int | None
    server: int | None
    reason: str


def _env_mb(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip()
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 else None


def _read_number(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def memory_limit(cgroup: Path = CGROUP, env: Mapping[str, str] | None = None) -> int | None:
    """The container's memory limit in bytes, or None: $CNN_CLASSROOM_MEMORY_MB (0 = none), else
    cgroup v2 `memory.max`, else cgroup v1 `memory/memory.limit_in_bytes`."""
    env = os.environ if env is None else env
    override = _env_mb(env, "CNN_CLASSROOM_MEMORY_MB")
    if override is not None:
        return int(override * MB) if override > 0 else None
    for path in (cgroup / "memory.max", cgroup / "memory" / "memory.limit_in_bytes"):
        value = _read_number(path)
        if value is not None:
            return value if value < UNLIMITED else None
    return None


def server_footprint(proc_self: Path = PROC_SELF) -> int | None:
    """This process's resident memory now (bytes), None where /proc does not say."""
    try:
        for line in (proc_self / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def plan_training(
    limit: int | None,
    server: int | None,
    cpu_runs: int,
    *,
    child: float = CHILD_MB * MB,
    forkserver: float = FORKSERVER_MB * MB,
    thread_run: float = THREAD_RUN_MB * MB,
    growth: float = SERVER_GROWTH_MB * MB,
) -> TrainingPlan:
    """Runs at once and the backend for a `limit` (bytes, None: none) and a server of `server` bytes
    (None: unknown, taken as 0): see the module. `cpu_runs` (>= 1) is the most the cores allow."""
    cpu_runs = max(1, cpu_runs)
    if limit is None:
        return TrainingPlan(cpu_runs, "process", None, server, "no memory limit: the CPU decides")
    room = limit - (server or 0) - growth
    children = int((room - forkserver) // child) if child > 0 else cpu_runs
    if children >= 1:
        runs = min(cpu_runs, children)
        why = f"{children} training process(es) of {child / MB:.0f} MB fit beside the server"
        return TrainingPlan(runs, "process", limit, server, why)
    fits = room >= thread_run
    why = (
        f"no training process fits beside the server ({room / MB:.0f} MB left, a process needs "
        f"{(forkserver + child) / MB:.0f} MB): one run at a time in the server"
        + ("" if fits else ", though even that may not fit")
    )
    return TrainingPlan(1, "thread", limit, server, why)


_PLAN: TrainingPlan | None = None
_PLAN_LOCK = threading.Lock()


def training_plan(cpu_runs: int, refresh: bool = False) -> TrainingPlan:
    """This server's plan, made once (on first use) from the cgroup limit and its RSS then."""
    global _PLAN
    with _PLAN_LOCK:
        if _PLAN is None or refresh:
            child = _env_mb(os.environ, "CNN_CLASSROOM_TRAIN_CHILD_MB")
            _PLAN = plan_training(
                memory_limit(),
                server_footprint(),
                cpu_runs,
                child=child * MB if child else CHILD_MB * MB,
            )
        return _PLAN


def background_niceness(env: Mapping[str, str] | None = None) -> int:
    """How much lower training runs than page runs: $CNN_CLASSROOM_TRAIN_NICE (0-19), else 10."""
    raw = (os.environ if env is None else env).get("CNN_CLASSROOM_TRAIN_NICE", "").strip()
    try:
        value = int(raw) if raw else DEFAULT_NICE
    except ValueError:
        return DEFAULT_NICE
    return min(19, max(0, value))


def lower_priority(increment: int | None = None, thread_only: bool = False) -> int | None:
    """Lower this process's (or, on Linux, only this thread's) CPU priority by `increment` nice
    levels (default `background_niceness()`). On one core a training run otherwise takes half of it
    from thirty students' page runs. Returns the new nice value, None where it cannot be set."""
    step = background_niceness() if increment is None else increment
    if step <= 0:
        return None
    if thread_only and not sys.platform.startswith("linux"):
        return None  # elsewhere a thread id is not a valid target
    try:
        if thread_only:  # Linux: a thread's nice value is its own (setpriority on its thread id)
            tid = threading.get_native_id()
            target = min(19, os.getpriority(os.PRIO_PROCESS, tid) + step)
            os.setpriority(os.PRIO_PROCESS, tid, target)
            return target
        return os.nice(step)
    except (AttributeError, OSError):
        return None
