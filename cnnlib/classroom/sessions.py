"""Class sessions: creating and closing a class, the checks every request makes, joining, follow-me.

Each function takes an open SQLAlchemy connection inside the store's transaction and the current
time (`now`, epoch seconds), so the store decides transactions and the clock, and a test can
move time. `live_class` loads a class and refuses a wrong, closed or expired code;
`require_teacher` checks the teacher key (constant-time); `require_student` a student id (of a
student who has not left), looked up by its hash (codes.student_key: the database keeps no raw
id). A locked class refuses joins, and joins and new classes pass the rate limits of limits.py;
`PRESENT` is the filter of students who count (joined and not left).
"""

from __future__ import annotations

import functools
from typing import NamedTuple, TypeVar

from sqlalchemy import Connection, Row, Select, String, bindparam, func, select, update

from cnnlib.classroom.codes import (
    format_code,
    hash_key,
    key_matches,
    new_class_code,
    new_student_id,
    student_key,
)
from cnnlib.classroom.errors import ClassError
from cnnlib.classroom.limits import limit_create, limit_join, purge
from cnnlib.classroom.records import ClassInfo, ClassStatus, FollowState
from cnnlib.classroom.schema import class_models, classes, drawings, polls, runs, students
from cnnlib.classroom.validation import (
    MAX_TITLE,
    clean_link,
    clean_nickname,
    clean_text,
    nickname_key,
    unique_nickname,
)

__all__: list[str] = []


MAX_STUDENTS = 500  # per class, counting the students present (not those who left)
MAX_JOINS = 4 * MAX_STUDENTS  # per class, counting those who left too (their rows stay)
PURGE_AFTER_S = 7 * 24 * 3600.0  # classes expired this long ago are deleted with their data
TEACHER_ONLY = (
    "Only the teacher can {action}: open the class with the teacher link (it carries the teacher key)."
)


class Lifetime(NamedTuple):
    """The columns `check_live` reads (a row of `classes`, or a join holding them, also works)."""

    created_at: float
    expires_at: float
    closed_at: float | None


# The students who count: joined and not left.
PRESENT = students.c.left_at.is_(None)


def locked_message(code: str) -> str:
    """What a student who tries to join a locked class reads."""
    return f"Class {format_code(code)} is locked: ask your teacher."


# What check_live reads of a class: select these beside what a query needs for itself.
LIFETIME_COLUMNS = (classes.c.code, classes.c.created_at, classes.c.expires_at, classes.c.closed_at)


# A class row, or anything else holding the Lifetime columns (check_live hands it back, not None).
_LiveRow = TypeVar("_LiveRow", bound="Row | Lifetime")


def check_live(row: _LiveRow | None, code: str, now: float) -> _LiveRow:
    """Refuse a class that does not exist, was closed, or has expired; else return `row`."""
    if row is None:
        raise ClassError(
            f"There is no class with code {format_code(code)}. Check the code on the teacher's screen."
        )
    if row.closed_at is not None:
        raise ClassError(f"Class {format_code(code)} was closed by the teacher. Ask for a new class code.")
    if row.expires_at <= now:
        hours = (row.expires_at - row.created_at) / 3600
        raise ClassError(
            f"Class {format_code(code)} has ended: class sessions last {hours:g} hours. "
            "Ask your teacher for a new class code."
        )
    return row


def live_class(conn: Connection, code: str, now: float, *, lock: bool = False) -> Row:
    """The class row for `code`, refused if it is missing, closed or expired."""
    query = select(classes).where(classes.c.code == code)
    if lock:
        # PostgreSQL: one joiner at a time per class (SQLite: BEGIN IMMEDIATE). FOR NO KEY UPDATE,
        # so answers and posts (whose foreign keys take KEY SHARE on this row) are not held up.
        query = query.with_for_update(key_share=True)
    return check_live(conn.execute(query).first(), code, now)


def touch_class(conn: Connection, code: str, teacher_key: object, now: float) -> None:
    """A write that changes nothing (the class row set to itself): proves the database takes writes."""
    require_teacher(live_class(conn, code, now), teacher_key, "check the class")
    conn.execute(update(classes).where(classes.c.code == code).values(code=code))


def require_teacher(row: Row, teacher_key: object, action: str) -> None:
    """Refuse unless `teacher_key` is the class's teacher key."""
    if not teacher_key:
        raise ClassError(TEACHER_ONLY.format(action=action))
    if not key_matches(teacher_key, row.teacher_key_hash):
        raise ClassError(
            f"The teacher key does not match class {format_code(row.code)}. "
            + TEACHER_ONLY.format(action=action)
        )


def require_student(conn: Connection, code: str, student_id: object, *, present: bool = True) -> Row:
    """The student row, refused unless `student_id` joined class `code` (and, if `present`, has not left).
    The row's `id` is the stored key (the id's hash), not `student_id`."""
    row = None
    key = student_key(student_id)
    if key:
        row = conn.execute(
            select(students).where(students.c.id == key, students.c.class_code == code)
        ).first()
    if row is None:
        raise not_in_class(code)
    if present and row.left_at is not None:
        raise ClassError(f"You left class {format_code(code)}: join it again with your nickname.")
    return row


def not_in_class(code: str) -> ClassError:
    """The refusal for a student id that is not (or no longer) in the class."""
    return ClassError(f"You are not in class {format_code(code)}: join it again with your nickname.")


