"""Browser: the one-screen contract (issue 25). Each view's key elements (`key_<view>_*` containers)
lie inside the viewport without scrolling, in the teacher's projector view at 1920x1080 and 1280x720
and a student's normal view at 1366x768, with the lesson bar and an open poll showing (the class
and its lesson are set up once: tests/e2e/one_screen.py says how). A view with no key element fails
too. Screenshots (the viewport, key elements outlined): artifacts/screenshots/one_screen_<view>_<W>x<H>.png;
the whole table: artifacts/screenshots/one_screen.txt.
"""

from __future__ import annotations

import pytest

from .conftest import ARTIFACTS
from .one_screen import SIZES, VIEWS, Classroom, table


@pytest.fixture(scope="module")
def classroom(server, browser):
    room = Classroom().setup(browser, server)
    try:
        yield room
    finally:
        measured = [m for view in VIEWS for m in room.done.get(view, {}).values()]
        if measured:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "one_screen.txt").write_text(table(measured) + "\n")
        room.close()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view", VIEWS)
def test_key_elements_are_on_one_screen(classroom, view, size):
    m = classroom.run_view(view)[size]
    assert m.shot is not None and m.shot.exists()
    problems = m.problems()
    assert not problems, "; ".join(problems) + (f" ({m.note})" if m.note else "")
