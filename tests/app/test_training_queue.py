"""AppTest: the Training page's queue, issue 24 item 7: one run queued or running per student (all
their tabs), the teacher's runs first, a bounded queue refused with a message.

Every test holds the one training slot with a ticket of its own, so no run here trains: the runs
wait in the queue and are stopped there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from cnnlib.training import get_limiter
from tests.conftest import open_app

PAGE = "pages/4_training.py"


@pytest.fixture
def busy_server() -> Iterator:
    """The process-wide limiter with one slot, held by another student for the whole test."""
    limiter = get_limiter()
    saved = limiter.max_runs, limiter.max_queue
    limiter.max_runs = 1
    blocker = limiter.try_acquire("another student")
    assert blocker is not None, "the slot must be free at the start of this test"
    try:
        yield limiter
    finally:
        blocker.release()
        limiter.max_runs, limiter.max_queue = saved


def _tab(member: dict | None = None) -> AppTest:
    at = open_app(PAGE, state={"class": dict(member)} if member else None, timeout=120)
    at.selectbox(key="tr_dataset").set_value("shapes")
    at.selectbox(key="tr_model").set_value("TinyCNN")
    at.number_input(key="tr_ep").set_value(1)
    at.run()
    assert not at.exception, at.exception
    return at


def _train(at: AppTest) -> AppTest:
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    return at


def _class(db) -> tuple[dict, dict]:
    info = db.create_class("Queue")
    teacher = {"code": info.code, "role": "teacher", "key": info.teacher_key, "lead": True}
    sid = db.join(info.code, "Ana")
    return teacher, {"code": info.code, "role": "student", "sid": sid, "name": "Ana", "auto": False}


def _stop(at: AppTest) -> None:
    run = at.session_state["train_run"]
    at.button(key="train_stop").click().run()
    assert run.wait(30) and run.status == "stopped"


def test_a_student_with_a_run_in_one_tab_cannot_queue_another_in_a_second_tab(db, busy_server):
    _, ana = _class(db)
    first = _train(_tab(ana))
    assert first.session_state["train_run"].status == "queued"
    second = _train(_tab(ana))
    warnings = [w.value for w in second.warning]
    assert any("already have a run training or waiting" in w for w in warnings), warnings
    assert "train_run" not in second.session_state
    assert busy_server.stats().queued == 1
    _stop(first)
    again = _train(second)  # once the first has left the queue, the second tab may train
    assert again.session_state["train_run"].status == "queued"
    _stop(again)


def test_the_teachers_run_waits_ahead_of_the_students(db, busy_server):
    teacher, _ = _class(db)
    waiting = busy_server.enqueue("a student who came first", owner="someone")
    try:
        at = _train(_tab(teacher))
        run = at.session_state["train_run"]
        assert run.priority and run.snapshot().queue_position == 1
        assert busy_server.stats().queued_labels[1] == "a student who came first"
        at.run()
        assert any("number 1" in i.value for i in at.info)
        _stop(at)
    finally:
        waiting.cancel()


def test_a_full_queue_refuses_with_a_message_and_starts_nothing(busy_server):
    busy_server.max_queue = 1
    waiting = busy_server.enqueue("a student already waiting")
    try:
        at = _train(_tab())
        warnings = [w.value for w in at.warning]
        assert any("training queue is full (1 run is waiting)" in w for w in warnings), warnings
        assert "train_run" not in at.session_state
        assert busy_server.stats().queued == 1
    finally:
        waiting.cancel()
