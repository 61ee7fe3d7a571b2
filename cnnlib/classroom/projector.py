"""The projector's view in one query: class, follow state, counts, the current poll, the top runs.

The teacher's projector refreshes every 1-2 s, so everything it shows comes back from a single
statement (one round trip to PostgreSQL): a UNION ALL of small indexed selects, each tagged with a
`kind`, over one shared set of columns:

    kind      a         b             c         d        n          m        x          y          z
    class     title     follow_link   -         -        version    poll id  expires_at closed_at  created_at
    students  -         -             -         -        count      -        -          -       (present ones)
    runs      -         -             -         -        count      -        -          -
    poll      question  options JSON  correct   state    -          poll id  -          -
    vote      answer    -             -         -        count      -        -          -
    best/lean nickname  model         link      dataset  params     run id   accuracy   seconds    posted_at

`best` rows are the top runs by accuracy, `lean` the top by accuracy per parameter. The class row
also carries a tenth column, `k`: 1 when the class is locked, else 0 (every other branch: NULL).
"""

from __future__ import annotations

import functools
import json

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Connection,
    Float,
    Integer,
    Row,
    Select,
    String,
    Text,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)

from cnnlib.classroom.board import BY_ACCURACY, BY_PER_PARAM, competition_ranks
from cnnlib.classroom.polls import ordered_counts
from cnnlib.classroom.records import FollowState, PollInfo, ProjectorView
from cnnlib.classroom.schema import answers, classes, polls, runs, students
from cnnlib.classroom.sessions import PRESENT, Lifetime, check_live

__all__: list[str] = []


COLUMNS = {
    "a": Text,
    "b": Text,
    "c": Text,
    "d": Text,
    "n": Integer,
    "m": Integer,
    "x": Float,
    "y": Float,
    "z": Float,
    "k": Integer,
}


def _row(kind: str, **cols: ColumnElement) -> list[ColumnElement]:
    """One branch's select list: every shared column, typed, NULL where the branch has none."""
    out: list[ColumnElement] = [literal(kind, String).label("kind")]
    for name, typ in COLUMNS.items():
        value = cols.get(name)
        out.append(cast(null() if value is None else value, typ).label(name))
    return out


def _top(code: BindParameter, order: tuple, top: int, kind: str) -> Select:
    ranked = (
        select(runs, students.c.nickname)
        .join(students, students.c.id == runs.c.student_id)
        .where(runs.c.class_code == code)
        .order_by(*order)
        .limit(top)
        .subquery()
    )
    c = ranked.c
    return select(
        *_row(
            kind,
            a=c.nickname,
            b=c.model,
            c=c.link,
            d=c.dataset,
            n=c.params,
            m=c.id,
            x=c.accuracy,
            y=c.seconds,
            z=c.posted_at,
        )
    )


@functools.lru_cache(maxsize=64)
def projector_query(top: int) -> CompoundSelect:
    """The single UNION ALL statement behind `projector`, for the top `top` runs; bind `code`.

    Built once per `top` and reused: building it costs ~1 ms of Python, running it ~0.1 ms.
    """
    code = bindparam("code", type_=String)
    current = select(classes.c.current_poll_id).where(classes.c.code == code).scalar_subquery()
    parts = [
        select(
            *_row(
                "class",
                a=classes.c.title,
                b=classes.c.follow_link,
                n=classes.c.version,
                m=classes.c.current_poll_id,
                x=classes.c.expires_at,
                y=classes.c.closed_at,
                z=classes.c.created_at,
                k=classes.c.locked,
            )
        ).where(classes.c.code == code),
        select(*_row("students", n=func.count()))
        .select_from(students)
        .where(students.c.class_code == code, PRESENT),
        select(*_row("runs", n=func.count())).select_from(runs).where(runs.c.class_code == code),
        select(
            *_row(
                "poll",
                a=polls.c.question,
                b=polls.c.options,
                c=polls.c.correct,
                d=polls.c.state,
                m=polls.c.id,
            )
        ).where(polls.c.id == current, polls.c.class_code == code),
        select(*_row("vote", a=answers.c.answer, n=func.count()))
        .where(answers.c.poll_id == current)
        .group_by(answers.c.answer),
    ]
    if top > 0:
        parts += [_top(code, BY_ACCURACY, top, "best"), _top(code, BY_PER_PARAM, top, "lean")]
    return union_all(*parts)


def _entry(r: Row, rank_key: str, rank: int) -> dict:
    accuracy, params = float(r.x), int(r.n)
    return {
        "rank": None,
        "rank_per_param": None,
        rank_key: rank,
        "id": r.m,
        "nickname": r.a,
        "accuracy": accuracy,
        "params": params,
        "per_param": accuracy / params,
        "model": r.b,
        "link": r.c,
        "seconds": r.y,
        "dataset": r.d,
        "posted_at": float(r.z),
        "mine": False,
    }


def projector(conn: Connection, code: str, now: float, top: int = 10) -> ProjectorView:
    """Everything the projector shows, from one statement; ClassError if the class is not live."""
    rows = conn.execute(projector_query(top), {"code": code}).all()
    by_kind: dict[str, list] = {}
    for r in rows:
        by_kind.setdefault(r.kind, []).append(r)
    cls = by_kind.get("class", [None])[0]
    check_live(
        None if cls is None else Lifetime(created_at=cls.z, expires_at=cls.x, closed_at=cls.y), code, now
    )
    follow_poll = by_kind.get("poll", [None])[0]
    follow = FollowState(int(cls.n), cls.b, cls.m, follow_poll.d if follow_poll else None)
    poll = None
    if follow_poll is not None:
        options = json.loads(follow_poll.b)
        counts = ordered_counts(options, [(v.a, v.n) for v in by_kind.get("vote", [])])
        correct = follow_poll.c if follow_poll.d == "revealed" else None
        poll = PollInfo(follow_poll.m, follow_poll.a, tuple(options), follow_poll.d, counts, correct)
    # A UNION ALL keeps no order between or inside its branches: sort as the branches did.
    best = sorted(by_kind.get("best", []), key=lambda r: (-r.x, r.n, r.z, r.m))
    lean = sorted(by_kind.get("lean", []), key=lambda r: (-r.x / r.n, -r.x, r.z, r.m))
    best_ranks = competition_ranks(float(r.x) for r in best)
    lean_ranks = competition_ranks(float(r.x) / int(r.n) for r in lean)
    return ProjectorView(
        code=code,
        title=cls.a,
        expires_at=float(cls.x),
        students=int(by_kind["students"][0].n),
        runs=int(by_kind["runs"][0].n),
        follow=follow,
        poll=poll,
        best=[_entry(r, "rank", k) for r, k in zip(best, best_ranks, strict=True)],
        lean=[_entry(r, "rank_per_param", k) for r, k in zip(lean, lean_ranks, strict=True)],
        locked=bool(cls.k),
    )
