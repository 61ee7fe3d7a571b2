"""Class sessions for CNN Classroom: live polls, follow-the-teacher and a results board, in a database.

No Streamlit here: the pages call this store and show what it returns. A teacher creates a class
(a short code to read aloud and a long teacher key for the teacher's link); students join with a
nickname; the teacher opens polls with fixed options, reveals them, and moves the class along with
a "follow me" link; students post finished training runs to a ranked board. SQLite in WAL mode is
the default (one app process); PostgreSQL is the same code when several processes share a course
(see deploy/README.md):

    from cnnlib.classroom import ClassError, ClassStore, ClassUnavailable

    store = ClassStore.open()            # url=None: $CNN_CLASSROOM_DB, else SQLite in the data folder
    info = store.create_class("Lesson 3")
    sid = store.join(info.code, "Ana")
    pid = store.open_poll(info.code, info.teacher_key, "Output size of a 3x3 conv on 28x28?", ["26", "28"])
    store.answer(info.code, pid, sid, "26")
    store.poll(info.code, pid)           # {"26": 1, "28": 0}
    store.post_run(info.code, sid, {"accuracy": 0.97, "params": 21840, "link": "/training?lr=0.01"})
    store.board(info.code)               # best first, with rank and rank_per_param
    store.follow(info.code)              # FollowState(version, link, poll_id, poll_state): poll every 1-2 s
    store.projector(info.code)           # ProjectorView: everything the projector shows, one query

For the pages: open one store per process (`st.cache_resource`; it is thread-safe) and catch
`ClassError` around every call, showing its message as text. A student page polls
`follow(code)` every 1-2 s and acts only when `.version` changed (a new link to follow, a poll
opened, revealed or closed); the projector polls `projector(code)` (one query) every 1-2 s. Keep the
student id from `join` in the student's session (or link) and the teacher key only in the
teacher's link; `check_teacher` verifies a teacher link, `nickname` a kept student id.

Every refusal is a `ClassError` (a ValueError) whose message a student or teacher can act on;
`ClassUnavailable` (a ClassError) means the database cannot be used, and the lesson goes on
without class features. Classes expire after $CNN_CLASSROOM_SESSION_HOURS (default 12) hours.

Modules:

    store.py       ClassStore: one short transaction per call, errors in plain words
    shared_run.py  the teacher's training run shared for the class to watch (schema v2)
    sessions.py    classes, students, the teacher and student checks, follow-me
    polls.py       polls: open, answer (upsert), close/reveal, counts
    board.py       the results board and its two rankings
    projector.py   the projector's view as one UNION ALL query
    records.py     the dataclasses returned (ClassInfo, FollowState, PollInfo, ...)
    validation.py  nicknames, text, links, run records, polls: checked before any query
    codes.py       class codes, teacher keys (hashed, constant-time compare), student ids
    schema.py      the tables, the schema version and the migrations
    engine.py      the database URL, the engines (SQLite WAL / PostgreSQL), errors in words
    errors.py      ClassError, ClassUnavailable
"""

from __future__ import annotations

from cnnlib.classroom.board import MAX_RUNS_PER_STUDENT
from cnnlib.classroom.codes import CODE_ALPHABET, CODE_LENGTH, format_code, normalize_code
from cnnlib.classroom.engine import ENV_URL, default_sqlite_path
from cnnlib.classroom.errors import ClassError, ClassUnavailable
from cnnlib.classroom.records import (
    BOARD_KEYS,
    POLL_STATES,
    ClassInfo,
    ClassStatus,
    FollowState,
    PollInfo,
    ProjectorView,
    counted,
)
from cnnlib.classroom.schema import SCHEMA_VERSION
from cnnlib.classroom.sessions import MAX_STUDENTS
from cnnlib.classroom.store import DEFAULT_SESSION_HOURS, ENV_HOURS, ClassStore
from cnnlib.classroom.validation import MAX_LINK, MAX_NICKNAME, MAX_OPTIONS, RECORD_FIELDS

__all__ = [
    "counted",
    "BOARD_KEYS",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "ClassError",
    "ClassInfo",
    "ClassStatus",
    "ClassStore",
    "ClassUnavailable",
    "DEFAULT_SESSION_HOURS",
    "ENV_HOURS",
    "ENV_URL",
    "FollowState",
    "MAX_LINK",
    "MAX_NICKNAME",
    "MAX_OPTIONS",
    "MAX_RUNS_PER_STUDENT",
    "MAX_STUDENTS",
    "POLL_STATES",
    "PollInfo",
    "ProjectorView",
    "RECORD_FIELDS",
    "SCHEMA_VERSION",
    "default_sqlite_path",
    "format_code",
    "normalize_code",
]
