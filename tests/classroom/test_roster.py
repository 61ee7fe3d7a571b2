"""Who is in a class, on SQLite and PostgreSQL: leaving, the teacher's list, removing, locking, v3 migration."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from cnnlib.classroom import ClassError, ClassMember, ClassStore, format_code
from cnnlib.classroom import schema as schema_mod
from cnnlib.classroom import sessions as sessions_mod
from cnnlib.classroom.codes import hash_key, student_key
from tests.classroom.conftest import dump, old_database

RUN = {"accuracy": 0.9, "params": 1000}


@pytest.fixture
def lesson(store):
    """A class with Ana and Bo, each with an answer to the open poll and a run on the board."""
    info = store.create_class("Roster")
    ana = store.join(info.code, "Ana")
    bo = store.join(info.code, "Bo")
    pid = store.open_poll(info.code, info.teacher_key, "Output size?", ["26", "28"], correct="26")
    store.answer(info.code, pid, ana, "26")
    store.answer(info.code, pid, bo, "28")
    store.post_run(info.code, ana, RUN)
    store.post_run(info.code, bo, {**RUN, "accuracy": 0.5})
    return info, ana, bo, pid


def _url(store: ClassStore) -> str:
    return store._url.render_as_string(hide_password=False)


def test_counts_are_of_students_present_and_leaving_keeps_their_work(store, lesson):
    info, ana, bo, pid = lesson
    assert store.status(info.code).students == store.projector(info.code).students == 2
    store.leave(info.code, ana)
    store.leave(info.code, ana)  # a second click: nothing more to do
    assert store.status(info.code).students == 1
    view = store.projector(info.code)
    assert view.students == 1 and view.headline.startswith(f"1 student in class {format_code(info.code)}")
    assert view.runs == 2 and [e["nickname"] for e in store.board(info.code)] == ["Ana", "Bo"]
    assert store.poll(info.code, pid) == {"26": 1, "28": 1}  # Ana's answer still counts
    with pytest.raises(ClassError, match="You left class"):
        store.post_run(info.code, ana, RUN)
    with pytest.raises(ClassError, match="You are not in class"):
        store.answer(info.code, pid, ana, "28")
    with pytest.raises(ClassError, match="You left class"):
        store.nickname(info.code, ana)
    assert store.students(info.code, info.teacher_key) == [  # listed by their ids' hashes
        ClassMember(student_key(ana), "Ana", False),
        ClassMember(student_key(bo), "Bo", True),
    ]
    # Her name stays taken (her run is on the board under it): joining again is a new student.
    assert store.join_as(info.code, "Ana")[1] == "Ana 2"
    assert store.status(info.code).students == 2
    with pytest.raises(ClassError, match="You are not in class"):
        store.leave(info.code, "not-a-student")


def test_the_class_size_limit_counts_present_students(store, monkeypatch):
    monkeypatch.setattr(sessions_mod, "MAX_STUDENTS", 2)
    info = store.create_class()
    ana = store.join(info.code, "Ana")
    store.join(info.code, "Bo")
    with pytest.raises(ClassError, match="is full"):
        store.join(info.code, "Cy")
    store.leave(info.code, ana)
    assert store.join_as(info.code, "Cy")[1] == "Cy"


def test_joining_and_leaving_over_and_over_is_bounded(store, monkeypatch):
    monkeypatch.setattr(sessions_mod, "MAX_JOINS", 3)
    info = store.create_class()
    for name in ["Ana", "Bo", "Cy"]:
        store.leave(info.code, store.join(info.code, name))
    assert store.status(info.code).students == 0
    with pytest.raises(ClassError, match="has had 3 joins; start a new class"):
        store.join(info.code, "Di")


def test_removing_a_student_removes_their_answers_runs_and_seat(store, lesson):
    info, ana, bo, pid = lesson
    seat = store.issue_seat(info.code, "student", student_id=ana)
    assert store.follow(info.code, ana) == store.follow(info.code)  # a student's tick: in the class
    assert store.remove_student(info.code, info.teacher_key, ana) == "Ana"
    with pytest.raises(ClassError, match="You are not in class"):
        store.follow(info.code, ana)  # the student's next tick says so, in the same round trip
    assert store.poll(info.code, pid) == {"26": 0, "28": 1}
    assert [e["nickname"] for e in store.board(info.code)] == ["Bo"]
    assert (store.status(info.code).students, store.status(info.code).runs) == (1, 1)
    assert store.students(info.code, info.teacher_key) == [ClassMember(student_key(bo), "Bo", True)]
    with pytest.raises(ClassError, match="You are not in class"):
        store.redeem_seat(seat)
    with pytest.raises(ClassError, match="You are not in class"):
        store.post_run(info.code, ana, RUN)
    with pytest.raises(ClassError, match=r"not in class .* \(already removed\?\)"):
        store.remove_student(info.code, info.teacher_key, ana)
    # A student who left can be removed too (their work goes with them), by the id the list shows.
    store.leave(info.code, bo)
    with pytest.raises(ClassError, match="You left class"):
        store.follow(info.code, bo)
    (listed,) = store.students(info.code, info.teacher_key)
    assert store.remove_student(info.code, info.teacher_key, listed.student_id) == "Bo"
    assert store.board(info.code) == [] and store.poll(info.code, pid) == {"26": 0, "28": 0}
    assert store.join_as(info.code, "Ana")[1] == "Ana"  # a removed student's name is free again


def test_locking_refuses_new_joins_but_keeps_the_class_going(store, lesson):
    info, ana, bo, pid = lesson
    seat = store.issue_seat(info.code, "student", student_id=ana)
    assert not store.status(info.code).locked and not store.projector(info.code).locked
    version = store.follow(info.code).version
    store.lock_class(info.code, info.teacher_key, True)
    assert store.status(info.code).locked and store.projector(info.code).locked
    before = dump(_url(store))
    with pytest.raises(ClassError) as refused:
        store.join(info.code, "Cy")
    assert str(refused.value) == f"Class {format_code(info.code)} is locked: ask your teacher."
    assert dump(_url(store)) == before
    assert store.redeem_seat(seat).nickname == "Ana"  # students already in carry on
    store.answer(info.code, pid, ana, "28")
    store.post_run(info.code, ana, RUN)
    assert store.follow(info.code).version == version  # auto-followers are not sent anywhere
    store.lock_class(info.code, info.teacher_key, False)
    assert store.join_as(info.code, "Cy")[1] == "Cy" and not store.status(info.code).locked
    for bad in [1, "yes", None]:
        with pytest.raises(ClassError, match="Lock the class with True"):
            store.lock_class(info.code, info.teacher_key, bad)


def test_only_the_teacher_sees_and_changes_the_list(store, lesson):
    info, ana, bo, pid = lesson
    other = store.create_class("Other")
    before = dump(_url(store))
    actions = {
        "see the list of students": lambda key: store.students(info.code, key),
        "remove a student": lambda key: store.remove_student(info.code, key, ana),
        "lock or unlock the class": lambda key: store.lock_class(info.code, key, True),
    }
    for action, call in actions.items():
        for key in [None, "", ana, other.teacher_key, info.teacher_key[:-1], "x" * 10_000]:
            with pytest.raises(ClassError, match=f"Only the teacher can {action}"):
                call(key)
    with pytest.raises(ClassError, match="not in class"):
        store.remove_student(other.code, other.teacher_key, ana)  # another class's student
    for bad in [None, 42, "x" * 10_000]:
        with pytest.raises(ClassError, match="not in class"):
            store.remove_student(info.code, info.teacher_key, bad)
    assert dump(_url(store)) == before


def test_an_ended_class_refuses_roster_changes(store, lesson, clock):
    info, ana, bo, pid = lesson
    clock.advance(12 * 3600)
    for call in [
        lambda: store.leave(info.code, ana),
        lambda: store.students(info.code, info.teacher_key),
        lambda: store.remove_student(info.code, info.teacher_key, ana),
        lambda: store.lock_class(info.code, info.teacher_key, True),
    ]:
        with pytest.raises(ClassError, match="has ended"):
            call()


@pytest.mark.parametrize("name", ["Teacher", "teacher 2", "Тeacher", "Teаcher", "T e a c h e r", "Аna"])
def test_a_nickname_that_passes_for_someone_else_is_refused_and_writes_nothing(store, name):
    info = store.create_class()
    store.join(info.code, "Ana")
    before = dump(_url(store))
    with pytest.raises(ClassError, match="pass for|cannot mix"):
        store.join(info.code, name)
    assert dump(_url(store)) == before


def test_a_version_2_database_migrates_to_the_latest_in_place(store_url, clock):
    """A database as v2 left it (no seats, no locking, no leaving) gets them and keeps its rows."""
    old_database(store_url, 2)
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO classes (code, title, teacher_key_hash, created_at, expires_at, version, "
                "follow_link, shared_run) VALUES ('KXMQ2R', 'Old', :h, :t, :e, 4, '/x', '')"
            ),
            {"h": hash_key("k" * 32), "t": clock(), "e": clock() + 3600},
        )
        conn.execute(
            text(
                "INSERT INTO students (id, class_code, nickname, nickname_key, joined_at) "
                "VALUES ('old-student-id-000000', 'KXMQ2R', 'Ana', 'ana', :t)"
            ),
            {"t": clock()},
        )
    engine.dispose()
    store = ClassStore.open(store_url, clock=clock)
    try:
        with store._writer.connect() as conn:
            assert schema_mod.current_version(conn) == schema_mod.SCHEMA_VERSION >= 4
        status = store.status("KXMQ2R")
        assert (status.title, status.students, status.locked, status.follow.version) == ("Old", 1, False, 4)
        seat = store.redeem_seat(store.issue_seat("KXMQ2R", "student", student_id="old-student-id-000000"))
        assert seat.nickname == "Ana"
        assert (
            store.redeem_seat(store.issue_seat("KXMQ2R", "teacher", teacher_key="k" * 32)).role == "teacher"
        )
        store.lock_class("KXMQ2R", "k" * 32, True)
        with pytest.raises(ClassError, match="is locked"):
            store.join("KXMQ2R", "Bo")
        store.leave("KXMQ2R", "old-student-id-000000")
        assert store.status("KXMQ2R").students == 0
    finally:
        store.close()
