"""Browser: on Draw & predict, draw a 7, open "Move your drawing", move the shift slider with the
keyboard and read the moved answer and the sweep chart (1366x768, the student's laptop)."""

from __future__ import annotations

from .conftest import ARTIFACTS, assert_no_exception, open_page, screenshot, wait_idle
from .test_draw import SEVEN, answer, draw

MOVED = "[data-testid='draw-moved-answer'] b"


def test_moving_the_drawing_changes_the_answer_and_the_chart(server, browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        open_page(page, server, "draw_and_predict")
        draw(page, SEVEN)
        assert answer(page) == "7"
        box = page.locator(".st-key-draw_inv_open summary")
        box.scroll_into_view_if_needed()
        box.click()
        wait_idle(page)
        page.wait_for_selector(MOVED)
        assert page.locator(MOVED).first.inner_text().strip() == "7"  # at rest: the drawing as it is
        thumb = page.locator(".st-key-draw_inv_dx input[type=range]")  # Streamlit 1.67: react-aria
        thumb.focus()
        for _ in range(10):  # to +10 px, the far right
            thumb.press("ArrowRight")
        wait_idle(page, settle=1.0)
        shown = page.locator(".st-key-draw_inv_dx [data-testid=stSliderThumbValue]").inner_text().strip()
        assert shown == "10"
        moved = page.locator(MOVED).first.inner_text().strip()
        assert moved.isdigit()
        section = page.locator(".st-key-draw_inv_open")
        section.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        section.screenshot(path=str(ARTIFACTS / "draw_invariance_section_1366.png"))
        page.screenshot(path=str(ARTIFACTS / "draw_invariance_view_1366.png"))  # the viewport, as seen
        screenshot(page, "draw_invariance_1366")
        fool = page.locator(".st-key-draw_inv_fool_open summary")
        fool.scroll_into_view_if_needed()
        fool.click()
        wait_idle(page)
        page.wait_for_selector("[data-testid='draw-nudged-answer']")
        page.locator(".st-key-draw_inv_fool_open").screenshot(
            path=str(ARTIFACTS / "draw_fgsm_section_1366.png")
        )
        page.set_viewport_size({"width": 1920, "height": 1080})  # the projector
        wait_idle(page)
        section.scroll_into_view_if_needed()
        section.screenshot(path=str(ARTIFACTS / "draw_invariance_section_1920.png"))
        assert_no_exception(page)
    finally:
        ctx.close()
