"""Shared fixtures of the AppTest tests."""

from __future__ import annotations

import pytest

from cnnlib.classroom import ClassStore


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A class database of this test's own, and the app's cached store pointed at it."""
    from pages.ui import classroom

    url = f"sqlite:///{tmp_path / 'classes.db'}"
    monkeypatch.setenv("CNN_CLASSROOM_DB", url)
    classroom._store.clear()
    store = ClassStore.open(url)
    yield store
    store.close()
    classroom._store.clear()
