"""Browser: links a careless or hostile student can type (issue 24, item 8) open as pages with a
message, never a traceback, an exception box or a server path; a teacher key or a projector seat
in the address leaves the address bar."""

from __future__ import annotations

import base64
import zlib

import pytest

from cnnlib.spec import ModelSpec, spec_to_token
from tests.hostile.cases import OVERSIZED_LINK_SPEC

from .conftest import assert_no_exception, wait_idle

DEEP = "v1.eNqLjh4Fo2AUjIKhAWJHwSgYBaNgiAAAo1lerg"  # the 47 characters: 1,200 nested lists


def _oversized() -> str:
    """The issue's model: a few hundred parameters whose activations need gigabytes (padding 500)."""
    spec = ModelSpec.from_dict(OVERSIZED_LINK_SPEC)
    return spec_to_token(spec)


def _bomb() -> str:
    raw = zlib.compress(b"[" * 5_000_000, 9)
    return "v1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


LINKS = [
    ("model_builder", f"model={DEEP}"),
    ("training", f"model={DEEP}"),
    ("shape_calculator", f"mode=stack&stack={DEEP}"),
    ("model_builder", "model=" + "9" * 5000),
    ("training", "epochs=99999999999999999999&lr=nan&batch=-1"),
    ("kernels", "weights=" + "1," * 3000 + "&stride=0&padding=-5&pixel=99999,99999"),
    ("", "lesson=../../etc/passwd&step=0"),
    ("", "class=ZZZZZZ&key=" + "k" * 40),
    ("", "class=ABC234&screen=" + "A" * 80),
    ("model_builder", "model=BOMB"),
    ("training", "model=OVERSIZED"),
]


@pytest.mark.parametrize(("slug", "query"), LINKS, ids=lambda v: str(v)[:28])
def test_a_hostile_link_opens_a_page_with_a_message(server, page, slug, query):
    query = query.replace("BOMB", _bomb()[:4000]).replace("OVERSIZED", _oversized())
    page.goto(f"{server}/{slug}?{query}")
    page.locator("h1").first.wait_for(timeout=90_000)
    wait_idle(page)
    assert_no_exception(page)
    text = page.locator("[data-testid=stMain]").inner_text()
    for leak in ("Traceback", "/work/", "site-packages", 'File "', '.py", line'):
        assert leak not in text, (slug, query[:60], leak)
    address = page.evaluate("() => location.search")
    assert "key=" not in address and "screen=" not in address


def test_an_oversized_model_is_refused_before_it_trains(server, page):
    page.goto(f"{server}/training?model={_oversized()}")
    page.locator("h1").first.wait_for(timeout=90_000)
    wait_idle(page)
    page.locator(".st-key-train_start button").click()
    wait_idle(page)
    assert_no_exception(page)
    text = page.locator("[data-testid=stMain]").inner_text()
    assert "GB" in text or "memory" in text.lower(), text[:500]
