"""Fixtures of the class-store tests: every store test runs on SQLite and on a throwaway PostgreSQL.

`pg_cluster` starts one PostgreSQL cluster for the test session (skipped with a one-line reason
where it cannot start); `store_url` is a fresh empty database per test, once per backend;
`store` a ClassStore opened on it; `clock` a settable clock the store reads its time from.
`dump(url)` reads every table, so a test can check that a refused request wrote nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select

from cnnlib.classroom import ClassStore
from cnnlib.classroom.schema import metadata
from tests.classroom.pgcluster import PgCluster, unavailable_reason
from tests.classroom.scaleout import scaleout_stack  # noqa: F401 - the fixture, for this folder's tests

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_cluster():
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    try:
        cluster = PgCluster.start_new()
    except (RuntimeError, OSError) as e:
        pytest.skip(f"PostgreSQL could not start: {str(e).splitlines()[0][:200]}")
    yield cluster
    cluster.destroy()


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
