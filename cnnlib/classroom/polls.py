"""Class polls: the teacher opens one with a fixed list of options, students answer, the teacher reveals.

A student's answer is one row per (poll, student): answering again replaces it (an upsert, so two
clicks at once still leave one answer). An answer outside the poll's options, or to a poll that is
closed or revealed, is refused. Counts are read with one grouped query on the answers' primary key.
Opening, closing and revealing a poll bump the class's version, so students polling the follow-me
row see the change within a poll interval.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import ColumnElement, Connection, Select, and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cnnlib.classroom.codes import format_code, student_key
from cnnlib.classroom.errors import ClassError
from cnnlib.classroom.records import PollInfo
from cnnlib.classroom.schema import answers, classes, inserted_id, polls, students
from cnnlib.classroom.sessions import (
    LIFETIME_COLUMNS,
    PRESENT,
    bump_version,
    check_live,
    live_class,
    not_in_class,
    require_teacher,
)
from cnnlib.classroom.validation import clean_answer, clean_poll

__all__: list[str] = []


MAX_POLLS = 500  # per class


def _poll_id(poll_id: object) -> int:
    """A poll id as an int; the digits of one (from a link's query string) are accepted too."""
    if isinstance(poll_id, str) and poll_id.isascii() and poll_id.isdigit() and len(poll_id) <= 10:
        poll_id = int(poll_id)
    if isinstance(poll_id, bool) or not isinstance(poll_id, int) or not 0 < poll_id < 2**31:
        raise ClassError(f"{str(poll_id)[:40]!r} is not a poll number.")
    return poll_id


def _no_poll(code: str, poll_id: int) -> ClassError:
    return ClassError(f"There is no poll {poll_id} in class {format_code(code)}.")


def open_poll(
    conn: Connection,
    code: str,
    teacher_key: object,
    question: object,
    options: object,
    correct: object,
    now: float,
) -> int:
    """Open a poll and make it the class's current one; return its id."""
    question, options, correct = clean_poll(question, options, correct)
    row = live_class(conn, code, now)
    require_teacher(row, teacher_key, "open a poll")
    count = conn.execute(
        select(func.count()).select_from(polls).where(polls.c.class_code == code)
    ).scalar_one()
    if count >= MAX_POLLS:
        raise ClassError(f"Class {format_code(code)} already has {MAX_POLLS} polls; start a new class.")
    result = conn.execute(
        polls.insert().values(
            class_code=code,
            question=question,
            options=json.dumps(options),
            correct=correct,
            state="open",
            created_at=now,
        )
    )
    poll_id = inserted_id(result)
    bump_version(conn, code, current_poll_id=poll_id)
    return poll_id


def set_state(
    conn: Connection, code: str, teacher_key: object, poll_id: object, state: str, now: float
) -> None:
    """Close a poll (no more answers) or reveal it (closed, and its answer shown to everyone)."""
    poll_id = _poll_id(poll_id)
    row = live_class(conn, code, now)
    require_teacher(row, teacher_key, "close or reveal a poll")
    done = conn.execute(
        update(polls).where(polls.c.id == poll_id, polls.c.class_code == code).values(state=state)
    ).rowcount
    if not done:
        raise _no_poll(code, poll_id)
    bump_version(conn, code)


def answer(conn: Connection, code: str, poll_id: object, student_id: object, text: object, now: float) -> str:
    """Record (or replace) a student's answer; return it as stored."""
    poll_id = _poll_id(poll_id)
    sid = student_key(student_id)  # "" (no row) for anything that is not a student id
    found = conn.execute(
        select(
            *LIFETIME_COLUMNS,
            polls.c.id.label("poll"),
            polls.c.options,
            polls.c.state,
            students.c.id.label("student"),
        )
        .select_from(
            classes.outerjoin(
                polls, and_(polls.c.class_code == classes.c.code, polls.c.id == poll_id)
            ).outerjoin(
                students,
                and_(students.c.class_code == classes.c.code, students.c.id == sid, PRESENT),
            )
        )
        .where(classes.c.code == code)
    ).first()
    row = check_live(found, code, now)
    if row.student is None:
        raise not_in_class(code)
    if row.poll is None:
        raise _no_poll(code, poll_id)
    if row.state != "open":
        raise ClassError("This poll is closed: answers are no longer taken.")
    choice = clean_answer(text, json.loads(row.options))
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(answers).values(poll_id=poll_id, student_id=sid, answer=choice, answered_at=now)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[answers.c.poll_id, answers.c.student_id],
            set_={"answer": stmt.excluded.answer, "answered_at": stmt.excluded.answered_at},
        )
    )
    return choice


def counts_query(poll_id: int | ColumnElement) -> Select:
    """SELECT answer, count(*) for one poll (poll_id: a value or a scalar subquery)."""
    return (
        select(answers.c.answer, func.count().label("n"))
        .where(answers.c.poll_id == poll_id)
        .group_by(answers.c.answer)
    )


def ordered_counts(options: list[str], rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Counts for every option, in the poll's order (0 where nobody chose it)."""
    got = {r[0]: r[1] for r in rows}
    return {opt: int(got.get(opt, 0)) for opt in options}


def poll_info(conn: Connection, code: str, poll_id: object, teacher_key: object, now: float) -> PollInfo:
    """A poll with its counts; the answer only once revealed, or for the teacher."""
    poll_id = _poll_id(poll_id)
    row = live_class(conn, code, now)
    poll = conn.execute(select(polls).where(polls.c.id == poll_id, polls.c.class_code == code)).first()
    if poll is None:
        raise _no_poll(code, poll_id)
    options = json.loads(poll.options)
    counts = ordered_counts(options, conn.execute(counts_query(poll_id)))
    show = poll.state == "revealed"
    if not show and teacher_key:
        require_teacher(row, teacher_key, "see the answer before it is revealed")
        show = True
    return PollInfo(
        poll.id, poll.question, tuple(options), poll.state, counts, poll.correct if show else None
    )


def student_answer(
    conn: Connection, code: str, poll_id: object, student_id: object, now: float
) -> str | None:
    """The answer this student gave to this poll, or None."""
    poll_id = _poll_id(poll_id)
    live_class(conn, code, now)
    key = student_key(student_id)
    if not key:
        return None
    return conn.scalar(
        select(answers.c.answer)
        .join(polls, polls.c.id == answers.c.poll_id)
        .where(answers.c.poll_id == poll_id, answers.c.student_id == key, polls.c.class_code == code)
    )
