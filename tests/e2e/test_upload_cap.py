"""Browser: a file past the session's upload budget is refused in words the student can read (issue 24).

The server here runs with a 1 MB budget of uploads per session (`CNN_CLASSROOM_UPLOAD_SESSION_MB=1`,
the uploads patch answers 413 past it) so that a 2 MB file is
past it at once. The student picks the file on the Kernels page: the uploader shows the refusal
(the 413's detail or Streamlit's own wording), the page shows no exception, and the page still
works (its default image and feature map are still there).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from .conftest import App, assert_no_exception, choose, open_page, screenshot, widget


@pytest.fixture(scope="module")
def small_budget_server():
    old = os.environ.get("CNN_CLASSROOM_UPLOAD_SESSION_MB")
    os.environ["CNN_CLASSROOM_UPLOAD_SESSION_MB"] = "1"
    app = App(Path(tempfile.mkdtemp(prefix="cc-e2e-cap-")) / "classes.db")
    try:
        yield app.start()
    finally:
        app.stop()
        if old is None:
            os.environ.pop("CNN_CLASSROOM_UPLOAD_SESSION_MB", None)
        else:
            os.environ["CNN_CLASSROOM_UPLOAD_SESSION_MB"] = old


def test_an_upload_past_the_session_budget_says_so(small_budget_server, page):
    open_page(page, small_budget_server, "kernels")
    choose(page, "k_source", "Upload your own…")  # the upload box sits behind the image choice
    box = page.locator(widget("k_upload"))
    box.locator("input[type=file]").set_input_files(
        files=[{"name": "big.png", "mimeType": "image/png", "buffer": os.urandom(2 * 2**20)}]
    )
    page.wait_for_function(
        """(sel) => { const el = document.querySelector(sel);
             return !!el && /413|Too many uploads|too large|failed/i.test(el.innerText); }""",
        arg=widget("k_upload"),
        timeout=60_000,
    )
    text = box.inner_text()
    box.scroll_into_view_if_needed()
    screenshot(page, "upload_past_budget")
    assert "Too many uploads" in text or "413" in text, text
    print(f"the uploader says: {text!r}")
    assert_no_exception(page)
    assert page.locator("[data-testid=stImage], canvas, .js-plotly-plot").count() > 0
