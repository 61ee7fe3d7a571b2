"""The results board: students post finished training runs; the board ranks them.

Two rankings: by test accuracy (ties: fewer parameters, then earlier post first) and by accuracy
per parameter (`per_param` = accuracy / params: who got the most out of each weight). Equal values
share a rank (1, 2, 2, 4). A student may post up to MAX_RUNS_PER_STUDENT runs; the teacher can
clear the board. Entries are plain dicts with the keys in `records.BOARD_KEYS`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Row, func, select

from cnnlib.classroom.codes import student_key
from cnnlib.classroom.errors import ClassError
from cnnlib.classroom.schema import inserted_id, runs, students
from cnnlib.classroom.sessions import bump_version, live_class, require_student, require_teacher
from cnnlib.classroom.validation import clean_record

__all__: list[str] = []


MAX_RUNS_PER_STUDENT = 50

ENTRY_COLUMNS = (
    runs.c.id,
    runs.c.student_id,
    students.c.nickname,
    runs.c.accuracy,
    runs.c.params,
    runs.c.model,
    runs.c.link,
    runs.c.seconds,
    runs.c.dataset,
    runs.c.posted_at,
)
BY_ACCURACY = (runs.c.accuracy.desc(), runs.c.params.asc(), runs.c.posted_at.asc(), runs.c.id.asc())
PER_PARAM = runs.c.accuracy / runs.c.params
BY_PER_PARAM = (PER_PARAM.desc(), runs.c.accuracy.desc(), runs.c.posted_at.asc(), runs.c.id.asc())


def post_run(conn: Connection, code: str, student_id: object, record: object, now: float) -> int:
    """Validate and store a finished run; return its board id."""
    clean = clean_record(record)
    live_class(conn, code, now)
    student = require_student(conn, code, student_id)
    posted = conn.execute(
        select(func.count()).select_from(runs).where(runs.c.student_id == student.id)
    ).scalar_one()
    if posted >= MAX_RUNS_PER_STUDENT:
        raise ClassError(
            f"You have posted {MAX_RUNS_PER_STUDENT} runs, the most one student can post in a class."
        )
    result = conn.execute(
        runs.insert().values(class_code=code, student_id=student.id, posted_at=now, **clean)
    )
    return inserted_id(result)


def entry(row: Row, viewer: object = None) -> dict:
    """A board entry dict from a row of ENTRY_COLUMNS (ranks filled in by `rank`)."""
    return {
        "rank": 0,
        "rank_per_param": 0,
        "id": row.id,
        "nickname": row.nickname,
        "accuracy": float(row.accuracy),
        "params": int(row.params),
        "per_param": float(row.accuracy) / int(row.params),
        "model": row.model,
        "link": row.link,
        "seconds": None if row.seconds is None else float(row.seconds),
        "dataset": row.dataset,
        "posted_at": float(row.posted_at),
        "mine": viewer is not None and row.student_id == viewer,  # both stored keys (student_key)
    }


def competition_ranks(values: Iterable[float]) -> list[int]:
    """Ranks of values already sorted best first; equal values share a rank (1, 2, 2, 4)."""
    ranks: list[int] = []
    previous = None
    for i, value in enumerate(values):
        ranks.append(ranks[-1] if previous is not None and value == previous else i + 1)
        previous = value
    return ranks


def rank(entries: list[dict]) -> list[dict]:
    """Fill in both ranks of entries sorted by accuracy (best first); returns the same list."""
    for e, r in zip(entries, competition_ranks(e["accuracy"] for e in entries), strict=True):
        e["rank"] = r
    lean = sorted(entries, key=lambda e: (-e["per_param"], -e["accuracy"], e["posted_at"], e["id"]))
    for e, r in zip(lean, competition_ranks(e["per_param"] for e in lean), strict=True):
        e["rank_per_param"] = r
    return entries


def board(
    conn: Connection, code: str, now: float, limit: int | None = None, viewer: object = None
) -> list[dict]:
    """Every run posted in the class, best accuracy first, with both ranks (`mine`: viewer's runs)."""
    live_class(conn, code, now)
    query = (
        select(*ENTRY_COLUMNS)
        .join(students, students.c.id == runs.c.student_id)
        .where(runs.c.class_code == code)
    )
    mine = student_key(viewer) or None  # None: no viewer, or not a student id
    entries = [entry(r, mine) for r in conn.execute(query.order_by(*BY_ACCURACY))]
    rank(entries)
    return entries[:limit] if limit is not None else entries


def clear_board(conn: Connection, code: str, teacher_key: object, now: float) -> int:
    """Delete every posted run of the class; return how many."""
    row = live_class(conn, code, now)
    require_teacher(row, teacher_key, "clear the board")
    deleted = conn.execute(runs.delete().where(runs.c.class_code == code)).rowcount
    bump_version(conn, code)
    return deleted
