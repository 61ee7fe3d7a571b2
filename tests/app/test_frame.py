"""AppTest: the landing page and every page open through app.py with the shared frame."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))


def _open(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def _menu_labels(at: AppTest) -> list[str]:
    return [el.proto.label for el in at.sidebar.get("page_link")]


def test_landing_page_has_menu_links_and_device():
    at = _open()
    assert not at.exception
    assert at.title[0].value.endswith("CNN Classroom")
    labels = _menu_labels(at)
    assert labels == ["Home", "Kernels", "Shape calculator", "Model builder", "Training", "Draw & predict"]
    assert any("Compute" in c.value for c in at.sidebar.caption)
    assert any("Compute device" in m.value for m in at.markdown)


def test_five_pages_exist():
    assert len(PAGE_FILES) == 5


@pytest.mark.parametrize("page", PAGE_FILES)
def test_every_page_opens_with_the_frame(page):
    at = _open(page)
    assert not at.exception, f"{page}: {at.exception}"
    assert _menu_labels(at)[0] == "Home"
    assert at.title, f"{page} has no title"


def test_deep_link_without_landing_page_still_has_frame():
    """A fresh session whose first run is a page (as a deep link is) draws the frame."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(PAGE_FILES[0]).run()
    assert not at.exception
    assert "Home" in _menu_labels(at)


def test_cnnlib_never_imports_streamlit():
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, sys, cnnlib\n"
        "for m in pkgutil.iter_modules(cnnlib.__path__):\n"
        "    importlib.import_module('cnnlib.' + m.name)\n"
        "assert 'streamlit' not in sys.modules, [k for k in sys.modules if k.startswith('streamlit')]\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
