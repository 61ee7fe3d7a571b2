"""Student ids are stored as their hash (issue 24 item 9, schema v4), on SQLite and PostgreSQL.

A copy of the class database holds no id a student could be impersonated with: the id lives in the
student's session and seat token; the database compares hashes. A v3 database (raw ids) is hashed
in place when the new code opens it, and its students' seats, answers and runs carry on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from cnnlib.classroom import ClassError, ClassStore
from cnnlib.classroom import schema as schema_mod
from cnnlib.classroom.codes import hash_key, student_key
from tests.classroom.conftest import dump, old_database

RUN = {"accuracy": 0.9, "params": 1000}


def _raw_bytes(store_url: str) -> bytes:
    """Every byte of an SQLite database and its WAL (b"" for PostgreSQL)."""
    if not store_url.startswith("sqlite"):
        return b""
    path = Path(store_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_the_database_holds_no_student_id(store, store_url):
    info = store.create_class("Ids")
    ana, bo = store.join(info.code, "Ana"), store.join(info.code, "Bo")
    pid = store.open_poll(info.code, info.teacher_key, "Output size?", ["26", "28"])
    store.answer(info.code, pid, ana, "26")
    store.post_run(info.code, bo, RUN)
    token = store.issue_seat(info.code, "student", student_id=ana)
    store.leave(info.code, bo)
    everything = repr(dump(store_url))
    raw = _raw_bytes(store_url)
    for sid in (ana, bo):
        assert sid not in everything and sid.encode() not in raw
        assert student_key(sid) in everything  # what is kept instead
    # Everything still works with the ids the students hold.
    seat = store.redeem_seat(token)
    assert (seat.student_id, seat.nickname) == (ana, "Ana")
    assert store.my_answer(info.code, pid, ana) == "26" and store.poll(info.code, pid) == {"26": 1, "28": 0}
    assert [e["mine"] for e in store.board(info.code, viewer=bo)] == [True]
    assert [e["mine"] for e in store.board(info.code, viewer=ana)] == [False]
    # The stored key is not an id: it cannot act as the student.
    key = student_key(ana)
    for call in [
        lambda: store.answer(info.code, pid, key, "28"),
        lambda: store.post_run(info.code, key, RUN),
        lambda: store.nickname(info.code, key),
        lambda: store.issue_seat(info.code, "student", student_id=key),
    ]:
        with pytest.raises(ClassError, match="not in class"):
            call()
    assert store.my_answer(info.code, pid, key) is None


def _v3_database_with_a_lesson(store_url: str, now: float) -> dict[str, str]:
    """A database as schema v3 left it: a class, two students by their raw ids, answers and runs."""
    old_database(store_url, 3)
    ids = {"Ana": "AnaRawId_0123456789abc", "Bo": "BoRawId-0123456789abcd"}
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO classes (code, title, teacher_key_hash, created_at, expires_at, version, "
                "follow_link, shared_run, locked) VALUES ('KXMQ2R', 'Old', :h, :t, :e, 1, '', '', :no)"
            ),
            {"h": hash_key("k" * 32), "t": now, "e": now + 3600, "no": False},
        )
        conn.execute(
            text(
                "INSERT INTO polls (id, class_code, question, options, state, created_at) "
                "VALUES (7, 'KXMQ2R', 'Q?', '[\"26\", \"28\"]', 'open', :t)"
            ),
            {"t": now},
        )
        for name, sid in ids.items():
            conn.execute(
                text(
                    "INSERT INTO students (id, class_code, nickname, nickname_key, joined_at) "
                    "VALUES (:id, 'KXMQ2R', :n, :k, :t)"
                ),
                {"id": sid, "n": name, "k": name.lower(), "t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO answers (poll_id, student_id, answer, answered_at) VALUES (7, :id, '26', :t)"
                ),
                {"id": sid, "t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO runs (class_code, student_id, accuracy, params, model, link, dataset, "
                    "posted_at) VALUES ('KXMQ2R', :id, 0.5, 100, '', '', 'mnist', :t)"
                ),
                {"id": sid, "t": now},
            )
    engine.dispose()
    return ids


def test_a_version_3_database_gets_its_ids_hashed_and_its_students_carry_on(store_url, clock):
    ids = _v3_database_with_a_lesson(store_url, clock())
    engine = create_engine(store_url)
    with engine.connect() as conn:
        assert set(conn.scalars(text("SELECT id FROM students"))) == set(ids.values())  # raw, as v3 kept them
    engine.dispose()
    store = ClassStore.open(store_url, clock=clock)
    try:
        with store._writer.connect() as conn:
            assert schema_mod.current_version(conn) == schema_mod.SCHEMA_VERSION >= 4
            for table in ("answers", "runs"):  # the foreign keys are there again (PostgreSQL remade them)
                (fk,) = [
                    f for f in inspect(conn).get_foreign_keys(table) if f["referred_table"] == "students"
                ]
                assert fk["constrained_columns"] == ["student_id"]
        everything = repr(dump(store_url))
        assert all(sid not in everything and student_key(sid) in everything for sid in ids.values())
        # The students' seats (their raw ids), answers and runs carry on.
        seat = store.redeem_seat(store.issue_seat("KXMQ2R", "student", student_id=ids["Ana"]))
        assert (seat.student_id, seat.nickname) == (ids["Ana"], "Ana")
        assert store.poll("KXMQ2R", 7) == {"26": 2, "28": 0}
        store.answer("KXMQ2R", 7, ids["Bo"], "28")
        assert (
            store.poll("KXMQ2R", 7) == {"26": 1, "28": 1} and store.my_answer("KXMQ2R", 7, ids["Bo"]) == "28"
        )
        assert [e["mine"] for e in store.board("KXMQ2R", viewer=ids["Bo"])] == [False, True]
        assert store.remove_student("KXMQ2R", "k" * 32, ids["Ana"]) == "Ana"
        assert store.poll("KXMQ2R", 7) == {"26": 0, "28": 1} and len(store.board("KXMQ2R")) == 1
        new = store.join("KXMQ2R", "Cy", client="203.0.113.7")
        assert new not in repr(dump(store_url))
    finally:
        store.close()
    # Opened again: nothing more to migrate, and the hashes are not hashed twice.
    again = ClassStore.open(store_url, clock=clock)
    try:
        assert again.nickname("KXMQ2R", ids["Bo"]) == "Bo"
    finally:
        again.close()


def test_an_empty_version_3_database_migrates(store_url, clock):
    old_database(store_url, 3)
    store = ClassStore.open(store_url, clock=clock)
    try:
        info = store.create_class(client="203.0.113.7")
        assert store.nickname(info.code, store.join(info.code, "Ana", client="203.0.113.7")) == "Ana"
    finally:
        store.close()
