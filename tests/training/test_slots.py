"""Tests for cnnlib.training.slots: the process-wide limit on concurrent training runs and its FIFO queue."""

from __future__ import annotations

import threading

import pytest

from cnnlib.training import SlotLimiter
from cnnlib.training import slots as S


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_limit_and_fifo_order():
    lim = SlotLimiter(2, clock=FakeClock())
    a, b, c, d = (lim.enqueue(x) for x in "abcd")
    assert (a.position, b.position, c.position, d.position) == (0, 0, 1, 2)
    assert a.active and b.active and not c.active
    st = lim.stats()
    assert (st.active, st.queued, st.queued_labels) == (2, 2, ("c", "d"))
    b.release()
    assert c.active and d.position == 1
    a.release()
    assert d.active and lim.stats().queued == 0
    c.release()
    d.release()
    assert lim.stats().active == 0 and d.position is None


def test_cancel_while_queued_and_release_twice():
    lim = SlotLimiter(1, clock=FakeClock())
    a, b, c = lim.enqueue("a"), lim.enqueue("b"), lim.enqueue("c")
    b.cancel()
    assert b.state == "cancelled" and b.position is None and c.position == 1
    assert not b.wait(timeout=0)
    a.release()
    a.release()  # harmless
    assert c.active and not b.active
    c.cancel()  # cancelling an active ticket gives the slot back
    assert lim.stats().active == 0


def test_try_acquire_respects_queue():
    lim = SlotLimiter(1, clock=FakeClock())
    t = lim.try_acquire("x")
    assert t is not None and t.active
    assert lim.try_acquire("y") is None  # full
    t.release()
    q = lim.enqueue("q")
    assert q.active
    assert lim.try_acquire("z") is None


def test_raising_max_runs_admits_waiters():
    lim = SlotLimiter(1, clock=FakeClock())
    a, b = lim.enqueue("a"), lim.enqueue("b")
    assert not b.active
    lim.max_runs = 2
    assert b.active and a.active
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError):
            lim.max_runs = bad


def test_waiting_threads_start_in_arrival_order():
    lim = SlotLimiter(1)
    holder = lim.enqueue("holder")
    order: list[str] = []
    tickets = [lim.enqueue(f"t{i}") for i in range(5)]
    threads = []

    def worker(t):
        assert t.wait(timeout=10)
        order.append(t.label)
        t.release()

    for t in reversed(tickets):  # threads start in the wrong order on purpose
        th = threading.Thread(target=worker, args=(t,))
        th.start()
        threads.append(th)
    holder.release()
    for th in threads:
        th.join(10)
    assert order == [f"t{i}" for i in range(5)]
    assert lim.stats().active == 0


def test_never_more_than_max_active_under_contention():
    lim = SlotLimiter(3)
    lock = threading.Lock()
    active, peak = [0], [0]
    barrier = threading.Barrier(12)

    def worker(i):
        t = lim.enqueue(str(i))
        barrier.wait()
        assert t.wait(timeout=10)
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        for _ in range(1000):  # a little work while holding the slot
            pass
        with lock:
            active[0] -= 1
        t.release()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert 1 <= peak[0] <= 3 and lim.stats() == S.LimiterStats(3, 0, 0, (), ())


def test_wait_timeout_and_wakeup():
    lim = SlotLimiter(1)
    a, b = lim.enqueue("a"), lim.enqueue("b")
    assert not b.wait(timeout=0.01)
    threading.Timer(0.05, a.release).start()
    assert b.wait(timeout=5)


def test_cancel_wakes_a_waiter():
    lim = SlotLimiter(1)
    lim.enqueue("a")
    b = lim.enqueue("b")
    threading.Timer(0.05, b.cancel).start()
    assert b.wait(timeout=5) is False and b.state == "cancelled"


def test_heartbeat_staleness_drops_queued_ticket():
    clock = FakeClock()
    lim = SlotLimiter(1, heartbeat_timeout=30, clock=clock)
    a, b, c = lim.enqueue("a"), lim.enqueue("b"), lim.enqueue("c")
    assert not b.is_stale()  # never armed: never stale
    clock.t += 1000
    assert not b.is_stale()
    b.heartbeat()
    c.heartbeat()
    clock.t += 20
    c.heartbeat()
    clock.t += 20  # b silent for 40 s, c for 20 s
    assert b.is_stale() and not c.is_stale()
    a.release()
    assert b.state == "cancelled" and c.active  # the stale one lost its place
    a.heartbeat()  # released tickets may still be poked
    assert lim.stats().active == 1


def test_estimated_wait():
    clock = FakeClock()
    lim = SlotLimiter(2, max_seconds=600, clock=clock)
    a, b = lim.enqueue("a"), lim.enqueue("b")
    c, d, e = lim.enqueue("c"), lim.enqueue("d"), lim.enqueue("e")
    assert a.estimated_wait() == 0.0
    a.set_remaining(10.0)
    b.set_remaining(30.0)
    # No finished runs yet: a queued run is assumed to take the cap (600 s).
    assert c.estimated_wait() == pytest.approx(10.0)
    assert d.estimated_wait() == pytest.approx(30.0)
    assert e.estimated_wait() == pytest.approx(610.0)
    # After runs that took 40 s, that is what a run is expected to take.
    clock.t += 40
    a.release()  # took 40 s
    assert c.active
    c.set_remaining(None)  # no estimate yet: typical (40 s) minus the time it has run (0)
    assert d.estimated_wait() == pytest.approx(min(30.0, 40.0))
    assert e.estimated_wait() == pytest.approx(40.0)
    c.release()
    assert e.position == 1
    assert lim.estimated_wait(c) is None


def test_environment_defaults(monkeypatch):
    monkeypatch.setenv("CNN_CLASSROOM_MAX_RUNS", "3")
    assert S.default_max_runs() == 3
    monkeypatch.setenv("CNN_CLASSROOM_MAX_RUNS", "zero")
    assert S.default_max_runs() == max(1, S.cpu_cores() // 2)
    monkeypatch.setenv("CNN_CLASSROOM_MAX_RUNS", "0")
    assert S.default_max_runs() == max(1, S.cpu_cores() // 2)
    monkeypatch.delenv("CNN_CLASSROOM_MAX_RUNS")
    assert S.default_max_runs() == max(1, S.cpu_cores() // 2)
    assert S.threads_per_run(1) == S.cpu_cores() and S.threads_per_run(10**6) == 1


def test_global_limiter_is_shared(monkeypatch):
    monkeypatch.setattr(S, "_LIMITER", None)
    monkeypatch.setenv("CNN_CLASSROOM_MAX_RUNS", "4")
    monkeypatch.setenv("CNN_CLASSROOM_MAX_SECONDS", "123")
    monkeypatch.setenv("CNN_CLASSROOM_HEARTBEAT_S", "7")
    lim = S.get_limiter()
    assert (
        lim is S.get_limiter() and lim.max_runs == 4 and lim.max_seconds == 123 and lim.heartbeat_timeout == 7
    )
