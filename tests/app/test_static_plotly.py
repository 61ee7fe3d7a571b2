"""The live chart's plotly.js is a static file of the app: it must be the installed plotly's, byte for byte."""

from __future__ import annotations

import gzip
import tomllib

from pages.ui import live_plotly as L
from tests.conftest import ROOT


def test_the_static_bundle_is_the_installed_plotly_js_byte_for_byte():
    path = L.STATIC_DIR / L.bundle_name()
    assert path.is_file(), f"{path.name} is missing: run scripts/vendor_plotly_js.py after upgrading plotly"
    assert gzip.decompress(path.read_bytes()) == L.installed_plotly_js().read_bytes()
    others = [p.name for p in L.STATIC_DIR.glob("plotly-*.min.js.gz") if p != path]
    assert not others, f"stale bundles in static/: {others}"


def test_the_bundle_is_served_as_gzip_so_the_server_never_compresses_it():
    """A .gz file goes out as application/gzip, which Streamlit's gzip middleware leaves alone."""
    from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES
    from streamlit.web.server.component_file_utils import guess_content_type

    assert L.bundle_name().endswith(".js.gz")
    assert guess_content_type(str(L.STATIC_DIR / L.bundle_name())) in DEFAULT_EXCLUDED_CONTENT_TYPES


def test_static_serving_is_on_and_the_url_is_relative():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableStaticServing"] is True
    assert L.STATIC_DIR == ROOT / "static"
    assert L.plotly_src() == f"app/static/plotly-{L.plotly_js_version()}.min.js.gz"
