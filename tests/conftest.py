"""Fixtures every test folder shares: the repo root, a page opened through app.py with AppTest, and
a throwaway PostgreSQL cluster (or a skip with a one-line reason).

Markers (pyproject.toml): `e2e` (browsers), `slow` (long tests), `apptest` (every test under
tests/app, set here). The quick check, unit tests and the fast AppTests in about a minute:

    .venv/bin/python -m pytest -q -m "not e2e and not slow" --ignore=tests/classroom -p no:cacheprovider
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# A glossary link as pages.ui.glossary writes it: [word](glossary#anchor "the entry").
_GLOSSARY_LINK = re.compile(r'\[([^\]\n]*)\]\(glossary#[a-z0-9-]+(?: "(?:[^"\\\n]|\\.)*")?\)')


def unlinked(markdown: str) -> str:
    """`markdown` with its glossary links turned back into their words (the text a student reads)."""
    return _GLOSSARY_LINK.sub(r"\1", markdown)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    app = ROOT / "tests" / "app"
    for item in items:
        if app in item.path.parents:
            item.add_marker("apptest")


def open_app(
    page: str | None = None,
    *,
    params: Mapping[str, str] | None = None,
    state: Mapping[str, Any] | None = None,
    landing: bool = True,
    timeout: float = 60,
    check: bool = True,
) -> Any:
    """A new session on app.py: query `params` and session `state` set first, the landing page run
    (unless `landing` is False: the page opens first, as from a deep link), then `page` opened with
    switch_page; with `check`, no exception on the page."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    if landing or page is None:
        at.run()
    if page is not None:
        at.switch_page(page).run()
    if check:
        assert not at.exception, at.exception
    return at


@pytest.fixture
def open_page() -> Callable[..., Any]:
    """`open_page(page, params=..., state=..., landing=..., timeout=..., check=...)`: see open_app."""
    return open_app


def postgresql_or_skip() -> Any:
    """A new throwaway PostgreSQL cluster (the caller destroys it), or a skip saying why not."""
    from tests.classroom.pgcluster import PgCluster, unavailable_reason

    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    try:
        return PgCluster.start_new()
    except (RuntimeError, OSError) as e:
        pytest.skip(f"PostgreSQL could not start: {str(e).splitlines()[0][:200]}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    """One PostgreSQL cluster for the test session (new databases: `pg_cluster.new_database()`)."""
    cluster = postgresql_or_skip()
    yield cluster
    cluster.destroy()
