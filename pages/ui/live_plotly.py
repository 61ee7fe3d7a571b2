"""Every Plotly figure of the app: one components-v2 element that draws with `Plotly.react`.

`st.plotly_chart` (1.67) ships Streamlit's own chunk with the full plotly.js (4.7 MB, every trace
type) to each student and replaces its DOM node whenever the figure changes, so a chart redrawn a
few times a second flashes on a projector. This element creates its chart `<div>` once and hands
every new figure to `Plotly.react`, which updates the SVG in place, and it loads plotly.js itself:
the cartesian partial bundle (scatter, bar, heatmap, image: every trace `cnnlib.plots` makes;
1.5 MB, the npm package `plotly.js-cartesian-dist-min` at the installed plotly.js's version), once
per tab, after the page's first paint (the chart's box keeps its height until then).

The bundle is a static file of the app, `static/plotly-cartesian-<version>.min.js.gz`, served by
Streamlit's static file serving (`server.enableStaticServing`, .streamlit/config.toml) at
`app/static/...`. It is stored gzipped (0.5 MB): Streamlit serves a `.gz` file as
`application/gzip`, which its gzip middleware leaves alone, so the server never compresses it per
request; the browser unzips it (DecompressionStream), runs it once per tab, and keeps the file in
its HTTP cache (`fetch(..., {cache: "force-cache"})`: the version is in the name).
`scripts/vendor_plotly_js.py` writes the file from the npm registry's tarball; a test checks its
version and its SHA-256. Nothing is ever written under the app's folder at run time.

`live_plotly(fig, key=...)` carries the figure as JSON (a `PlainFigure` keeps its JSON text, so a
figure shared by every student is serialised once); a click on a point or a heatmap cell comes
back as the trigger value `click` ({"x", "y", "curve"}) when `on_click` is given. Under AppTest it
is an unknown element ("bidi_component"; `figure_specs` in tests reads its figures).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"  # beside app.py, served at app/static/
STATIC_URL = "app/static/"  # relative to the page, as Streamlit's docs use it (works under a base path)
BUNDLE_PACKAGE = "plotly.js-cartesian-dist-min"  # npm: bar, box, contour, heatmap, histogram*, image, pie,
# scatter, scatterternary, violin (no scattergl: cnnlib.plots never asks for it)
BUNDLE_FILE = "plotly-cartesian.min.js"  # inside the package
BUNDLE_SHA256 = "79542150855a52c567260e3137095dbe2b744e6d702a5cabe67da246942fba7a"  # of 4.1.1's file
TRACE_TYPES = frozenset({"scatter", "bar", "heatmap", "image"})  # what the app draws (tests check)

# Loads plotly.js once per browser tab (window.ccPlotly is the promise), after the first paint.
_LOAD_JS = """
function afterPaint() {
  return new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)));
}
function loadPlotly(src) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.ccPlotly) {
    window.ccPlotly = (async () => {
      await afterPaint();
      const res = await fetch(src, { cache: "force-cache" });
      if (!res.ok) throw new Error(`plotly.js: HTTP ${res.status} for ${src}`);
      const text = await new Response(res.body.pipeThrough(new DecompressionStream("gzip"))).text();
      const url = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
      await new Promise((ok, fail) => {
        const s = document.createElement("script");
        s.src = url;
        s.onload = ok;
        s.onerror = () => fail(new Error("plotly.js did not run"));
        document.head.appendChild(s);
      });
      URL.revokeObjectURL(url);
      return window.Plotly;
    })();
    window.ccPlotly.catch((err) => { window.ccPlotly = null; console.error(err); });
  }
  return window.ccPlotly;
}
"""

_CHART_JS = (
    _LOAD_JS
    + """
