"""Training slots: a process-wide limit on concurrent training runs, with a fair, bounded queue.

One small server trains for a whole class. `SlotLimiter` lets at most `max_runs` runs train at
once (default: half the CPU cores, at least 1, fewer where the memory limit holds fewer:
cnnlib.training.capacity; env `CNN_CLASSROOM_MAX_RUNS`); the others wait
in arrival order and can see their position and an estimated wait. Each run holds a `Ticket`:

    ticket = limiter.enqueue("alice's run", owner="class:ab12:sid", work=12_000)
    if ticket.wait(timeout=0.5):     # True once it holds a slot
        ...train...
        ticket.release()
    ticket.cancel()                  # leave the queue (or give the slot back)

A ticket also carries the run's heartbeat: once `heartbeat()` has been called (the page calls it
on every poll), a ticket not heard from for `heartbeat_timeout` seconds is stale: the session
that started it has gone, so a queued stale ticket is dropped and a running one should stop
(TrainingRun checks `is_stale()` every batch). `max_seconds` is the wall-time cap a run gets
(env `CNN_CLASSROOM_MAX_SECONDS`). `get_limiter()` returns the process-wide limiter.

One student cannot hold the queue (issue 24): an `owner` (a student id in a class, else the
browser session) has at most one ticket queued or running, a second `enqueue` raises
`QueueRefused` ("busy"); a `priority` ticket (the teacher's) waits ahead of every other, behind
earlier priority ones; at most `max_queue` tickets wait (env `CNN_CLASSROOM_MAX_QUEUE`, default
16 per core), past that `enqueue` raises `QueueRefused` ("full"); priority tickets are never
refused for a full queue. `refusal()` says the same before any work is done for the run.

Estimates come from what each run ahead is set to do: a ticket's `work` (the examples it will
train on over all its epochs) times the seconds per example of recent finished runs (their slot
time over the `work_done` they report), within the run's time cap; without either, the recent
runs' average time, or the cap.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["QueueRefused", "cpu_cores", "SlotLimiter", "get_limiter"]


DEFAULT_MAX_SECONDS = 600.0
DEFAULT_HEARTBEAT_TIMEOUT = 60.0
QUEUE_PER_CORE = 16  # default bound on waiting tickets: 2 x cores x 8


class QueueRefused(Exception):
    """A run the queue does not take: `reason` is "busy" (its owner has one queued or running) or
    "full" (max_queue tickets wait); `message` says so to the student."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def cpu_cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _env_number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= minimum else default


