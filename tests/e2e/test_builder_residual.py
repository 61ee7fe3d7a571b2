"""Browser: the Model builder with a Residual block (issue 26): the Small ResNet opened from its link,
its summary and diagram, the block's inner layers as JSON text beside the table; at the projector's
1920 x 1080 and a laptop's 1366 x 768 (screenshots in artifacts/screenshots/)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_no_exception, choose, open_page, screenshot

MAIN = "[data-testid=stMain]"


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1366, 768)])
def test_small_resnet_from_its_link(server, browser, width, height):
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        open_page(page, server, "model_builder?model=small_resnet")
        main = page.locator(MAIN)
        assert "Residual(5 layers, skip: 1x1, s=2)" in main.inner_text()
        choose(page, "bsel_*", "6 · Residual(5 layers, skip: 1x1, s=2)")
        box = page.locator(f"{MAIN} [class*='st-key-bf_'] textarea").first
        box.wait_for()
        assert '"stride": 2' in box.input_value()
        assert "6.1 Conv2d(8→16, 3x3, s=2, p=1, no bias) → 16 × 14 × 14" in main.inner_text()
        assert_no_exception(page)
        screenshot(page, f"builder_residual_{width}x{height}")
    finally:
        ctx.close()
