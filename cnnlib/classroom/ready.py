"""The teacher's "Ready?" check before class: each part of the server a lesson needs, tried now.

A check is a name and a step that does the real thing once (write to the class database, start
the training processes, load the bundled data and model, run a model summary) and says what it
found; `run_checks` times each and turns a failure into a plain line instead of an error, so the
teacher sees every result at once. The first student then does not pay for the warm-up either:
what a check loads stays loaded. The steps themselves are the pages' (they know their caches);
this module keeps the order, the timing and the wording, and reads the memory there is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ReadyCheck", "run_checks", "memory_status", "megabytes"]


MAX_DETAIL = 200  # a failure's text is cut here (never a traceback)
PROC = Path("/proc")
CGROUP = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class ReadyCheck:
    """One part of the server, checked: what was tried, whether it works, what it found."""

    name: str
    ok: bool
    detail: str
    seconds: float


def run_checks(
    steps: Sequence[tuple[str, Callable[[], str]]], clock: Callable[[], float] = time.perf_counter
) -> list[ReadyCheck]:
    """Run each (name, step) in order; a step returns what it found or raises. Every step runs."""
    out = []
    for name, step in steps:
        t0 = clock()
        try:
            detail, ok = step(), True
        except Exception as err:  # noqa: BLE001 - any failure is one line of the check, not a crash
            detail, ok = (str(err).strip() or type(err).__name__)[:MAX_DETAIL], False
        out.append(ReadyCheck(name, ok, detail, clock() - t0))
    return out


@dataclass(frozen=True)
class MemoryStatus:
    """This process's memory and the room left (bytes; None where the system does not say)."""

    rss: int | None
    available: int | None  # what the machine (or the container's limit) still has
    limit: int | None  # the container's memory limit (cgroup v2), None when unlimited


def _number(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _kib(path: Path, field: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def memory_status(proc: Path = PROC, cgroup: Path = CGROUP) -> MemoryStatus:
    """RSS of this process, and what is available: the container's limit minus its use when there
    is a limit, else the machine's MemAvailable."""
    rss = _kib(proc / "self" / "status", "VmRSS")
    available = _kib(proc / "meminfo", "MemAvailable")
    limit = used = None
    try:
        limit = _number((cgroup / "memory.max").read_text())
        used = _number((cgroup / "memory.current").read_text())
    except OSError:
        pass
    if limit is not None and used is not None:
        room = max(0, limit - used)
        available = room if available is None else min(available, room)
    return MemoryStatus(rss, available, limit)


def megabytes(n: int | None) -> str:
    return "unknown" if n is None else f"{n / 2**20:,.0f} MB"
