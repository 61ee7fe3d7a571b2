"""cnnlib.training.slots, issue 24 item 7: one student cannot hold the training queue.

One ticket queued or running per owner, the teacher's tickets ahead of the rest, a bounded queue,
and waits estimated from the configured work of each run ahead (not a fixed average).
"""

from __future__ import annotations

import pytest

from cnnlib.training import QueueRefused, SlotLimiter
from cnnlib.training import slots as S


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_one_ticket_per_owner_queued_or_running():
    lim = SlotLimiter(1, clock=FakeClock())
    a = lim.enqueue("ana 1", owner="ana")
    assert a.active
    with pytest.raises(QueueRefused) as err:
        lim.enqueue("ana 2", owner="ana")  # running: refused
    assert err.value.reason == "busy" and "Stop it first" in err.value.message
    b = lim.enqueue("ben 1", owner="ben")
    assert b.position == 1
    with pytest.raises(QueueRefused):
        lim.enqueue("ben 2", owner="ben")  # queued: refused too
    assert lim.stats().queued == 1, "a refused run leaves no ticket behind"
    assert lim.refusal("ben") is not None and lim.refusal("cleo") is None
    lim.enqueue("anonymous")  # no owner: not limited per owner
    lim.enqueue("anonymous")
    a.release()
    assert b.active
    a2 = lim.enqueue("ana 2", owner="ana")  # once the first is done, the owner may train again
    assert a2.state == "queued"
    b.cancel()
    assert lim.refusal("ben") is None


def test_a_stale_ticket_does_not_hold_its_owner():
    clock = FakeClock()
    lim = SlotLimiter(1, heartbeat_timeout=30, clock=clock)
    a = lim.enqueue("tab 1", owner="ana")
    a.heartbeat()
    clock.t += 31  # the tab that started it is gone; its run is stopping
    assert a.is_stale()
    b = lim.enqueue("tab 2", owner="ana")
    assert b.state == "queued"


def test_teacher_tickets_go_ahead_of_students_in_their_own_order():
    lim = SlotLimiter(1, clock=FakeClock())
    running = lim.enqueue("s0", owner="s0")
    s1, s2 = lim.enqueue("s1", owner="s1"), lim.enqueue("s2", owner="s2")
    t1 = lim.enqueue("teacher", owner="teacher", priority=True)
    t2 = lim.enqueue("teacher 2", owner="teacher 2", priority=True)
    assert (t1.position, t2.position, s1.position, s2.position) == (1, 2, 3, 4)
    assert lim.stats().queued_labels == ("teacher", "teacher 2", "s1", "s2")
    running.release()
    assert t1.active and s1.position == 2


def test_the_queue_is_bounded_and_says_so():
    lim = SlotLimiter(1, max_queue=2, clock=FakeClock())
    lim.enqueue("running")
    lim.enqueue("q1")
    lim.enqueue("q2")
    with pytest.raises(QueueRefused) as err:
        lim.enqueue("q3", owner="cleo")
    assert err.value.reason == "full" and "queue is full (2 runs are waiting)" in err.value.message
    assert lim.stats().queued == 2
    teacher = lim.enqueue("teacher", owner="teacher", priority=True)  # never refused as full
    assert teacher.position == 1 and lim.stats().queued == 3


def test_max_queue_from_the_environment(monkeypatch):
    monkeypatch.setenv("CNN_CLASSROOM_MAX_QUEUE", "5")
    assert S.default_max_queue() == 5 and SlotLimiter(1).max_queue == 5
    for bad in ("0", "many", ""):
        monkeypatch.setenv("CNN_CLASSROOM_MAX_QUEUE", bad)
        assert S.default_max_queue() == 16 * S.cpu_cores()
    monkeypatch.setattr(S, "_LIMITER", None)
    monkeypatch.setenv("CNN_CLASSROOM_MAX_QUEUE", "7")
    assert S.get_limiter().max_queue == 7


def test_the_wait_counts_the_configured_work_of_each_run_ahead():
    """The issue's case: four long runs ahead must not read as "about 2.7 min"."""
    clock = FakeClock()
    lim = SlotLimiter(1, max_seconds=600, clock=clock)
    # One finished demo run: 3,000 examples in 30 s, so 0.01 s per example.
    demo = lim.enqueue("demo", work=3000)
    clock.t += 30
    demo.work_done = 3000
    demo.release()
    probe = lim.enqueue("probe", work=6000)
    assert lim.expected_seconds(probe) == pytest.approx(60.0)
    probe.cancel()
    long_runs = [lim.enqueue(f"long {i}", owner=f"p{i}", work=500 * 3000) for i in range(4)]
    me = lim.enqueue("me", owner="me", work=3000)
    assert long_runs[0].active and me.position == 4
    # Each long run is expected to take its cap (600 s); three wait ahead plus the running one.
    assert me.estimated_wait() == pytest.approx(4 * 600.0)
    long_runs[0].set_remaining(100.0)  # the running one's own ETA wins while it is known
    assert me.estimated_wait() == pytest.approx(100.0 + 3 * 600.0)


def test_the_wait_uses_each_runs_own_cap_and_a_short_run_ahead_counts_short():
    clock = FakeClock()
    lim = SlotLimiter(1, max_seconds=600, clock=clock)
    done = lim.enqueue("done", work=1000)
    clock.t += 10
    done.work_done = 1000  # 0.01 s per example
    done.release()
    running = lim.enqueue("running", work=10_000, max_seconds=50)  # expected 100 s, capped at 50
    short = lim.enqueue("short", work=2000)  # 20 s
    me = lim.enqueue("me", work=10**9)
    clock.t += 20
    assert me.estimated_wait() == pytest.approx((50 - 20) + 20)
    assert lim.expected_seconds(me) == 600.0
    running.release()
    assert short.active and me.estimated_wait() == pytest.approx(20.0)


def test_an_early_stop_teaches_the_rate_from_the_work_it_did():
    clock = FakeClock()
    lim = SlotLimiter(1, max_seconds=600, clock=clock)
    stopped = lim.enqueue("stopped early", work=100_000)
    clock.t += 5
    stopped.work_done = 500  # stopped after 500 examples: 0.01 s each, not 5 s for 100,000
    stopped.release()
    nothing = lim.enqueue("failed at once", work=1000)
    nothing.work_done = 0  # no work done: teaches nothing about the rate
    nothing.release()
    assert lim.expected_seconds(lim.enqueue("next", work=1000)) == pytest.approx(10.0)


def test_without_work_or_history_a_run_is_assumed_to_take_the_cap():
    lim = SlotLimiter(1, max_seconds=300, clock=FakeClock())
    lim.enqueue("a")
    b = lim.enqueue("b", work=1234)
    c = lim.enqueue("c")
    assert lim.expected_seconds(b) == 300.0
    assert c.estimated_wait() == pytest.approx(600.0)
