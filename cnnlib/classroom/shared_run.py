"""The teacher's training run, shared for everyone to watch: a small progress record on the class.

The teacher's Training page publishes its run's progress about once a second (status, epoch, the
last loss and accuracy points, the message); every student's Training page reads it and draws the
same curves. The record is a bounded JSON object on the class row (schema v2), so reading it is
the same one-row query as following the teacher.
"""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import Connection, select, update

from cnnlib.classroom.errors import ClassError
from cnnlib.classroom.schema import classes
from cnnlib.classroom.sessions import LIFETIME_COLUMNS, check_live, live_class, require_teacher

__all__: list[str] = []


MAX_RUN_CHARS = 20_000  # the JSON of one shared run
MAX_POINTS = 400  # per curve


def _clean(progress: object) -> str:
    if not isinstance(progress, dict):
        raise ClassError("A shared run is a dict of its progress (status, epoch, loss, ...).")
    out: dict[str, Any] = {}
    for key, value in progress.items():
        if not isinstance(key, str) or len(key) > 40:
            raise ClassError("A shared run's keys are short names.")
        if isinstance(value, (list, tuple)):
            value = [
                None if (isinstance(v, float) and not math.isfinite(v)) else v for v in value[-MAX_POINTS:]
            ]
            if not all(v is None or isinstance(v, (int, float)) for v in value):
                raise ClassError(f"The shared run's {key!r} must be a list of numbers.")
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        elif value is not None and not isinstance(value, (int, float, str, bool)):
            raise ClassError(f"The shared run's {key!r} must be a number, text or a list of numbers.")
        if isinstance(value, str):
            value = value[:500]
        out[key] = value
    text = json.dumps(out, separators=(",", ":"), allow_nan=False)
    if len(text) > MAX_RUN_CHARS:
        raise ClassError(f"The shared run is too big ({len(text):,} characters; at most {MAX_RUN_CHARS:,}).")
    return text


def share_run(conn: Connection, code: str, teacher_key: object, progress: object, now: float) -> None:
    """Publish the teacher's run progress (teacher only); None clears it."""
    text = "" if progress is None else _clean(progress)
    row = live_class(conn, code, now)
    require_teacher(row, teacher_key, "share a training run")
    conn.execute(update(classes).where(classes.c.code == code).values(shared_run=text, shared_run_at=now))


def shared_run(conn: Connection, code: str, now: float) -> dict | None:
    """The teacher's shared run with its age in seconds ("age_s"), or None."""
    found = conn.execute(
        select(
            *LIFETIME_COLUMNS,
            classes.c.shared_run,
            classes.c.shared_run_at,
        ).where(classes.c.code == code)  # fmt: skip
    ).first()
    row = check_live(found, code, now)
    if not row.shared_run:
        return None
    data = json.loads(row.shared_run)
    data["age_s"] = max(0.0, now - (row.shared_run_at or now))
    return data
