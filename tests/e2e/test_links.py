"""Browser: the address bar is a link to what is on screen. Set up Kernels and the Model builder, copy
the address, open it in a fresh browser (another student), and read the same settings and the same
parameter count; the share dialog's QR code decodes to that link; the projector view."""

from __future__ import annotations

import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import ARTIFACTS, assert_no_exception, choose, open_page, screenshot, type_into, wait_idle

SIDEBAR = "[data-testid='stSidebar']"


def params(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def wait_url(pg, key: str, value: str) -> None:
    pg.wait_for_function(
        "([k, v]) => new URLSearchParams(location.search).get(k) === v", arg=[key, value], timeout=30_000
    )


def value_of(pg, key: str) -> str:
    return pg.locator(f".st-key-{key} input").first.input_value()


def param_count(pg) -> str:
    box = pg.locator("[data-testid=stMetric]").filter(has_text="Parameters").first
    return box.locator("[data-testid=stMetricValue]").inner_text().strip()


def fresh(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    return ctx, pg


def test_kernels_settings_travel_in_the_address(server, page, browser):
    open_page(page, server, "kernels")
    choose(page, "k_preset", "Sobel y")
    type_into(page, "k_stride", "2")
    type_into(page, "k_padding", "1")
    wait_url(page, "stride", "2")
    wait_url(page, "padding", "1")
    address = page.url
    got = params(address)
    assert got["kernel"] == "sobel_y" and "pixel" in got
    row, col = got["pixel"].split(",")

    ctx, other = fresh(browser)
    try:
        other.goto(address)
        other.locator("h1").first.wait_for()
        wait_idle(other)
        assert value_of(other, "k_preset") == "Sobel y"
        assert value_of(other, "k_stride") == "2" and value_of(other, "k_padding") == "1"
        # The page wrote back exactly the state it shows: the same kernel, settings and pixel.
        assert params(other.url) == got and params(other.url)["pixel"] == f"{row},{col}"
        assert_no_exception(other)
        screenshot(other, "kernels_from_link")
    finally:
        ctx.close()


def test_a_builder_model_travels_in_the_address(server, page, browser):
    open_page(page, server, "model_builder")
    choose(page, "bpreset", "LeNet-5")
    page.locator(".st-key-bload_preset button").click()
    wait_idle(page)
    wait_url(page, "model", "lenet_5")
    page.locator(".st-key-badd_box button").first.click()  # the "Add" popover, built when opened
    page.locator(".st-key-badd_type").first.wait_for()
    choose(page, "badd_type", "Dropout")
    page.locator(".st-key-badd_btn button").click()
    wait_idle(page)
    page.wait_for_function(
        "() => (new URLSearchParams(location.search).get('model') || '').startsWith('v1.')"
    )
    count = param_count(page)
    address = page.url

    ctx, other = fresh(browser)
    try:
        other.goto(address)
        other.locator("h1").first.wait_for()
        wait_idle(other)
        assert param_count(other) == count
        assert other.get_by_text("Shared model").count() >= 1
        assert_no_exception(other)
        screenshot(other, "builder_from_link")
    finally:
        ctx.close()


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg missing (apt-get install -y zbar-tools)")
def test_the_share_dialog_qr_code_decodes_to_the_link(server, page, tmp_path):
    open_page(page, server, "kernels")
    choose(page, "k_preset", "Laplacian")
    wait_url(page, "kernel", "laplacian")
    page.locator(".st-key-frame_share button").first.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    image = dialog.locator("img").first
    image.wait_for()
    shot = tmp_path / "qr.png"
    image.screenshot(path=str(shot))
    (ARTIFACTS / "share_dialog.png").parent.mkdir(parents=True, exist_ok=True)
    dialog.screenshot(path=str(ARTIFACTS / "share_dialog.png"))
    decoded = subprocess.run(
        ["zbarimg", "--raw", "-q", str(shot)], capture_output=True, text=True, timeout=30
    )
    link = decoded.stdout.strip()
    shown = dialog.locator("code").first.inner_text().strip()
    assert link == shown and "kernel=laplacian" in link and urlsplit(link).path == "/kernels"


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_projector_view_screenshots(server, browser, size):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    try:
        for slug, state in [
            ("kernels", "kernel=sobel_y&stride=2"),
            ("shape_calculator", "k=5&s=1"),
            ("training", ""),
            ("draw_and_predict", ""),
        ]:
            pg.goto(f"{server}/{slug}?present=1&{state}")
            pg.locator("h1").first.wait_for()
            wait_idle(pg)
            root = float(pg.evaluate("() => getComputedStyle(document.documentElement).fontSize")[:-2])
            assert abs(root - 22 * size[0] / 1920) < 0.1  # the type is a share of the screen: 22 px at 1080p
            assert_no_exception(pg)
            assert pg.locator("[data-testid=stAlertContentWarning]").count() == 0  # the link is used whole
            if slug == "draw_and_predict":  # the canvas half as big again, for the back of the room
                frame = pg.locator("iframe[title*='drawable_canvas'], [class*='st-key-draw_canvas']").first
                frame.wait_for()
                pg.screenshot(path=str(ARTIFACTS / f"projector_{slug}_{size[0]}x{size[1]}.png"))
                assert frame.bounding_box()["width"] >= 400
            pg.screenshot(path=str(ARTIFACTS / f"projector_{slug}_{size[0]}x{size[1]}.png"))
    finally:
        ctx.close()
