"""The class's drawn dataset on SQLite and PostgreSQL: labels, caps, counts, arrays, deletion, v5 migration."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from cnnlib.classroom import PER_LABEL, PER_STUDENT_PER_LABEL, ClassError, ClassStore
from cnnlib.classroom import schema as schema_mod
from tests.classroom.conftest import dump, old_database

LABELS = ["circle", "triangle", "star"]


def _image(value: int) -> bytes:
    return bytes([value % 256]) * 784


@pytest.fixture
def lesson(store):
    info = store.create_class("Drawings")
    ana = store.join(info.code, "Ana")
    bo = store.join(info.code, "Bo")
    store.open_dataset(info.code, info.teacher_key, LABELS)
    return info, ana, bo


def test_students_add_drawings_and_see_counts(store, lesson):
    info, ana, bo = lesson
    assert store.dataset_info(info.code) is not None
    got = store.add_drawing(info.code, ana, "circle", _image(1))
    assert got.counts == {"circle": 1, "triangle": 0, "star": 0} and got.mine["circle"] == 1
    store.add_drawing(info.code, bo, "star", np.full((28, 28), 7, dtype=np.uint8))
    store.add_drawing(info.code, bo, "circle", _image(3))
    mine = store.dataset_info(info.code, bo)
    assert mine is not None and mine.open and mine.labels == tuple(LABELS)
    assert mine.counts == {"circle": 2, "triangle": 0, "star": 1} and mine.total == 3
    assert mine.mine == {"circle": 1, "triangle": 0, "star": 1}
    data = store.drawings(info.code)
    assert data.images.shape == (3, 28, 28) and data.images.dtype == np.uint8
    assert data.targets.tolist() == [0, 2, 0] and data.labels == tuple(LABELS)
    assert data.images[1, 5, 5] == 7 and data.images[2, 0, 0] == 3
    newest = store.drawings(info.code, per_label=1)
    assert newest.targets.tolist() == [2, 0] and newest.images[1, 0, 0] == 3


def test_bad_drawings_and_labels_are_refused_and_write_nothing(store, store_url, lesson):
    info, ana, _ = lesson
    before = dump(store_url)
    bad = [
        ("square", _image(1), "not one of this dataset's labels"),
        ("circle", b"\x00" * 783, "784 bytes"),
        ("circle", np.zeros((28, 28), dtype=np.float32), "28x28 uint8"),
        ("circle", "pixels", "784 bytes"),
    ]
    for label, pixels, message in bad:
        with pytest.raises(ClassError, match=message):
            store.add_drawing(info.code, ana, label, pixels)
    with pytest.raises(ClassError, match="not in class"):
        store.add_drawing(info.code, "someone-else", "circle", _image(1))
    for labels, message in [
        (["one"], "2 to 5"),
        (["a", "A"], "different"),
        ("a,b", "list"),
        (list("abcdef"), "2 to 5"),
    ]:
        with pytest.raises(ClassError, match=message):
            store.open_dataset(info.code, info.teacher_key, labels)
    with pytest.raises(ClassError, match="Only the teacher"):
        store.open_dataset(info.code, "", LABELS)
    assert dump(store_url) == before


def test_caps_per_student_and_per_label(store, lesson, monkeypatch):
    info, ana, bo = lesson
    for i in range(PER_STUDENT_PER_LABEL):
        store.add_drawing(info.code, ana, "circle", _image(i))
    with pytest.raises(ClassError, match=f"already drew {PER_STUDENT_PER_LABEL} of 'circle'"):
        store.add_drawing(info.code, ana, "circle", _image(0))
    store.add_drawing(info.code, ana, "star", _image(0))  # another label still takes hers
    monkeypatch.setattr("cnnlib.classroom.drawings.PER_LABEL", PER_STUDENT_PER_LABEL + 1)
    store.add_drawing(info.code, bo, "circle", _image(0))
    with pytest.raises(ClassError, match="class already has 21 drawings of 'circle'"):
        store.add_drawing(info.code, bo, "circle", _image(0))
    assert PER_LABEL == 200


def test_close_reopen_clear(store, lesson):
    info, ana, bo = lesson
    store.add_drawing(info.code, ana, "circle", _image(1))
    store.add_drawing(info.code, ana, "star", _image(2))
    store.close_dataset(info.code, info.teacher_key)
    with pytest.raises(ClassError, match="not collecting drawings"):
        store.add_drawing(info.code, bo, "circle", _image(1))
    closed = store.dataset_info(info.code)
    assert closed is not None and not closed.open and closed.total == 2  # still there to train on
    # Reopening with other labels keeps the drawings of the labels that stay.
    reopened = store.open_dataset(info.code, info.teacher_key, ["circle", "square"])
    assert reopened.counts == {"circle": 1, "square": 0}
    store.close_dataset(info.code, info.teacher_key, clear=True)
    assert store.dataset_info(info.code) is None and len(store.drawings(info.code).targets) == 0


def test_drawings_leave_with_a_removed_student_and_with_the_class(store, store_url, lesson):
    info, ana, bo = lesson
    store.add_drawing(info.code, ana, "circle", _image(1))
    store.add_drawing(info.code, bo, "star", _image(2))
    store.remove_student(info.code, info.teacher_key, ana)
    assert store.drawings(info.code).targets.tolist() == [2]
    store.close_class(info.code, info.teacher_key)
    assert dump(store_url)["drawings"] == []


def test_a_v4_database_gets_the_drawings_tables(store_url, clock):
    old_database(store_url, 4)
    engine = create_engine(store_url)
    with engine.connect() as conn:
        assert not schema_mod.inspect(conn).has_table("drawings")
    engine.dispose()
    store = ClassStore.open(store_url, clock=clock)
    try:
        with store._writer.connect() as conn:
            assert schema_mod.current_version(conn) == schema_mod.SCHEMA_VERSION >= 5
            assert conn.execute(text("SELECT count(*) FROM drawings")).scalar_one() == 0
        info = store.create_class("After")
        sid = store.join(info.code, "Ana")
        store.open_dataset(info.code, info.teacher_key, ["a", "b"])
        assert store.add_drawing(info.code, sid, "b", _image(9)).counts == {"a": 0, "b": 1}
    finally:
        store.close()