// Axes make room for their tick labels and titles (as st.plotly_chart's theme did): without it a
// narrow screen (a phone) cut the labels of figures with small margins ("0" for "100").
function withMargins(layout) {
  const out = Object.assign({}, layout || {});
  const keys = ["xaxis", "yaxis", ...Object.keys(out).filter((k) => /^[xy]axis[0-9]+$/.test(k))];
  for (const k of keys) {
    const axis = out[k] || {};
    if (axis.automargin === undefined) out[k] = Object.assign({}, axis, { automargin: true });
  }
  return out;
}

function fitHeight(div, want, least) {
  const top = div.getBoundingClientRect().top + window.scrollY;  // on the page, whatever the scroll
  return Math.max(least, Math.min(want, Math.floor(window.innerHeight - top - 12)));
}

// A chart with `fit` is sized when drawn (the page above it has settled by then) and again when the
// window is resized: as tall as asked, or less so that it ends inside the window (never under fit px).
function fitted(div, item) {
  if (!item.fit) return item.fig.layout;
  let height = parseInt(div.style.height, 10) || item.want;
  if (div.getClientRects().length) height = fitHeight(div, item.want, item.fit);  // laid out: its top is real
  if (div.style.height !== height + "px") div.style.height = height + "px";
  // Checked again once the page around it has settled (a chart mounted before its tab was laid out).
  clearTimeout(div.ccRefit);
  div.ccRefit = setTimeout(() => {
    if (div.isConnected && div.getClientRects().length && fitHeight(div, item.want, item.fit) + "px" !== div.style.height) {
      draw(div, div.ccLatest);
    }
  }, 300);
  return Object.assign({}, item.fig.layout, { height });
}

function refitAll() {
  for (const div of document.querySelectorAll("div.cc-live-plotly")) {
    if (window.Plotly && div.ccLatest && div.ccLatest.fit) draw(div, div.ccLatest);
  }
}

function draw(div, item) {
  window.Plotly.react(div, item.fig.data, withMargins(fitted(div, item)), item.config);
  div.dataset.stamp = item.stamp;            // server time of the data (seconds)
  div.dataset.drawnAt = String(Date.now() / 1000);
  div.ccDraws = (div.ccDraws || 0) + 1;
  if (!div.ccClickBound) {                   // once per div: a click reports the point to Python
    div.ccClickBound = true;
    div.on("plotly_click", (ev) => {
      const p = ev && ev.points && ev.points[0];
      if (!p || !div.ccClicks || !div.ccSend) return;
      div.ccSend("click", { x: p.x, y: p.y, curve: p.curveNumber });
    });
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data || !data.figure) return;
  let div = parentElement.querySelector(":scope > div.cc-live-plotly");
  if (!div) {
    div = document.createElement("div");
    div.className = "cc-live-plotly";
    div.style.width = "100%";
    parentElement.appendChild(div);
  }
  div.ccSend = setTriggerValue;
  div.ccClicks = !!data.clicks;
  const fig = JSON.parse(data.figure);
  const want = (fig.layout && fig.layout.height) || 400;
  const height = data.fit && div.getClientRects().length ? fitHeight(div, want, data.fit) : want;
  if (div.style.height !== height + "px") div.style.height = height + "px";
  const item = {
    fig,
    config: Object.assign({ responsive: true, displaylogo: false }, data.config || {}),
    stamp: String(data.stamp || ""),
    want,
    fit: data.fit || 0,
  };
  if (data.fit && !window.ccRefitBound) {  // once per tab
    window.ccRefitBound = true;
    window.addEventListener("resize", () => requestAnimationFrame(refitAll));
  }
  div.ccLatest = item;  // only the newest figure is drawn when plotly.js arrives
  if (window.Plotly) draw(div, item);
  else if (!div.ccWaiting) {
    div.ccWaiting = true;
    loadPlotly(data.src)
      .then(() => draw(div, div.ccLatest))
      .catch((err) => { div.textContent = "The chart could not be drawn: " + err.message; })
      .finally(() => { div.ccWaiting = false; });
  }
  // Bring the chart into view once per new run (e.g. when Train is pressed), not on every update;
  // "nearest": a chart already on screen stays where it is.
  if (data.scroll) {
    let seen = null;
    try { seen = window.sessionStorage.getItem("cc-live-scrolled"); } catch (e) {}
    if (seen !== data.scroll) {
      try { window.sessionStorage.setItem("cc-live-scrolled", data.scroll); } catch (e) {}
      setTimeout(() => div.scrollIntoView({ behavior: "smooth", block: "nearest" }), 50);
    }
  }
}
"""
)


def installed_plotly_js() -> Path:
    """plotly.min.js as the installed `plotly` package ships it (only its version is read)."""
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@lru_cache(maxsize=1)
def plotly_js_version() -> str:
    """The installed plotly.js's version, from its header ("4.1.1"): the bundle's must match."""
    with installed_plotly_js().open(encoding="utf-8") as f:
        head = f.read(200)
    found = re.search(r"plotly\.js v(\d+\.\d+\.\d+\S*)", head)
    if not found:
        raise RuntimeError(f"no plotly.js version in the header of {installed_plotly_js()}")
    return found.group(1)


def bundle_name() -> str:
    """The static file's name: plotly-cartesian-<version>.min.js.gz."""
    return f"plotly-cartesian-{plotly_js_version()}.min.js.gz"