def cpu_runs() -> int:
    """The most runs the cores allow: half of them, at least 1."""
    return max(1, cpu_cores() // 2)


def default_max_runs() -> int:
    """$CNN_CLASSROOM_MAX_RUNS if set (>= 1), else what the cores and the memory allow together
    (cnnlib.training.capacity: half the cores, fewer where the memory limit holds fewer)."""
    from cnnlib.training.capacity import training_plan

    return int(_env_number("CNN_CLASSROOM_MAX_RUNS", training_plan(cpu_runs()).runs, 1))


def default_max_queue() -> int:
    """$CNN_CLASSROOM_MAX_QUEUE if set (>= 1), else 16 per core (2 x cores x 8)."""
    return int(_env_number("CNN_CLASSROOM_MAX_QUEUE", QUEUE_PER_CORE * cpu_cores(), 1))


def threads_per_run(max_runs: int | None = None) -> int:
    """torch threads for one training run so that `max_runs` runs together fill the cores."""
    runs = max_runs if max_runs is not None else get_limiter().max_runs
    return max(1, cpu_cores() // max(1, runs))


class Ticket:
    """One run's place in the limiter: queued, active (holding a slot) or done."""

    def __init__(
        self,
        limiter: SlotLimiter,
        label: str,
        ident: int,
        *,
        owner: str | None = None,
        priority: bool = False,
        work: float | None = None,
        max_seconds: float | None = None,
    ) -> None:
        self.limiter = limiter
        self.label = label
        self.id = ident
        self.owner = owner  # who it belongs to: one ticket queued or running per owner
        self.priority = priority  # the teacher's: waits ahead of everyone else's
        self.work = work  # examples it will train on, for the estimates (None: unknown)
        self.work_done: float | None = None  # examples it trained on, set by the run before release
        self.max_seconds = max_seconds  # its own time cap, if below the limiter's
        self.state = "queued"  # queued -> active -> released, or -> cancelled
        self.enqueued_at = limiter.clock()
        self.started_at: float | None = None
        self.remaining: float | None = None  # the active run's own ETA in seconds, for estimates
        self.last_heartbeat: float | None = None  # None until the first heartbeat() arms the check

    # -- state ---------------------------------------------------------------------------------
    @property
    def position(self) -> int | None:
        """0 while holding a slot, 1.. while queued (1 = next), None once released or cancelled."""
        with self.limiter._cond:
            if self.state == "active":
                return 0
            if self.state == "queued":
                return self.limiter._queue.index(self) + 1
            return None

    @property
    def active(self) -> bool:
        return self.state == "active"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until this ticket holds a slot (True), it is cancelled, or `timeout` passes (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.limiter._cond:
            while True:
                self.limiter._admit()
                if self.state == "active":
                    return True
                if self.state != "queued":
                    return False
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self.limiter._cond.wait(left)

    def release(self) -> None:
        """Give the slot back (or leave the queue); safe to call more than once."""
        self.limiter._finish(self, "released")

    def cancel(self) -> None:
        """Leave the queue without training (or give the slot back)."""
        self.limiter._finish(self, "cancelled")

    # -- heartbeat and estimates -----------------------------------------------------------------
    def heartbeat(self) -> None:
        """The page is still there. The first call arms the staleness check."""
        self.last_heartbeat = self.limiter.clock()

    def is_stale(self, now: float | None = None) -> bool:
        """True when heartbeats were armed and none came for `heartbeat_timeout` seconds."""
        if self.last_heartbeat is None or self.limiter.heartbeat_timeout is None:
            return False
        now = self.limiter.clock() if now is None else now
        return now - self.last_heartbeat > self.limiter.heartbeat_timeout

    def set_remaining(self, seconds: float | None) -> None:
        """The active run's estimate of its remaining time (used for the queue's estimates)."""
        self.remaining = seconds

    def estimated_wait(self) -> float | None:
        """Seconds until this queued ticket should get a slot (0 if active, None if done)."""
        return self.limiter.estimated_wait(self)

    def __repr__(self) -> str:
        return f"Ticket({self.id}, {self.label!r}, {self.state})"


@dataclass(frozen=True)
class LimiterStats:
    """A consistent view of the limiter for the UI and the load test."""

    max_runs: int
    active: int
    queued: int
    active_labels: tuple[str, ...]
    queued_labels: tuple[str, ...]


BUSY_MESSAGE = (
    "You already have a run training or waiting in the queue (perhaps in another tab). Stop it "
    "first, or wait for it to finish: one run per student at a time. Nothing was changed."
)


def full_message(waiting: int) -> str:
    return (
        f"The training queue is full ({waiting} {'run is' if waiting == 1 else 'runs are'} waiting). "
        "Try again in a few minutes: nothing was changed."
    )


class SlotLimiter:
    """At most `max_runs` active tickets; the rest wait in order (priority tickets first), at most
    `max_queue` of them, and at most one ticket per owner."""

    def __init__(
        self,
        max_runs: int | None = None,
        *,
        max_seconds: float | None = None,
        heartbeat_timeout: float | None = None,
        max_queue: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cond = threading.Condition(threading.RLock())
        self._queue: deque[Ticket] = deque()
        self._active: list[Ticket] = []
        self._ids = itertools.count(1)
        self._durations: deque[float] = deque(maxlen=20)  # recent runs' slot times, for estimates
        self._rates: deque[tuple[float, float]] = deque(maxlen=20)  # recent (seconds, examples)
        self.max_queue = max_queue if max_queue is not None else default_max_queue()
        self.clock = clock
        self.max_runs = max_runs if max_runs is not None else default_max_runs()
        self.max_seconds = max_seconds if max_seconds is not None else DEFAULT_MAX_SECONDS
        self.heartbeat_timeout = (
            heartbeat_timeout if heartbeat_timeout is not None else DEFAULT_HEARTBEAT_TIMEOUT
        )

    @property
    def max_runs(self) -> int:
        return self._max_runs

    @max_runs.setter
    def max_runs(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"max_runs must be a whole number >= 1, got {value!r}")
        with self._cond:
            self._max_runs = value
            self._admit()
            self._cond.notify_all()

    def refusal(self, owner: str | None = None, priority: bool = False) -> QueueRefused | None:
        """Why `enqueue` would refuse this owner's run now (None: it would take it)."""
        with self._cond:
            self._admit()
            if owner is not None and any(
                t.owner == owner and not t.is_stale() for t in (*self._active, *self._queue)
            ):
                return QueueRefused("busy", BUSY_MESSAGE)
            full = len(self._active) >= self._max_runs and len(self._queue) >= self.max_queue
            if full and not priority:
                return QueueRefused("full", full_message(len(self._queue)))
            return None

    def enqueue(
        self,
        label: str = "",
        *,
        owner: str | None = None,
        priority: bool = False,
        work: float | None = None,
        max_seconds: float | None = None,
    ) -> Ticket:
        """Join the queue (a priority ticket ahead of every other, behind earlier priority ones);
        the ticket becomes active as soon as a slot is free and it is first. Raises QueueRefused
        when `owner` has a ticket queued or running, or the queue is full."""
        with self._cond:
            refused = self.refusal(owner, priority)
            if refused is not None:
                raise refused
            ticket = Ticket(
                self,
                label,
                next(self._ids),
                owner=owner,
                priority=priority,
                work=work,
                max_seconds=max_seconds,
            )
            if priority:
                ahead = sum(1 for t in self._queue if t.priority)
                self._queue.insert(ahead, ticket)
            else:
                self._queue.append(ticket)
            self._admit()
            self._cond.notify_all()
            return ticket

    def try_acquire(self, label: str = "") -> Ticket | None:
        """An active ticket if a slot is free and nobody is waiting, else None (nothing queued)."""
        with self._cond:
            self._drop_stale()
            if self._queue or len(self._active) >= self._max_runs:
                return None
            ticket = Ticket(self, label, next(self._ids))
            self._activate(ticket)
            return ticket

    def stats(self) -> LimiterStats:
        with self._cond:
            self._admit()
            return LimiterStats(
                self._max_runs,
                len(self._active),
                len(self._queue),
                tuple(t.label for t in self._active),
                tuple(t.label for t in self._queue),
            )

    def expected_seconds(self, ticket: Ticket) -> float:
        """How long `ticket`'s run should hold its slot: its work at the recent seconds per example,
        else the recent runs' average time, else the cap; never more than its cap."""
        with self._cond:
            cap = min(self.max_seconds, ticket.max_seconds or math.inf)
            seconds = sum(s for s, _ in self._rates)
            examples = sum(n for _, n in self._rates)
            if ticket.work is not None and examples > 0:
                return min(cap, ticket.work * seconds / examples)
            if self._durations:
                return min(cap, sum(self._durations) / len(self._durations))
            return cap

    def estimated_wait(self, ticket: Ticket) -> float | None:
        """Seconds until `ticket` should start: each slot frees when its run's ETA says (else its
        expected time, within its cap), and every ticket ahead in the queue takes the first free
        slot for its own expected time (`expected_seconds`: from its configured epochs)."""
        with self._cond:
            if ticket.state == "active":
                return 0.0
            if ticket.state != "queued":
                return None
            now = self.clock()
            free_at = []
            for t in self._active:
                used = now - (t.started_at or now)
                cap = min(self.max_seconds, t.max_seconds or math.inf)
                left = t.remaining if t.remaining is not None else self.expected_seconds(t) - used
                free_at.append(max(0.0, min(left, cap - used)))
            free_at += [0.0] * max(0, self._max_runs - len(free_at))
            heapq.heapify(free_at)
            for ahead in self._queue:
                if ahead is ticket:
                    break
                heapq.heappush(free_at, heapq.heappop(free_at) + self.expected_seconds(ahead))
            return free_at[0]

    # -- internals (call with the lock held) ------------------------------------------------------
    def _activate(self, ticket: Ticket) -> None:
        ticket.state = "active"
        ticket.started_at = self.clock()
        self._active.append(ticket)

    def _drop_stale(self) -> None:
        now = self.clock()
        for t in [t for t in self._queue if t.is_stale(now)]:
            self._queue.remove(t)
            t.state = "cancelled"

    def _admit(self) -> None:
        self._drop_stale()
        while self._queue and len(self._active) < self._max_runs:
            self._activate(self._queue.popleft())

    def _finish(self, ticket: Ticket, state: str) -> None:
        with self._cond:
            if ticket.state == "queued":
                self._queue.remove(ticket)
            elif ticket.state == "active":
                self._active.remove(ticket)
                if state == "released" and ticket.started_at is not None:
                    took = self.clock() - ticket.started_at
                    self._durations.append(took)
                    if ticket.work_done:
                        self._rates.append((took, float(ticket.work_done)))
            else:
                return
            ticket.state = state
            self._admit()
            self._cond.notify_all()


_LIMITER: SlotLimiter | None = None
_LIMITER_LOCK = threading.Lock()


def get_limiter() -> SlotLimiter:
    """The process-wide limiter, created on first use from the environment:
    CNN_CLASSROOM_MAX_RUNS, CNN_CLASSROOM_MAX_SECONDS, CNN_CLASSROOM_HEARTBEAT_S,
    CNN_CLASSROOM_MAX_QUEUE."""
    global _LIMITER
    with _LIMITER_LOCK:
        if _LIMITER is None:
            _LIMITER = SlotLimiter(
                default_max_runs(),
                max_seconds=_env_number("CNN_CLASSROOM_MAX_SECONDS", DEFAULT_MAX_SECONDS, 1),
                heartbeat_timeout=_env_number("CNN_CLASSROOM_HEARTBEAT_S", DEFAULT_HEARTBEAT_TIMEOUT, 1),
                max_queue=default_max_queue(),
            )
        return _LIMITER