def student_name(conn: Connection, code: str, student_id: object, now: float) -> str:
    """The nickname of a student of the class (a page checks a student id it kept)."""
    live_class(conn, code, now)
    return require_student(conn, code, student_id).nickname


def create_class(
    conn: Connection, title: object, teacher_key: str, now: float, hours: float, client: object = None
) -> ClassInfo:
    """Insert a new class with a fresh code (within the per-address limit); delete classes that
    expired long ago and rate-limit buckets that are full again."""
    title = clean_text(title, "class title", MAX_TITLE, required=False) or "Class"
    limit_create(conn, client, now)
    conn.execute(classes.delete().where(classes.c.expires_at < now - PURGE_AFTER_S))
    purge(conn, now)
    for _ in range(20):
        code = new_class_code()
        if conn.scalar(select(classes.c.code).where(classes.c.code == code)) is None:
            break
    else:  # pragma: no cover - 20 collisions in a space of 887 million codes
        raise ClassError("Could not find a free class code; try again.")
    expires_at = now + hours * 3600
    conn.execute(
        classes.insert().values(
            code=code,
            title=title,
            teacher_key_hash=hash_key(teacher_key),
            created_at=now,
            expires_at=expires_at,
            version=0,
            follow_link="",
        )
    )
    return ClassInfo(code=code, teacher_key=teacher_key, title=title, expires_at=expires_at)


def bump_version(conn: Connection, code: str, **values: object) -> int:
    """Record a teacher action: version + 1 (and any column `values`); return the new version."""
    conn.execute(
        update(classes).where(classes.c.code == code).values(version=classes.c.version + 1, **values)
    )
    return conn.execute(select(classes.c.version).where(classes.c.code == code)).scalar_one()


def close_class(conn: Connection, code: str, teacher_key: object, now: float) -> None:
    """Close the class: no more joins, answers or posts; students see "closed"."""
    row = live_class(conn, code, now)
    require_teacher(row, teacher_key, "close the class")
    conn.execute(drawings.delete().where(drawings.c.class_code == code))  # drawings leave with the class
    conn.execute(class_models.delete().where(class_models.c.class_code == code))  # and its model
    bump_version(conn, code, closed_at=now)


def join(conn: Connection, code: str, nickname: object, now: float, client: object = None) -> tuple[str, str]:
    """Add a student (within the rate limits, `client`: their address); return (student_id, the
    nickname as stored, made unique). The database keeps the id's hash; the id goes to the student."""
    name = clean_nickname(nickname)
    row = live_class(conn, code, now, lock=True)
    if row.locked:
        raise ClassError(locked_message(code))
    limit_join(conn, code, client, now)
    joined, present = conn.execute(
        select(func.count(), func.count().filter(PRESENT)).where(students.c.class_code == code)
    ).one()
    if present >= MAX_STUDENTS:
        raise ClassError(f"Class {format_code(code)} is full ({MAX_STUDENTS} students).")
    if joined >= MAX_JOINS:  # students who left still have a row: bound the table
        raise ClassError(f"Class {format_code(code)} has had {MAX_JOINS:,} joins; start a new class.")
    # Names of students who left stay taken: their runs are still on the board under that name.
    taken = conn.scalars(select(students.c.nickname_key).where(students.c.class_code == code)).all()
    name = unique_nickname(name, taken)
    student_id = new_student_id()
    conn.execute(
        students.insert().values(
            id=student_key(student_id),
            class_code=code,
            nickname=name,
            nickname_key=nickname_key(name),
            joined_at=now,
        )
    )
    return student_id, name


def set_follow(conn: Connection, code: str, teacher_key: object, link: object, now: float) -> int:
    """Set the teacher's follow-me link; return the new version students will see."""
    link = clean_link(link, "follow-me link")
    row = live_class(conn, code, now)
    require_teacher(row, teacher_key, "lead the class")
    return bump_version(conn, code, follow_link=link)


@functools.cache
def follow_query() -> Select:
    """The follow-me row (class and current poll, one indexed query); bind `code`. Built once."""
    return (
        select(
            *LIFETIME_COLUMNS,
            classes.c.version,
            classes.c.follow_link,
            classes.c.current_poll_id,
            polls.c.state,
        )
        .select_from(classes.outerjoin(polls, polls.c.id == classes.c.current_poll_id))
        .where(classes.c.code == bindparam("code", type_=String))
    )


def follow_state(conn: Connection, code: str, now: float) -> FollowState:
    """The follow-me state students poll every 1-2 s."""
    row = check_live(conn.execute(follow_query(), {"code": code}).first(), code, now)
    return FollowState(row.version, row.follow_link, row.current_poll_id, row.state)


def status(conn: Connection, code: str, now: float) -> ClassStatus:
    """A class at a glance."""
    follow = follow_state(conn, code, now)
    row = conn.execute(
        select(classes.c.title, classes.c.created_at, classes.c.expires_at, classes.c.locked).where(
            classes.c.code == code
        )
    ).one()  # follow_state refused a missing class
    n_students = conn.execute(
        select(func.count()).select_from(students).where(students.c.class_code == code, PRESENT)
    ).scalar_one()
    n_runs = conn.execute(
        select(func.count()).select_from(runs).where(runs.c.class_code == code)
    ).scalar_one()
    return ClassStatus(
        code, row.title, row.created_at, row.expires_at, n_students, n_runs, follow, bool(row.locked)
    )
