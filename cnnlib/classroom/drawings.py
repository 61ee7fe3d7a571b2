"""The class's drawn dataset: the teacher opens "Draw a dataset" with 2-5 labels, students add drawings.

A drawing is what Draw & predict feeds the model: a 28x28 uint8 image (784 bytes, row-major,
white strokes on black). A student may add at most PER_STUDENT_PER_LABEL drawings of each label and
the class at most PER_LABEL of each: past a cap the store refuses with a message. Opening the
dataset again keeps the drawings of the labels that stay and deletes the others; closing it stops
taking drawings (training on them still works); `clear` deletes them. Drawings leave with the class
(deleted on close and with the class's purge, by the foreign keys) and with a removed student.
Opening and closing bump the class's version, so students' pages see the change within a poll.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Connection, func, select

from cnnlib.classroom.codes import format_code
from cnnlib.classroom.errors import ClassError
from cnnlib.classroom.schema import datasets, drawings
from cnnlib.classroom.sessions import bump_version, live_class, require_student, require_teacher
from cnnlib.classroom.validation import clean_text

__all__ = ["ClassDataset", "DatasetInfo", "PER_LABEL", "PER_STUDENT_PER_LABEL", "IMAGE_SIDE"]


MIN_LABELS, MAX_LABELS = 2, 5
MAX_LABEL = 20  # characters
PER_STUDENT_PER_LABEL = 20
PER_LABEL = 200
IMAGE_SIDE = 28
IMAGE_BYTES = IMAGE_SIDE * IMAGE_SIDE


@dataclass(frozen=True)
class DatasetInfo:
    """The class's dataset at a glance: its labels, whether it takes drawings, the counts per label
    (every label, in the teacher's order) and, for a student, their own counts."""

    labels: tuple[str, ...]
    open: bool
    counts: dict[str, int]
    mine: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class ClassDataset:
    """The class's drawings as arrays: images (N, 28, 28) uint8, targets (N,) int64 (the index of
    each drawing's label in `labels`), oldest first."""

    labels: tuple[str, ...]
    images: np.ndarray  # (N, 28, 28) uint8
    targets: np.ndarray  # (N,) int64


def clean_labels(labels: object) -> list[str]:
    """2-5 distinct labels (case-insensitive), each one line of at most MAX_LABEL characters."""
    if isinstance(labels, str) or not isinstance(labels, (list, tuple)):
        raise ClassError("Give the dataset's labels as a list, e.g. circle, triangle, star.")
    cleaned = [clean_text(v, "label", MAX_LABEL) for v in labels]
    if not MIN_LABELS <= len(cleaned) <= MAX_LABELS:
        raise ClassError(f"A class dataset has {MIN_LABELS} to {MAX_LABELS} labels, not {len(cleaned)}.")
    if len({v.casefold() for v in cleaned}) != len(cleaned):
        raise ClassError("Each label must be different: " + ", ".join(cleaned) + ".")
    return cleaned


def clean_pixels(pixels: object) -> bytes:
    """A drawing as 784 bytes: bytes of that length, or a 28x28 uint8 array."""
    if isinstance(pixels, np.ndarray):
        if pixels.dtype != np.uint8 or pixels.shape != (IMAGE_SIDE, IMAGE_SIDE):
            raise ClassError(f"A drawing is a 28x28 uint8 image, not {pixels.dtype} {pixels.shape}.")
        return pixels.tobytes()
    if not isinstance(pixels, (bytes, bytearray)) or len(pixels) != IMAGE_BYTES:
        size = len(pixels) if isinstance(pixels, (bytes, bytearray)) else type(pixels).__name__
        raise ClassError(f"A drawing is {IMAGE_BYTES} bytes (28x28), not {size}.")
    return bytes(pixels)


def _dataset_row(conn: Connection, code: str):  # noqa: ANN202 - a Row or None
    return conn.execute(select(datasets).where(datasets.c.class_code == code)).first()


def _counts(conn: Connection, code: str, labels: list[str], student: str | None = None) -> dict[str, int]:
    query = select(drawings.c.label, func.count()).where(drawings.c.class_code == code)
    if student is not None:
        query = query.where(drawings.c.student_id == student)
    got: dict[str, int] = dict(conn.execute(query.group_by(drawings.c.label)).tuples().all())
    return {label: int(got.get(label, 0)) for label in labels}


def open_dataset(conn: Connection, code: str, teacher_key: object, labels: object, now: float) -> DatasetInfo:
    """Open (or reopen with new labels) the class's dataset; drawings of dropped labels are deleted."""
    cleaned = clean_labels(labels)
    require_teacher(live_class(conn, code, now), teacher_key, "open a class dataset")
    conn.execute(drawings.delete().where(drawings.c.class_code == code, drawings.c.label.not_in(cleaned)))
    values = {"labels": json.dumps(cleaned), "open": True, "opened_at": now}
    if _dataset_row(conn, code) is None:
        conn.execute(datasets.insert().values(class_code=code, **values))
    else:
        conn.execute(datasets.update().where(datasets.c.class_code == code).values(**values))
    bump_version(conn, code)
    return DatasetInfo(tuple(cleaned), True, _counts(conn, code, cleaned))


def close_dataset(conn: Connection, code: str, teacher_key: object, clear: bool, now: float) -> None:
    """Stop taking drawings (they stay for training); with `clear`, delete the dataset and its drawings."""
    require_teacher(live_class(conn, code, now), teacher_key, "close the class dataset")
    if clear:
        conn.execute(drawings.delete().where(drawings.c.class_code == code))
        conn.execute(datasets.delete().where(datasets.c.class_code == code))
    else:
        conn.execute(datasets.update().where(datasets.c.class_code == code).values(open=False))
    bump_version(conn, code)


def dataset_info(conn: Connection, code: str, student_id: object, now: float) -> DatasetInfo | None:
    """The class's dataset (None if the teacher never opened one); `mine` for a student id given."""
    live_class(conn, code, now)
    row = _dataset_row(conn, code)
    if row is None:
        return None
    labels = json.loads(row.labels)
    mine = {}
    if student_id is not None:
        mine = _counts(conn, code, labels, require_student(conn, code, student_id).id)
    return DatasetInfo(tuple(labels), bool(row.open), _counts(conn, code, labels), mine)


def add_drawing(
    conn: Connection, code: str, student_id: object, label: object, pixels: object, now: float
) -> DatasetInfo:
    """Add a student's drawing under `label`, within the caps; return the dataset with their counts."""
    data = clean_pixels(pixels)
    live_class(conn, code, now, lock=True)  # one writer per class: the caps hold under races
    student = require_student(conn, code, student_id)
    row = _dataset_row(conn, code)
    if row is None or not row.open:
        raise ClassError(f"Class {format_code(code)} is not collecting drawings right now.")
    labels: list[str] = json.loads(row.labels)
    if not isinstance(label, str) or label not in labels:
        raise ClassError(f"{str(label)[:40]!r} is not one of this dataset's labels: {', '.join(labels)}.")
    mine = _counts(conn, code, labels, student.id)
    counts = _counts(conn, code, labels)
    if mine[label] >= PER_STUDENT_PER_LABEL:
        raise ClassError(
            f"You already drew {PER_STUDENT_PER_LABEL} of {label!r}, the most each student may: "
            "draw another label."
        )
    if counts[label] >= PER_LABEL:
        raise ClassError(f"The class already has {PER_LABEL} drawings of {label!r}, the most it keeps.")
    conn.execute(
        drawings.insert().values(
            class_code=code, student_id=student.id, label=label, pixels=data, created_at=now
        )
    )
    mine[label] += 1
    counts[label] += 1
    return DatasetInfo(tuple(labels), True, counts, mine)


def class_drawings(conn: Connection, code: str, now: float, per_label: int | None = None) -> ClassDataset:
    """Every drawing of the class (or the newest `per_label` of each label), oldest first."""
    live_class(conn, code, now)
    row = _dataset_row(conn, code)
    labels: list[str] = json.loads(row.labels) if row is not None else []
    query = select(drawings.c.label, drawings.c.pixels, drawings.c.id).where(drawings.c.class_code == code)
    rows = conn.execute(query.order_by(drawings.c.id)).all()
    index = {label: i for i, label in enumerate(labels)}
    kept = [r for r in rows if r.label in index]
    if per_label is not None:
        newest: dict[str, list] = {}
        for r in reversed(kept):
            bucket = newest.setdefault(r.label, [])
            if len(bucket) < per_label:
                bucket.append(r)
        kept = sorted((r for b in newest.values() for r in b), key=lambda r: r.id)
    images = np.frombuffer(b"".join(bytes(r.pixels) for r in kept), dtype=np.uint8)
    images = images.reshape(len(kept), IMAGE_SIDE, IMAGE_SIDE).copy()  # (N, 28, 28)
    targets = np.array([index[r.label] for r in kept], dtype=np.int64)  # (N,)
    return ClassDataset(tuple(labels), images, targets)
