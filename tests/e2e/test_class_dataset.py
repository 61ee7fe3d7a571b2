"""Browser: a dataset the class draws (issue 26). The teacher opened "Draw a dataset" (circle /
triangle / star); a student joins, draws on the Draw & predict canvas with the mouse and adds the
drawing as a circle from the buttons under the canvas; the Class board shows the counts and the
thumbnail grid. Screenshots at 1920x1080 (projector) and 1366x768 (laptop)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from cnnlib.classroom import ClassStore

from .conftest import App, assert_no_exception, screenshot, wait_idle
from .test_classroom import go_to
from .test_draw import ZERO, draw

LONG = 120_000


@pytest.fixture(scope="module")
def lesson():
    """An app of this test's own, its class store, a class with its dataset open."""
    db = Path(tempfile.mkdtemp(prefix="cc-e2e-ds-")) / "classes.db"
    app = App(db)
    base = app.start()
    store = ClassStore.open(f"sqlite:///{db}")
    info = store.create_class("Drawings")
    store.open_dataset(info.code, info.teacher_key, ["circle", "triangle", "star"])
    try:
        yield base, store, info
    finally:
        store.close()
        app.stop()


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
def test_a_student_adds_a_drawing_and_the_board_shows_it(lesson, browser, size):
    base, store, info = lesson
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    pg = ctx.new_page()
    pg.set_default_timeout(LONG)
    try:
        pg.goto(f"{base}/?class={info.code}")
        pg.locator(".st-key-class_invite_name input").wait_for(timeout=LONG)
        wait_idle(pg)
        pg.locator(".st-key-class_invite_name input").fill(f"Ana{size[0]}")
        pg.locator(".st-key-class_invite_submit button").click()
        wait_idle(pg)
        go_to(pg, "Draw & predict")
        pg.get_by_text("Add this drawing as:", exact=False).first.wait_for(timeout=LONG)
        before = store.dataset_info(info.code).counts["circle"]
        draw(pg, ZERO)
        wait_idle(pg)
        pg.locator(".st-key-draw_ds_add_0 button").click()
        wait_idle(pg)
        pg.get_by_text("Added as circle", exact=False).first.wait_for(timeout=LONG)
        assert store.dataset_info(info.code).counts["circle"] == before + 1
        assert_no_exception(pg)
        screenshot(pg, f"class_dataset_draw_{size[0]}")
        go_to(pg, "Class board")
        pg.get_by_text("Our class's drawings", exact=False).first.wait_for(timeout=LONG)
        pg.locator("[data-testid=stImage]").first.wait_for(timeout=LONG)
        assert_no_exception(pg)
        screenshot(pg, f"class_dataset_board_{size[0]}")
    finally:
        ctx.close()
