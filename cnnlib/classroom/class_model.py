"""The class's shared model: any member (the teacher or a student) shares one trained model with
the class, so everyone can test it by drawing on Draw & predict (schema v6).

The model is stored as `TrainedModel.to_bytes()` (read back with `TrainedModel.from_bytes`, which
loads with weights_only=True): at most MAX_MODEL_BYTES, refused with a message past that. A class
keeps one model: a later share replaces the earlier one. It leaves with the class (deleted on close
and with the class's purge, by the foreign key). Sharing bumps the class's version, so the other
pages see the new model within a poll. The store never unpickles the bytes: the page does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from cnnlib.classroom.errors import ClassError
from cnnlib.classroom.schema import class_models
from cnnlib.classroom.sessions import bump_version, live_class, require_student, require_teacher
from cnnlib.classroom.validation import clean_text

__all__ = ["ClassModel", "MAX_MODEL_BYTES"]

MAX_MODEL_BYTES = 2 * 1024 * 1024  # 2 MiB: the Digit CNN is ~90 KB; a class's 30 pages read it
MAX_NAME = 80
TEACHER = "teacher"


@dataclass(frozen=True)
class ClassModel:
    """The class's shared model at a glance (`data` only when asked for)."""

    name: str
    accuracy: float | None  # test accuracy 0-1, None when unknown
    dataset: str
    shared_by: str  # the sharer's nickname, or "the teacher"
    created_at: float  # with the class code, the key a page caches the built model under
    size: int  # bytes
    data: bytes = b""


def clean_model_bytes(data: object) -> bytes:
    """The model's bytes, at most MAX_MODEL_BYTES (non-empty)."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ClassError("The model to share is missing (no bytes).")
    if len(data) > MAX_MODEL_BYTES:
        raise ClassError(
            f"This model is too big to share with the class: {len(data) / 1e6:.1f} MB, "
            f"the most is {MAX_MODEL_BYTES / 1e6:.1f} MB. Share a smaller model."
        )
    return bytes(data)


def clean_accuracy(accuracy: object) -> float | None:
    """A test accuracy between 0 and 1, or None."""
    if accuracy is None:
        return None
    if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)):
        raise ClassError("The model's test accuracy must be a number between 0 and 1.")
    value = float(accuracy)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ClassError("The model's test accuracy must be a number between 0 and 1.")
    return value


def share_model(
    conn: Connection,
    code: str,
    member: object,
    name: object,
    data: object,
    accuracy: object,
    dataset: object,
    now: float,
) -> ClassModel:
    """Store `data` as the class's model (replacing any earlier one). `member` is a student id of the
    class or the class's teacher key."""
    blob = clean_model_bytes(data)
    cleaned = clean_text(name, "model name", MAX_NAME, required=False) or "A model"
    score = clean_accuracy(accuracy)
    data_name = clean_text(dataset, "dataset name", MAX_NAME, required=False)
    row = live_class(conn, code, now, lock=True)
    try:
        require_teacher(row, member, "share a model")
        by, by_name = TEACHER, "the teacher"
    except ClassError:
        student = require_student(conn, code, member)
        by, by_name = student.id, student.nickname
    values = {
        "name": cleaned,
        "data": blob,
        "accuracy": score,
        "dataset": data_name,
        "shared_by": by,
        "shared_name": by_name,
        "created_at": now,
    }
    conn.execute(class_models.delete().where(class_models.c.class_code == code))
    conn.execute(class_models.insert().values(class_code=code, **values))
    bump_version(conn, code)
    return ClassModel(cleaned, score, data_name, by_name, now, len(blob))


def class_model(conn: Connection, code: str, now: float, with_data: bool = False) -> ClassModel | None:
    """The class's shared model (its bytes when `with_data`), or None when nobody shared one."""
    live_class(conn, code, now)
    cols = [c for c in class_models.c if c.name != "data" or with_data]
    size = func.length(class_models.c.data).label("size")
    row = conn.execute(select(*cols, size).where(class_models.c.class_code == code)).first()
    if row is None:
        return None
    return ClassModel(
        name=row.name,
        accuracy=row.accuracy,
        dataset=row.dataset,
        shared_by=row.shared_name,
        created_at=row.created_at,
        size=int(row.size),
        data=bytes(row.data) if with_data else b"",
    )
