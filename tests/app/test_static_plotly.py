"""Every Plotly figure's plotly.js is one static file of the app: the cartesian partial bundle at the
installed plotly.js's version, byte for byte the npm package's file (its SHA-256), holding every
trace type the app draws."""

from __future__ import annotations

import gzip
import re
import tomllib

from pages.ui import live_plotly as L
from tests.conftest import ROOT


def test_the_static_bundle_is_the_cartesian_dist_at_the_installed_version():
    path = L.STATIC_DIR / L.bundle_name()
    assert path.is_file(), f"{path.name} is missing: run scripts/vendor_plotly_js.py after upgrading plotly"
    js = gzip.decompress(path.read_bytes())
    assert L.sha256(js) == L.BUNDLE_SHA256
    assert f"plotly.js (cartesian - minified) v{L.plotly_js_version()}" in js[:200].decode()
    others = [p.name for p in L.STATIC_DIR.glob("plotly-*.min.js.gz") if p != path]
    assert not others, f"stale bundles in static/: {others}"


def test_the_bundle_holds_every_trace_type_the_app_draws():
    js = gzip.decompress((L.STATIC_DIR / L.bundle_name()).read_bytes()).decode()
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', js))
    assert L.TRACE_TYPES <= registered, L.TRACE_TYPES - registered
    used = set()
    for path in (ROOT / "cnnlib" / "plots").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= {t.lower() for t in re.findall(r"go\.(Scatter\w*|Bar|Heatmap|Image|Pie|Box)\(", text)}
        used |= set(re.findall(r'"type": "(scatter\w*|bar|heatmap|image)"', text))
    assert used <= L.TRACE_TYPES, f"cnnlib.plots draws {used - L.TRACE_TYPES}: not in the partial bundle"


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
    assert L.plotly_src() == f"app/static/plotly-cartesian-{L.plotly_js_version()}.min.js.gz"


def test_no_page_uses_st_plotly_chart():
    """st.plotly_chart would ship Streamlit's full plotly.js (4.7 MB) beside our bundle."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "pages").rglob("*.py")
        if "plotly_chart(" in p.read_text("utf-8")
    ]
    assert not offenders, offenders
