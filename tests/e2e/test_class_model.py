"""Browser: the class's shared model (issue 26). A model was shared with the class (the bundled
digit weights under a student's name); a student joins, Draw & predict lists "The class's model"
(the bundled model still selected), she picks it and draws a 0 with the mouse: the answer names the
class's model. Screenshots at 1920x1080 (projector) and 1366x768 (laptop)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from cnnlib.classroom import ClassStore
from cnnlib.inference import load_pretrained_bundle
from cnnlib.trained import TrainedModel

from .conftest import App, assert_no_exception, choose, screenshot, type_into, wait_idle
from .test_classroom import go_to
from .test_draw import ZERO, draw

LONG = 120_000
NAME = "Bo's digit CNN"


@pytest.fixture(scope="module")
def lesson():
    """An app of this test's own, its class store, a class with a shared model."""
    db = Path(tempfile.mkdtemp(prefix="cc-e2e-cm-")) / "classes.db"
    app = App(db)
    base = app.start()
    store = ClassStore.open(f"sqlite:///{db}")
    info = store.create_class("Models")
    bo = store.join(info.code, "Bo")
    pre = load_pretrained_bundle()
    trained = TrainedModel(
        spec=pre.spec, state_dict=pre.model.state_dict(), classes=pre.classes, mean=[pre.mean], std=[pre.std]
    )
    store.share_model(info.code, bo, NAME, trained.to_bytes(), 0.97, "MNIST")
    try:
        yield base, store, info
    finally:
        store.close()
        app.stop()


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
def test_a_student_picks_the_class_model_and_draws(lesson, browser, size):
    base, _, info = lesson
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
        pg.locator(".st-key-draw_model").wait_for(timeout=LONG)
        wait_idle(pg)
        label = f"The class's model: {NAME} (test accuracy 97.0%, shared by Bo)"
        choose(pg, "draw_model", label)
        draw(pg, ZERO)
        wait_idle(pg)
        pg.get_by_text(f"Model: {NAME}", exact=False).first.wait_for(timeout=LONG)
        assert_no_exception(pg)
        screenshot(pg, f"class_model_draw_{size[0]}")
    finally:
        ctx.close()


def test_a_student_trains_and_shares_her_model(lesson, browser):
    base, store, info = lesson
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = ctx.new_page()
    pg.set_default_timeout(LONG)
    try:
        pg.goto(f"{base}/?class={info.code}")
        pg.locator(".st-key-class_invite_name input").wait_for(timeout=LONG)
        wait_idle(pg)
        pg.locator(".st-key-class_invite_name input").fill("Cy")
        pg.locator(".st-key-class_invite_submit button").click()
        wait_idle(pg)
        go_to(pg, "Training")
        pg.locator(".st-key-train_start button").wait_for(timeout=LONG)
        wait_idle(pg)
        type_into(pg, "tr_ep", "1")
        pg.locator(".st-key-train_start button").click()
        pg.wait_for_selector(".st-key-train_to_results button", timeout=300_000)
        wait_idle(pg)
        pg.locator(".st-key-train_to_results button").click()
        wait_idle(pg)
        pg.locator(".st-key-class_share_model button").click()
        wait_idle(pg)
        pg.get_by_text("Shared: everyone in class", exact=False).first.wait_for(timeout=LONG)
        shared = store.class_model(info.code)
        assert shared is not None and shared.shared_by == "Cy"
        assert_no_exception(pg)
        screenshot(pg, "class_model_share_1366")
    finally:
        ctx.close()