def bundle_url() -> str:
    """The npm registry's tarball of the partial bundle at the installed plotly.js's version."""
    v = plotly_js_version()
    return f"https://registry.npmjs.org/{BUNDLE_PACKAGE}/-/{BUNDLE_PACKAGE}-{v}.tgz"


def bundle_bytes(js: bytes) -> bytes:
    """The bundle's text gzipped as the static file holds it (level 9, no timestamp)."""
    return gzip.compress(js, compresslevel=9, mtime=0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plotly_src() -> str:
    return STATIC_URL + bundle_name()


@lru_cache(maxsize=1)
def _chart():
    return st.components.v2.component("cc_live_plotly", js=_CHART_JS, isolate_styles=False)


def figure_json(fig: Any) -> tuple[str, int]:
    """(JSON text, height) of a go.Figure, a plain dict (numpy arrays allowed) or a `PlainFigure`;
    a PlainFigure keeps its text, so a figure shared by every session is serialised once."""
    cached = getattr(fig, "json_text", None)
    if callable(cached):
        return cached()
    if isinstance(fig, go.Figure):
        return fig.to_json(), fig.layout.height or 400
    text = pio.to_json(fig, validate=False)
    return text, (fig.get("layout") or {}).get("height") or 400


def live_plotly(
    fig: Any,
    key: str,
    stamp: float | None = None,
    config: dict | None = None,
    scroll_id: str | None = None,
    on_click: Callable[[], None] | None = None,
    fit: int | None = None,
) -> Any:
    """Draw `fig` (a go.Figure, a plain {"data", "layout"} dict or a `PlainFigure`) in place with
    Plotly.react; returns the element's result (`.click` after a click when `on_click` is given).

    The element is identified by `key`, so its div survives every update. `stamp` (seconds since
    the epoch, default now) is written on the chart div as data-stamp when drawn, to measure the lag
    between data and display in a browser. A new `scroll_id` scrolls the chart into view once.
    `on_click` (no arguments; read `st.session_state[key]["click"]`) runs when a point is clicked.
    `fit` (px): the chart shrinks, down to `fit` px, so that it ends inside the browser window (issue
    25: the live curves on one screen at 720 px); its box then follows the chart.
    """
    text, height = figure_json(fig)
    data: dict[str, Any] = {
        "figure": text,
        "src": plotly_src(),
        "stamp": f"{stamp if stamp is not None else time.time():.3f}",
    }
    if config:
        data["config"] = config
    if scroll_id:
        data["scroll"] = scroll_id
    if fit:
        data["fit"] = int(fit)
    callbacks: dict[str, Callable[[], None]] = {}
    if on_click is not None:
        data["clicks"] = True
        callbacks["on_click_change"] = on_click
    return _chart()(key=key, data=data, height="content" if fit else int(height), **callbacks)
