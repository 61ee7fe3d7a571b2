"""Browser: the window player (pages/ui/window_player.py) plays in the browser with no server round
trip: play advances the frame while the websocket carries nothing from the browser and no script
runs; pause holds it; the scrubber and the step buttons move it; the numbers shown are the frames'
(`cnnlib.kernels.window_frames`). Screenshots of both pages in the projector view (1920x1080,
?present=1) and on a laptop (1366x768)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from cnnlib import kernels as K

from .conftest import ARTIFACTS, assert_no_exception, choose, open_page, type_into, wait_idle

PLAYER = ".ccwp[data-frame]"
# the player at the top of the view, below Streamlit's header (the page scrolls inside a container)
SCROLL_TO = """e => {
  e.scrollIntoView({block: 'start'});
  let p = e.parentElement;
  while (p && !(p.scrollHeight > p.clientHeight && getComputedStyle(p).overflowY !== 'visible')) p = p.parentElement;
  (p || document.scrollingElement).scrollBy(0, -90);
}"""


def _listen(pg) -> list:
    """Every websocket message the browser sends (a rerun, a widget value) from now on."""
    sent: list = []
    pg.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    return sent


def frame(pg) -> int:
    return int(pg.locator(PLAYER).get_attribute("data-frame"))


def shown_numbers(pg, css: str) -> list[float]:
    """The numbers in the math panel's grids of class `css` (the U+2212 minus read as '-')."""
    texts = pg.locator(f"{PLAYER} .ccwp-grid span{css}").all_inner_texts()
    return [float(t.replace("\u2212", "-")) for t in texts]


def _wait_player(pg) -> None:
    pg.wait_for_selector(PLAYER, timeout=60_000)
    pg.locator(PLAYER).scroll_into_view_if_needed()


def _play_pause_scrub(pg, sent: list) -> None:
    """Play at 20/s: the frame advances with nothing sent and no script run; pause; scrub; step."""
    pg.locator(f"{PLAYER} select.ccwp-speed").select_option("20")
    wait_idle(pg)
    before = len(sent)
    pg.locator(f"{PLAYER} input.ccwp-scrub").fill("0")  # it opens at the step-through's pixel
    start = frame(pg)
    assert start == 0
    pg.locator(f"{PLAYER} .ccwp-play").click()
    pg.wait_for_function(
        f"() => +document.querySelector('{PLAYER}').dataset.frame >= {start + 12}", timeout=20_000
    )
    assert pg.locator(PLAYER).get_attribute("data-playing") == "1"
    assert pg.locator("[data-testid='stApp'][data-test-script-state='running']").count() == 0
    assert len(sent) == before, f"{len(sent) - before} websocket messages while playing: {sent[before:]}"
    pg.locator(f"{PLAYER} .ccwp-play").click()  # pause
    held = frame(pg)
    time.sleep(0.6)
    assert frame(pg) == held and pg.locator(PLAYER).get_attribute("data-playing") == "0"
    pg.locator(f"{PLAYER} input.ccwp-scrub").fill("7")
    assert frame(pg) == 7
    pg.locator(f"{PLAYER} .ccwp-next").click()
    pg.locator(f"{PLAYER} .ccwp-next").click()
    pg.locator(f"{PLAYER} .ccwp-back").click()
    assert frame(pg) == 8
    assert len(sent) == before, "the player's controls sent something to the server"


def test_kernels_player_plays_pauses_and_scrubs_in_the_browser(server, page):
    sent = _listen(page)
    open_page(page, server, "kernels")
    choose(page, "k_source", "Text")
    _wait_player(page)
    _play_pause_scrub(page, sent)

    # frame 8 of Sobel x on the Text sample: the numbers shown are window_frames' numbers
    frames = K.window_frames(K.load_sample("Text").view(), K.KERNELS["Sobel x"])
    assert page.locator(f"{PLAYER} .ccwp-label").inner_text().startswith("Output pixel (row 0, column 8)")
    np.testing.assert_allclose(shown_numbers(page, ".prod"), frames.products[8].ravel(), atol=6e-3)
    np.testing.assert_allclose(shown_numbers(page, ".ker"), K.KERNELS["Sobel x"].ravel())
    out = page.locator(f"{PLAYER} .ccwp-out").inner_text().replace("\u2212", "-")
    assert float(out) == pytest.approx(frames.outputs[8], abs=6e-3)

    # stride 2, padding 1, dilation 2: new frames (one rerun), the padded border in the first window
    page.locator(".st-key-k_stride input").fill("2")
    page.locator(".st-key-k_stride input").press("Enter")
    wait_idle(page)
    for key, value in (("k_padding", "1"), ("k_dilation", "2")):
        type_into(page, key, value)
    _wait_player(page)
    page.locator(f"{PLAYER} input.ccwp-scrub").fill("0")
    frames = K.window_frames(K.load_sample("Text").view(), K.KERNELS["Sobel x"], 0.0, 2, 1, 2)
    assert page.locator(f"{PLAYER} .ccwp-grid span.pad").count() == int((~frames.inside[0]).sum())
    caption = page.locator(f"{PLAYER} .ccwp-incap").inner_text()
    assert "stride 2" in caption and "dilation 2" in caption and "padding" in caption
    assert_no_exception(page)


def test_shape_calculator_player_plays_pooling_and_conv(server, page):
    sent = _listen(page)
    open_page(page, server, "shape_calculator")
    _wait_player(page)
    # the default Conv2d: three channels of made-up numbers, each channel's products, then the total
    assert (
        page.locator(f"{PLAYER} .ccwp-grid.ccwp-grid").count() == 9
    )  # 3 channels x (patch, kernel, products)
    _play_pause_scrub(page, sent)
    assert_no_exception(page)


def _screens(browser, base: str, slug: str, name: str) -> None:
    for width, height, query, tag in ((1920, 1080, "?present=1", "projector"), (1366, 768, "", "laptop")):
        ctx = browser.new_context(viewport={"width": width, "height": height})
        pg = ctx.new_page()
        pg.set_default_timeout(60_000)
        try:
            pg.goto(f"{base}/{slug}{query}")  # present=1 folds the sidebar: no menu to wait for
            pg.locator("h1").first.wait_for(timeout=120_000)
            wait_idle(pg)
            _wait_player(pg)
            pg.locator(f"{PLAYER} select.ccwp-speed").select_option("10")
            pg.locator(f"{PLAYER} .ccwp-play").click()
            pg.wait_for_function(
                f"() => +document.querySelector('{PLAYER}').dataset.frame >= 15", timeout=20_000
            )
            pg.locator(f"{PLAYER} .ccwp-play").click()
            pg.locator(PLAYER).evaluate(SCROLL_TO)
            time.sleep(0.3)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(ARTIFACTS / f"player_{name}_{tag}_{width}x{height}.png"))
            assert_no_exception(pg)
        finally:
            ctx.close()


def test_player_screenshots(server, browser):
    _screens(browser, server, "kernels", "kernels")
    _screens(browser, server, "shape_calculator", "shapes")
