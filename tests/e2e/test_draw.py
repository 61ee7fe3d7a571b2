"""Browser: draw digits on the Draw & predict canvas with the mouse and read the answer off the page."""

from __future__ import annotations

from .conftest import assert_no_exception, open_page, screenshot, upload, wait_idle, wait_rerun

ANSWER = "[data-testid='draw-answer']"

# Strokes in canvas pixels (280 x 280): lists of points, each stroke one mouse down ... up.
SEVEN = [[(60, 55), (215, 55), (120, 245)]]
ONE = [[(140, 35), (135, 245)]]
ZERO = [[(140, 40), (85, 80), (75, 150), (95, 220), (140, 245), (190, 215), (205, 140), (190, 70), (140, 40)]]


def _canvas_box(page):
    root = page.locator("[data-testid=stBidiComponentIsolated]").first
    canvas = root.locator("canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    return canvas.bounding_box()


def draw(page, strokes) -> None:
    for stroke in strokes:
        box = _canvas_box(page)
        x0, y0 = box["x"], box["y"]
        page.mouse.move(x0 + stroke[0][0], y0 + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(x0 + x, y0 + y, steps=8)
        page.mouse.up()
        wait_rerun(page)


def finger_stroke(ctx, pg, x0: float, y0: float, points: list[tuple[float, float]]) -> None:
    """One stroke as touch events (Chrome DevTools Protocol), from the canvas's corner (x0, y0)."""
    cdp = ctx.new_cdp_session(pg)

    def touch(kind: str, x: float | None = None, y: float | None = None) -> None:
        at = [] if x is None else [{"x": x0 + x, "y": y0 + y, "id": 1, "radiusX": 4, "radiusY": 4}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": at})

    (sx, sy), *rest = points
    touch("touchStart", sx, sy)
    for x, y in rest:
        for k in range(1, 11):
            touch("touchMove", sx + (x - sx) * k / 10, sy + (y - sy) * k / 10)
        sx, sy = x, y
    touch("touchEnd")


def answer(page) -> str:
    page.wait_for_selector(ANSWER, timeout=60_000)
    return page.locator(ANSWER).first.inner_text().strip()


def clear(page) -> None:
    page.locator(".st-key-draw_clear button").click()
    wait_rerun(page)


def test_drawing_digits_updates_the_prediction(server, page):
    """Draw a 7 and read the answer; clear; draw a 1, then a 0, and read each answer."""
    open_page(page, server, "draw_and_predict")
    assert_no_exception(page)
    assert page.locator(ANSWER).count() == 0
    draw(page, SEVEN)
    assert answer(page) == "7"
    screenshot(page, "draw_seven")
    clear(page)
    assert page.locator(ANSWER).count() == 0
    draw(page, ONE)
    assert answer(page) == "1"
    # Grad-CAM explains the new answer (a keyed select would otherwise keep explaining the 7); the
    # selector's words never name the answer (issue 25: they went stale), its caption does.
    assert page.locator(".st-key-draw_cam_class_10 input").input_value() == "The network's answer"
    assert page.get_by_text("Evidence for the network's answer, 1.").count() == 1
    clear(page)
    draw(page, ZERO)
    assert answer(page) == "0"
    assert_no_exception(page)


def test_undo_removes_the_last_stroke(server, page):
    """Undo takes back the last stroke (the answer returns), then the first (the canvas is empty)."""
    open_page(page, server, "draw_and_predict")
    draw(page, ONE)
    assert answer(page) == "1"
    draw(page, [[(90, 60), (200, 60)]])  # a bar across the top: now a "7"-ish shape
    page.locator(".st-key-draw_undo button").click()
    wait_rerun(page)
    assert answer(page) == "1"
    page.locator(".st-key-draw_undo button").click()
    wait_rerun(page)
    assert page.locator(ANSWER).count() == 0  # nothing left: the empty-canvas message
    assert "empty" in page.locator("[data-testid='stMain']").inner_text()
    assert_no_exception(page)


def test_bad_upload_gets_its_message(server, page):
    """The upload fallback refuses a file that is not an image, with a message and no answer."""
    open_page(page, server, "draw_and_predict")
    page.locator(".st-key-draw_mode").get_by_text("Upload an image", exact=True).click()
    wait_idle(page)
    upload(page, "draw_upload", "digit.png", b"this is text, not a picture", "image/png")
    error = page.locator("[data-testid='stMain'] [data-testid=stAlert]").filter(has_text="could not be read")
    assert error.count() == 1 and "upload a PNG or JPEG of a digit" in error.inner_text()
    assert page.locator(ANSWER).count() == 0
    assert_no_exception(page)


def test_finger_drawing_on_a_tablet(server, browser):
    """A touch screen with 2x pixels, tablet-sized: the whole canvas is visible (the answer wraps
    below it instead of squeezing it) and a finger stroke, sent as touch events, gets an answer."""
    ctx = browser.new_context(
        viewport={"width": 820, "height": 1180}, has_touch=True, is_mobile=True, device_scale_factor=2
    )
    try:
        pg = ctx.new_page()
        pg.set_default_timeout(60_000)
        open_page(pg, server, "draw_and_predict")
        box = _canvas_box(pg)
        x0, y0 = box["x"], box["y"]
        hit = "([x, y]) => document.elementFromPoint(x, y)?.closest('[data-testid=stBidiComponentIsolated]') !== null"
        assert pg.evaluate(hit, [x0 + 275, y0 + 140]), "the canvas's right edge is hidden"
        finger_stroke(ctx, pg, x0, y0, SEVEN[0])
        wait_idle(pg, settle=1.0)
        assert answer(pg) == "7"
        assert_no_exception(pg)
    finally:
        ctx.close()


def test_the_projector_view_draws_on_a_bigger_canvas(server, browser):
    """present=1: the canvas is 420 px (half as big again) and a digit drawn at that scale reads the same."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{server}/draw_and_predict?present=1")  # the sidebar starts folded: no menu to wait for
        page.locator("h1").first.wait_for()
        wait_idle(page)
        box = _canvas_box(page)
        assert round(box["width"]) == 420 and round(box["height"]) == 420
        draw(page, [[(x * 1.5, y * 1.5) for x, y in stroke] for stroke in SEVEN])
        assert answer(page) == "7"
        assert_no_exception(page)
    finally:
        ctx.close()
