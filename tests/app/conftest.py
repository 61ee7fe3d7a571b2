"""Shared fixtures of the AppTest tests."""

from __future__ import annotations

import pytest

from cnnlib.classroom import ClassStore


@pytest.fixture
def db(request, tmp_path, monkeypatch):
    """A class database of this test's own, and the app's cached store pointed at it: SQLite, or a
    fresh PostgreSQL database where the test is parametrized with `backend` = "postgresql"."""
    from pages.ui.classes import classroom

    callspec = getattr(request.node, "callspec", None)
    backend = callspec.params.get("backend", "sqlite") if callspec is not None else "sqlite"
    if backend == "postgresql":
        url = request.getfixturevalue("pg_cluster").new_database()
    else:
        url = f"sqlite:///{tmp_path / 'classes.db'}"
    monkeypatch.setenv("CNN_CLASSROOM_DB", url)
    classroom._store.clear()
    store = ClassStore.open(url)
    yield store
    store.close()
    classroom._store.clear()
