"""ClassStore: the class-session store the pages use (SQLite by default, PostgreSQL by URL).

Every method is one short transaction (reads: BEGIN; writes: BEGIN IMMEDIATE on SQLite), validates
its input before touching the database, and either does all of its change or none of it. Every
refusal is a ClassError with a message for the person at the screen; a database that cannot be
used raises ClassUnavailable (a ClassError), so a page can switch the class features off and
carry on. A store is thread-safe and meant to be shared by every session of a process
(`st.cache_resource`); several processes can share one database.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import Connection, Engine, exc
from sqlalchemy.engine import URL

from cnnlib.classroom import board as board_ops
from cnnlib.classroom import class_model as model_ops
from cnnlib.classroom import drawings as drawing_ops
from cnnlib.classroom import polls as poll_ops
from cnnlib.classroom import roster, seats, sessions
from cnnlib.classroom import shared_run as shared_run_ops
from cnnlib.classroom.class_model import ClassModel
from cnnlib.classroom.codes import new_teacher_key, normalize_code
from cnnlib.classroom.drawings import ClassDataset, DatasetInfo
from cnnlib.classroom.engine import database_error, describe, make_engines, resolve_url
from cnnlib.classroom.errors import ClassError, ClassUnavailable
from cnnlib.classroom.projector import projector as projector_view
from cnnlib.classroom.records import (
    ClassInfo,
    ClassMember,
    ClassStatus,
    FollowState,
    PollInfo,
    ProjectorView,
    Seat,
)
from cnnlib.classroom.schema import ensure_schema

__all__ = ["ClassStore"]


ENV_HOURS = "CNN_CLASSROOM_SESSION_HOURS"
DEFAULT_SESSION_HOURS = 12.0
MAX_SESSION_HOURS = 24 * 14.0
MAX_TOP = 50
T = TypeVar("T")


def resolve_session_hours(value: float | str | None = None) -> float:
    """How long a class lasts: `value`, else $CNN_CLASSROOM_SESSION_HOURS, else 12 hours."""
    raw = value if value is not None else os.environ.get(ENV_HOURS, "").strip() or DEFAULT_SESSION_HOURS
    try:
        hours = float(raw)
    except (TypeError, ValueError):
        hours = float("nan")
    if not 0.01 <= hours <= MAX_SESSION_HOURS:  # also refuses NaN
        raise ClassError(
            f"{ENV_HOURS} must be a number of hours between 0.01 and {MAX_SESSION_HOURS:g}, not {raw!r}."
        )
    return hours


class ClassStore:
    """Class sessions, polls, the follow-me state and the results board, in one database.

    store = ClassStore.open()                          # $CNN_CLASSROOM_DB or the default SQLite file
    info = store.create_class("CNN lesson 3")          # info.code "K7MQ2R", info.teacher_key
    sid = store.join(info.code, "Ana")                 # a student
    pid = store.open_poll(info.code, info.teacher_key, "Output size?", ["26", "28", "30"], correct="26")
    store.answer(info.code, pid, sid, "26"); store.poll(info.code, pid)  # {"26": 1, "28": 0, "30": 0}
    store.post_run(info.code, sid, {"accuracy": 0.97, "params": 21_840, "link": "/training?lr=0.01"})
    store.board(info.code)                             # [{"rank": 1, "nickname": "Ana", ...}]
    store.projector(info.code)                         # everything the projector shows, one query
    seat = store.redeem_seat(store.issue_seat(info.code, "student", student_id=sid))  # after a reload
    """

    RETRY_AFTER_S = 5.0  # how long a store that found the database down answers "unavailable" at once

    def __init__(
        self, url: URL, reader: Engine, writer: Engine, hours: float, clock: Callable[[], float]
    ) -> None:
        self._url, self._reader, self._writer = url, reader, writer
        self.session_hours = hours
        self._clock = clock
        self._write_lock = threading.Lock()
        self._down: tuple[float, str] | None = None  # (until, message) while the database is unavailable

    @classmethod
    def open(
        cls,
        url: str | URL | None = None,
        *,
        session_hours: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> ClassStore:
        """Connect to the class database (creating or migrating its tables); ClassError if it cannot."""
        hours = resolve_session_hours(session_hours)
        resolved = resolve_url(url)
        reader, writer = make_engines(resolved)
        store = cls(resolved, reader, writer, hours, clock or time.time)
        try:
            ensure_schema(writer)
        except ClassError:
            store.close()
            raise
        except (exc.SQLAlchemyError, OSError) as e:
            store.close()
            raise database_error(e, resolved) from e
        return store

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._url.get_backend_name()

    @property
    def description(self) -> str:
        """The database in words (no password)."""
        return describe(self._url)

    def close(self) -> None:
        """Close the pooled connections (the store can still be used: it reconnects)."""
        self._reader.dispose()

    def __enter__(self) -> ClassStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self, write: bool, fn: Callable[[Connection, float], T]) -> T:
        """Run fn(conn, now) in one transaction; retry on a connection dropped since its last use.

        After a ClassUnavailable, calls fail at once with the same error for RETRY_AFTER_S seconds,
        so pages do not each wait for a connect timeout while the database is down.
        """
        if self._down is not None and time.monotonic() < self._down[0]:
            raise ClassUnavailable(self._down[1])
        try:
            result = self._attempt(write, fn)
        except ClassUnavailable as e:
            self._down = (time.monotonic() + self.RETRY_AFTER_S, str(e))
            raise
        self._down = None
        return result

    def _attempt(self, write: bool, fn: Callable[[Connection, float], T]) -> T:
        engine = self._writer if write else self._reader
        # SQLite has one writer at a time: queue this process's writers on a lock rather than in
        # SQLite's busy handler, which sleeps in growing steps (up to 100 ms) while it waits.
        lock = self._write_lock if write and self.backend == "sqlite" else contextlib.nullcontext()
        for attempt in range(3):
            try:
                with lock, engine.begin() as conn:
                    return fn(conn, self._clock())
            except ClassError:
                raise
            except exc.DBAPIError as e:
                if attempt < 2 and (e.connection_invalidated or isinstance(e, exc.IntegrityError)):
                    continue  # nothing was committed: the transaction is run again from the start
                raise database_error(e, self._url) from e
            except exc.SQLAlchemyError as e:
                raise database_error(e, self._url) from e
        raise AssertionError("unreachable")  # pragma: no cover

    # -- classes and students ------------------------------------------------------------------

    def create_class(self, title: str = "", *, client: str | None = None) -> ClassInfo:
        """Start a class: a fresh code and teacher key; it expires after `session_hours`. `client`:
        the address of the browser asking (at most limits.CLASSES_PER_ADDRESS a minute from one)."""
        key = new_teacher_key()
        hours = self.session_hours
        return self._run(True, lambda c, now: sessions.create_class(c, title, key, now, hours, client))

    def close_class(self, code: str, teacher_key: str) -> None:
        """End the class now (teacher only): no more joins, answers or posts."""
        code = normalize_code(code)
        self._run(True, lambda c, now: sessions.close_class(c, code, teacher_key, now))

    def check_writable(self, code: str, teacher_key: str) -> str:
        """The Ready check's database step (teacher only): a real write to the class's row, committed."""
        code = normalize_code(code)
        self._run(True, lambda c, now: sessions.touch_class(c, code, teacher_key, now))
        return f"writable ({self.backend})"

    def check_teacher(self, code: str, teacher_key: str) -> None:
        """ClassError unless `teacher_key` is this live class's teacher key (a teacher link opened)."""
        code = normalize_code(code)
        self._run(
            False,
            lambda c, now: sessions.require_teacher(
                sessions.live_class(c, code, now), teacher_key, "lead the class"
            ),
        )

    def status(self, code: str) -> ClassStatus:
        """A class at a glance; ClassError for a wrong, closed or expired code."""
        code = normalize_code(code)
        return self._run(False, lambda c, now: sessions.status(c, code, now))

    def join(self, code: str, nickname: str, *, client: str | None = None) -> str:
        """Join a class with a nickname; return the student id (keep it in the student's session).
        `client`: the address of the browser joining, for the per-address limit (limits.py); the
        per-class limit applies either way. Past a limit: a ClassError saying when to try again."""
        return self.join_as(code, nickname, client=client)[0]

    def join_as(self, code: str, nickname: str, *, client: str | None = None) -> tuple[str, str]:
        """Like `join`, and also return the nickname as stored ("Ana 2" if "Ana" was taken)."""
        code = normalize_code(code)
        return self._run(True, lambda c, now: sessions.join(c, code, nickname, now, client))

    def nickname(self, code: str, student_id: str) -> str:
        """The stored nickname of a student; ClassError if the id is not in the class."""
        code = normalize_code(code)
        return self._run(False, lambda c, now: sessions.student_name(c, code, student_id, now))

    def leave(self, code: str, student_id: str) -> None:
        """A student leaves: they stop counting; their runs and answers stay; their seat stops working."""
        code = normalize_code(code)
        self._run(True, lambda c, now: roster.leave(c, code, student_id, now))

    # -- seats: a browser keeps its place across reloads and restarts --------------------------

    def issue_seat(
        self, code: str, role: str, *, student_id: str | None = None, teacher_key: str | None = None
    ) -> str:
        """A signed seat token (URL- and cookie-safe) for the teacher (with the teacher key) or a student."""
        code = normalize_code(code)
        hours = self.session_hours
        return self._run(
            True, lambda c, now: seats.issue_seat(c, code, role, student_id, teacher_key, now, hours)
        )

    def redeem_seat(self, token: str) -> Seat:
        """Who a seat token belongs to, if it still works; ClassError in plain words if not."""
        return self._run(False, lambda c, now: seats.redeem_seat(c, token, now))

    # -- the teacher's list of students ----------------------------------------------------------

    def students(self, code: str, teacher_key: str) -> list[ClassMember]:
        """Every student who joined, in joining order: (student_id, nickname, present) (teacher only)."""
        code = normalize_code(code)
        return self._run(False, lambda c, now: roster.members(c, code, teacher_key, now))

    def remove_student(self, code: str, teacher_key: str, student_id: str) -> str:
        """Remove a student with their poll answers and board runs (teacher only); return their nickname."""
        code = normalize_code(code)
        return self._run(True, lambda c, now: roster.remove_student(c, code, teacher_key, student_id, now))

    def lock_class(self, code: str, teacher_key: str, locked: bool) -> None:
        """Lock (refuse new joins) or unlock the class (teacher only); seats already issued still work."""
        code = normalize_code(code)
        self._run(True, lambda c, now: roster.lock_class(c, code, teacher_key, locked, now))

    # -- follow the teacher --------------------------------------------------------------------

    def set_follow(self, code: str, teacher_key: str, link: str) -> int:
        """Publish the teacher's current page/step as an app link (teacher only); return the version."""
        code = normalize_code(code)
        return self._run(True, lambda c, now: sessions.set_follow(c, code, teacher_key, link, now))

    def follow(self, code: str, student_id: str | None = None) -> FollowState:
        """The follow-me row students poll every 1-2 s (act only when `.version` changed). With
        `student_id`, the same transaction checks the student is still in the class (ClassError if
        they left or were removed): one round trip per tick, not two."""
        code = normalize_code(code)

        def read(c: Connection, now: float) -> FollowState:
            state = sessions.follow_state(c, code, now)
            if student_id is not None:
                sessions.require_student(c, code, student_id)
            return state

        return self._run(False, read)

    # -- polls ---------------------------------------------------------------------------------

    def open_poll(
        self, code: str, teacher_key: str, question: str, options: Sequence[str], correct: str | None = None
    ) -> int:
        """Open a poll with a fixed list of options (teacher only); it becomes the current poll."""
        code = normalize_code(code)
        return self._run(
            True, lambda c, now: poll_ops.open_poll(c, code, teacher_key, question, options, correct, now)
        )

    def close_poll(self, code: str, teacher_key: str, poll_id: int) -> None:
        """Stop taking answers without showing the answer (teacher only)."""
        code = normalize_code(code)
        self._run(True, lambda c, now: poll_ops.set_state(c, code, teacher_key, poll_id, "closed", now))

    def reveal_poll(self, code: str, teacher_key: str, poll_id: int) -> None:
        """Stop taking answers and show the answer to everyone (teacher only)."""
        code = normalize_code(code)
        self._run(True, lambda c, now: poll_ops.set_state(c, code, teacher_key, poll_id, "revealed", now))

    def answer(self, code: str, poll_id: int, student_id: str, answer: str) -> None:
        """A student's answer to an open poll (answering again replaces it)."""
        code = normalize_code(code)
        self._run(True, lambda c, now: poll_ops.answer(c, code, poll_id, student_id, answer, now))

    def poll(self, code: str, poll_id: int) -> dict[str, int]:
        """The poll's counts: every option, in the poll's order."""
        return self.poll_info(code, poll_id).counts

    def poll_info(self, code: str, poll_id: int, teacher_key: str | None = None) -> PollInfo:
        """The poll with its counts; its answer once revealed (or at once with the teacher key)."""
        code = normalize_code(code)
        return self._run(False, lambda c, now: poll_ops.poll_info(c, code, poll_id, teacher_key, now))

    def my_answer(self, code: str, poll_id: int, student_id: str) -> str | None:
        """The answer this student gave (None if none yet)."""
        code = normalize_code(code)
        return self._run(False, lambda c, now: poll_ops.student_answer(c, code, poll_id, student_id, now))

    # -- the teacher's shared run ---------------------------------------------------------------

    def share_run(self, code: str, teacher_key: str, progress: dict | None) -> None:
        """Publish the teacher's training progress for the class to watch (teacher only; None clears)."""
        code = normalize_code(code)
        self._run(True, lambda c, now: shared_run_ops.share_run(c, code, teacher_key, progress, now))

    def shared_run(self, code: str) -> dict | None:
        """The teacher's shared run (with "age_s", seconds since it was published), or None."""
        code = normalize_code(code)
        return self._run(False, lambda c, now: shared_run_ops.shared_run(c, code, now))

    # -- the class's shared model (class_model.py) ----------------------------------------------

    def share_model(
        self, code: str, member: str, name: str, data: bytes, accuracy: float | None, dataset: str
    ) -> ClassModel:
        """Share a TrainedModel.to_bytes() with the class (a student id or the teacher key); it
        replaces the class's earlier model; over MAX_MODEL_BYTES is refused."""
        code = normalize_code(code)
        return self._run(
            True, lambda c, now: model_ops.share_model(c, code, member, name, data, accuracy, dataset, now)
        )

    def class_model(self, code: str, *, with_data: bool = False) -> ClassModel | None:
        """The class's shared model (name, accuracy, dataset, who, when; bytes if `with_data`) or None."""
        code = normalize_code(code)
        return self._run(False, lambda c, now: model_ops.class_model(c, code, now, with_data))

    # -- the class's drawn dataset (drawings.py) ------------------------------------------------

    def open_dataset(self, code: str, teacher_key: str, labels: Sequence[str]) -> DatasetInfo:
        """Open "Draw a dataset" with 2-5 labels (teacher only); reopening keeps the labels that stay."""
        code = normalize_code(code)
        return self._run(True, lambda c, now: drawing_ops.open_dataset(c, code, teacher_key, labels, now))

    def close_dataset(self, code: str, teacher_key: str, *, clear: bool = False) -> None:
        """Stop taking drawings (teacher only); `clear` also deletes the dataset and its drawings."""
        code = normalize_code(code)
        self._run(True, lambda c, now: drawing_ops.close_dataset(c, code, teacher_key, clear, now))

    def dataset_info(self, code: str, student_id: str | None = None) -> DatasetInfo | None:
        """The class's dataset: labels, open, counts per label (and the student's own); None if none."""
        code = normalize_code(code)
        return self._run(False, lambda c, now: drawing_ops.dataset_info(c, code, student_id, now))

    def add_drawing(self, code: str, student_id: str, label: str, pixels: bytes) -> DatasetInfo:
        """Add a student's 28x28 uint8 drawing (784 bytes) under one of the labels, within the caps."""
        code = normalize_code(code)
        return self._run(
            True, lambda c, now: drawing_ops.add_drawing(c, code, student_id, label, pixels, now)
        )

    def drawings(self, code: str, per_label: int | None = None) -> ClassDataset:
        """The class's drawings as arrays (images (N, 28, 28) uint8, targets); `per_label`: the newest."""
        code = normalize_code(code)
        return self._run(False, lambda c, now: drawing_ops.class_drawings(c, code, now, per_label))

    # -- the results board ---------------------------------------------------------------------

    def post_run(self, code: str, student_id: str, record: dict) -> int:
        """Post a finished run: {"accuracy", "params", optional "model", "link", "seconds", "dataset"}."""
        code = normalize_code(code)
        return self._run(True, lambda c, now: board_ops.post_run(c, code, student_id, record, now))

    def board(self, code: str, limit: int | None = None, viewer: str | None = None) -> list[dict]:
        """Every posted run, best accuracy first, with `rank`, `rank_per_param` and `mine` (viewer's)."""
        code = normalize_code(code)
        return self._run(False, lambda c, now: board_ops.board(c, code, now, limit, viewer))

    def clear_board(self, code: str, teacher_key: str) -> int:
        """Delete every posted run (teacher only); return how many."""
        code = normalize_code(code)
        return self._run(True, lambda c, now: board_ops.clear_board(c, code, teacher_key, now))

    def projector(self, code: str, top: int = 10) -> ProjectorView:
        """Everything the projector shows (class, students, current poll and counts, top runs), one query."""
        code = normalize_code(code)
        top = max(0, min(int(top), MAX_TOP))
        return self._run(False, lambda c, now: projector_view(c, code, now, top))
