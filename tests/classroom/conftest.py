"""Fixtures of the class-store tests: every store test runs on SQLite and on a throwaway PostgreSQL.

`pg_cluster` (tests/conftest.py) is one PostgreSQL cluster for the test session (skipped with a
one-line reason where it cannot start); `store_url` is a fresh empty database per test, once per backend;
`store` a ClassStore opened on it; `clock` a settable clock the store reads its time from.
`dump(url)` reads every table, so a test can check that a refused request wrote nothing;
`old_database(url, version)` makes the tables as an older schema version left them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text

from cnnlib.classroom import ClassStore
from cnnlib.classroom.schema import metadata, schema_version
from tests.classroom.scaleout import scaleout_stack  # noqa: F401 - the fixture, for this folder's tests

# Every store test runs on both backends in CI; the quick check (-m "not slow") keeps SQLite only.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_CLASSROOM_DB", raising=False)
    monkeypatch.delenv("CNN_CLASSROOM_SESSION_HOURS", raising=False)
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'classroom.sqlite3'}"
    return request.getfixturevalue("pg_cluster").new_database()


class Clock:
    """A clock a test can move: store.open(..., clock=clock)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(store_url, clock):
    s = ClassStore.open(store_url, clock=clock)
    yield s
    s.close()


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every class table, sorted: equal dumps mean nothing was written."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: sorted(tuple(map(str, row)) for row in conn.execute(select(t)))
                for t in metadata.sorted_tables
            }
    finally:
        engine.dispose()


# What each schema version added, undone newest first to rebuild an older database.
UNDO = {
    6: ["DROP TABLE class_models"],
    5: ["DROP TABLE drawings", "DROP TABLE datasets"],
    4: ["DROP TABLE rate_limits"],  # and student ids were stored as they are (insert them so)
    3: [
        "DROP TABLE seat_secret",
        "ALTER TABLE classes DROP COLUMN locked",
        "ALTER TABLE classes DROP COLUMN teacher_key_sealed",
        "ALTER TABLE students DROP COLUMN left_at",
    ],
    2: ["ALTER TABLE classes DROP COLUMN shared_run", "ALTER TABLE classes DROP COLUMN shared_run_at"],
}


def old_database(url: str, version: int) -> None:
    """Create the class tables as schema `version` (1 or more) left them, stamped `version`."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            for undone in sorted(UNDO, reverse=True):
                if undone > version:
                    for statement in UNDO[undone]:
                        conn.execute(text(statement))
            conn.execute(schema_version.delete())
            conn.execute(schema_version.insert().values(id=1, version=version, migrated_at=0.0))
    finally:
        engine.dispose()
