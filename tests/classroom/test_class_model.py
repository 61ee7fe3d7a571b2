"""The class's shared model on SQLite and PostgreSQL: any member shares, a later share replaces,
the size cap, bad input refused, deletion with the class, the v5 -> v6 migration."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from cnnlib.classroom import MAX_MODEL_BYTES, ClassError, ClassStore
from cnnlib.classroom import schema as schema_mod
from tests.classroom.conftest import dump, old_database


@pytest.fixture
def lesson(store):
    info = store.create_class("Models")
    ana = store.join(info.code, "Ana")
    return info, ana


def test_a_student_shares_and_a_later_share_replaces_it(store, lesson, clock):
    info, ana = lesson
    assert store.class_model(info.code) is None
    version = store.follow(info.code).version
    got = store.share_model(info.code, ana, "Ana's CNN", b"\x01\x02" * 10, 0.93, "Our class's drawings")
    assert got.shared_by == "Ana" and got.size == 20 and got.accuracy == 0.93
    assert store.follow(info.code).version == version + 1  # other pages see it within a poll
    seen = store.class_model(info.code)
    assert seen is not None and seen.name == "Ana's CNN" and seen.data == b"" and seen.size == 20
    assert seen.dataset == "Our class's drawings" and seen.shared_by == "Ana"
    full = store.class_model(info.code, with_data=True)
    assert full is not None and full.data == b"\x01\x02" * 10
    clock.advance(5)
    store.share_model(info.code, info.teacher_key, "Teacher's", b"xyz", None, "MNIST")
    after = store.class_model(info.code.lower(), with_data=True)
    assert after is not None and after.data == b"xyz" and after.shared_by == "the teacher"
    assert after.accuracy is None and after.created_at == seen.created_at + 5


def test_bad_shares_are_refused_and_write_nothing(store, store_url, lesson, monkeypatch):
    info, ana = lesson
    before = dump(store_url)
    for data, accuracy, message in [
        (b"", 0.5, "missing"),
        ("text", 0.5, "missing"),
        (b"x" * (MAX_MODEL_BYTES + 1), 0.5, "too big to share"),
        (b"x", 1.5, "between 0 and 1"),
        (b"x", float("nan"), "between 0 and 1"),
        (b"x", "0.9", "between 0 and 1"),
    ]:
        with pytest.raises(ClassError, match=message):
            store.share_model(info.code, ana, "m", data, accuracy, "d")
    with pytest.raises(ClassError, match="not in class"):
        store.share_model(info.code, "someone-else", "m", b"x", 0.5, "d")
    monkeypatch.setattr("cnnlib.classroom.class_model.MAX_MODEL_BYTES", 10)
    with pytest.raises(ClassError, match="too big to share with the class: 0.0 MB"):
        store.share_model(info.code, ana, "m", b"x" * 11, 0.5, "d")
    assert dump(store_url) == before
    assert MAX_MODEL_BYTES == 2 * 1024 * 1024


def test_the_model_leaves_with_the_class(store, store_url, lesson):
    info, ana = lesson
    store.share_model(info.code, ana, "m", b"abc", 0.5, "d")
    store.remove_student(info.code, info.teacher_key, ana)
    assert store.class_model(info.code) is not None  # the class keeps what was shared
    store.close_class(info.code, info.teacher_key)
    assert dump(store_url)["class_models"] == []


def test_a_v5_database_gets_the_class_models_table(store_url, clock):
    old_database(store_url, 5)
    engine = create_engine(store_url)
    with engine.connect() as conn:
        assert not schema_mod.inspect(conn).has_table("class_models")
        assert schema_mod.inspect(conn).has_table("drawings")
    engine.dispose()
    store = ClassStore.open(store_url, clock=clock)
    try:
        with store._writer.connect() as conn:
            assert schema_mod.current_version(conn) == schema_mod.SCHEMA_VERSION == 6
            assert conn.execute(text("SELECT count(*) FROM class_models")).scalar_one() == 0
        info = store.create_class("After")
        sid = store.join(info.code, "Ana")
        store.share_model(info.code, sid, "m", b"abc", 0.5, "d")
        got = store.class_model(info.code)
        assert got is not None and got.size == 3
    finally:
        store.close()
