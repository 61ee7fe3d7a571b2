"""What the class store returns: small frozen dataclasses a page can show or keep in its state.

    ClassInfo    a new class: its code and the teacher key (shown once, in the teacher's link)
    ClassStatus  a class at a glance: title, expiry, how many students and runs, follow state
    FollowState  the one tiny row students poll every 1-2 s: act only when `version` changes
    PollInfo     a poll: question, options, state, counts in option order, the answer if revealed
    ProjectorView everything the projector shows, read in one query
    Seat         who a seat token belongs to (a teacher or a student), checked against the database
    ClassMember  one student on the teacher's list: id, nickname, whether still present

Board entries are plain dicts (the `board()` contract); `BOARD_KEYS` lists their keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from cnnlib.classroom.codes import format_code

__all__ = [
    "SEAT_ROLES",
    "ClassInfo",
    "FollowState",
    "ClassStatus",
    "PollInfo",
    "ProjectorView",
    "Seat",
    "ClassMember",
    "counted",
]


SEAT_ROLES = ("teacher", "student", "projector")  # projector: display-only, follows the class
POLL_STATES = ("open", "closed", "revealed")  # closed: no more answers; revealed: closed + answer shown
BOARD_KEYS = (
    "rank",  # by accuracy, best first; equal accuracy, equal rank
    "rank_per_param",  # by accuracy per parameter
    "id",
    "nickname",
    "accuracy",  # in [0, 1]
    "params",
    "per_param",  # accuracy / params
    "model",
    "link",  # the run's settings as an app link ("" if none)
    "seconds",  # training time, or None
    "dataset",
    "posted_at",  # epoch seconds
    "mine",  # posted by the student id the caller passed as `viewer`
)


@dataclass(frozen=True)
class ClassInfo:
    """A class just created. `teacher_key` is never stored in the clear: keep the teacher link."""

    code: str
    teacher_key: str
    title: str
    expires_at: float


@dataclass(frozen=True)
class FollowState:
    """The teacher's "follow me" state; `version` grows with every teacher action."""

    version: int
    link: str  # the teacher's current page and lesson step, as an app link ("" before the first)
    poll_id: int | None  # the poll the teacher opened last (None before the first)
    poll_state: str | None  # its state: "open", "closed", "revealed"


@dataclass(frozen=True)
class ClassStatus:
    """A class at a glance (a join screen, the teacher's header)."""

    code: str
    title: str
    created_at: float
    expires_at: float
    students: int
    runs: int
    follow: FollowState
    locked: bool = False  # the teacher locked the class: new joins are refused


@dataclass(frozen=True)
class PollInfo:
    """A poll and its counts; `correct` is None until revealed (or for anyone but the teacher)."""

    id: int
    question: str
    options: tuple[str, ...]
    state: str
    counts: dict[str, int]  # option -> answers, every option, in the poll's order
    correct: str | None = None

    @property
    def total(self) -> int:
        """How many students answered."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class ProjectorView:
    """What the teacher's projector shows, read in one query every 1-2 s."""

    code: str
    title: str
    expires_at: float
    students: int
    runs: int
    follow: FollowState
    poll: PollInfo | None  # the current poll, or None
    best: list[dict] = field(default_factory=list)  # top board entries by accuracy
    lean: list[dict] = field(default_factory=list)  # top board entries by accuracy per parameter
    locked: bool = False  # the teacher locked the class: new joins are refused

    @property
    def headline(self) -> str:
        """One line for the projector: "12 students in class K7M-Q2R · 1 run on the board"."""
        return f"{counted(self.students, 'student')} in class {format_code(self.code)} · {counted(self.runs, 'run')} on the board"


@dataclass(frozen=True, repr=False)
class Seat:
    """A redeemed seat token: who this browser is in which class (`ClassStore.redeem_seat`).

    `teacher_key` is None for a student; for a teacher it is unsealed server-side from the database
    with a wrap value the token carries (the key itself is never in the token). Not shown by repr,
    so a logged Seat does not leak it.
    """

    code: str
    role: str  # "teacher", "student" or "projector" (SEAT_ROLES)
    student_id: str | None
    nickname: str | None
    teacher_key: str | None
    expires_at: float  # when the token stops working (epoch seconds): a cookie's lifetime

    def __repr__(self) -> str:
        who = self.role if self.nickname is None else f"{self.role} {self.nickname!r}"
        return f"Seat({who} in {format_code(self.code)}, until {self.expires_at:.0f})"


class ClassMember(NamedTuple):
    """One student on the teacher's list (`ClassStore.students`), in the order they joined."""

    student_id: str
    nickname: str
    present: bool  # False once the student left (their runs and answers stay until removed)


def counted(n: int, noun: str) -> str:
    """`n` and the noun, singular or plural, with thousands separators: "1 answer", "1,204 answers"."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
