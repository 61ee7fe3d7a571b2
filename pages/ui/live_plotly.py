"""A flicker-free live Plotly chart: a components-v2 element that redraws with `Plotly.react`.

In Streamlit 1.67 `st.plotly_chart` replaces its DOM node whenever the figure changes, so a chart
redrawn a few times a second flashes on a projector. This element creates its chart `<div>` once
and hands every new figure to `Plotly.react`, which updates the SVG in place.

plotly.js (4.8 MB, the copy the installed `plotly` package ships; no network) is a static file of
the app, `static/plotly-<version>.min.js.gz`, served by Streamlit's static file serving
(`server.enableStaticServing`, .streamlit/config.toml) at `app/static/...`. It is stored gzipped
(1.5 MB): Streamlit serves a `.gz` file as `application/gzip`, which its gzip middleware leaves
alone, so the server never compresses 4.8 MB per request (170 ms of CPU at level 9); the browser
unzips it (DecompressionStream), runs it once per tab, and keeps the file in its HTTP cache
(`fetch(..., {cache: "force-cache"})`: the version is in the name). `scripts/vendor_plotly_js.py`
writes the file from the installed package; a test checks it matches byte for byte. Nothing is
ever written under the app's folder at run time.

`live_plotly(fig, key=...)` carries the figure as JSON; the first one in a tab loads plotly.js, and
every update calls `Plotly.react(div, data, layout)` on the same div. Under AppTest it is an unknown
element ("bidi_component").
"""

from __future__ import annotations

import gzip
import json
import re
import time
from functools import lru_cache
from pathlib import Path

import plotly
import plotly.graph_objects as go
import streamlit as st

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"  # beside app.py, served at app/static/
STATIC_URL = "app/static/"  # relative to the page, as Streamlit's docs use it (works under a base path)

# Loads plotly.js once per browser tab (window.ccPlotly is the promise), then draws.
_LOAD_JS = """
function loadPlotly(src) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.ccPlotly) {
    window.ccPlotly = (async () => {
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
function draw(div, item) {
  window.Plotly.react(div, item.fig.data, item.fig.layout, item.config);
  div.dataset.stamp = item.stamp;            // server time of the data (seconds)
  div.dataset.drawnAt = String(Date.now() / 1000);
  div.ccDraws = (div.ccDraws || 0) + 1;
}

export default function (component) {
  const { data, parentElement } = component;
  if (!data || !data.figure) return;
  let div = parentElement.querySelector(":scope > div.cc-live-plotly");
  if (!div) {
    div = document.createElement("div");
    div.className = "cc-live-plotly";
    div.style.width = "100%";
    parentElement.appendChild(div);
  }
  const fig = JSON.parse(data.figure);
  const height = (fig.layout && fig.layout.height) || 400;
  if (div.style.height !== height + "px") div.style.height = height + "px";
  const item = {
    fig,
    config: Object.assign({ responsive: true, displaylogo: false }, data.config || {}),
    stamp: String(data.stamp || ""),
  };
  div.ccLatest = item;  // only the newest figure is drawn when plotly.js arrives
  if (window.Plotly) draw(div, item);
  else if (!div.ccWaiting) {
    div.ccWaiting = true;
    loadPlotly(data.src)
      .then(() => draw(div, div.ccLatest))
      .catch((err) => { div.textContent = "The chart could not be drawn: " + err.message; })
      .finally(() => { div.ccWaiting = false; });
  }
  // Bring the chart into view once per new run (e.g. when Train is pressed), not on every update.
  if (data.scroll) {
    let seen = null;
    try { seen = window.sessionStorage.getItem("cc-live-scrolled"); } catch (e) {}
    if (seen !== data.scroll) {
      try { window.sessionStorage.setItem("cc-live-scrolled", data.scroll); } catch (e) {}
      setTimeout(() => div.scrollIntoView({ behavior: "smooth", block: "center" }), 50);
    }
  }
}
"""
)


def installed_plotly_js() -> Path:
    """plotly.min.js as the installed `plotly` package ships it."""
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@lru_cache(maxsize=1)
def plotly_js_version() -> str:
    """The installed plotly.js's version, from its header ("4.1.1")."""
    with installed_plotly_js().open(encoding="utf-8") as f:
        head = f.read(200)
    found = re.search(r"plotly\.js v(\d+\.\d+\.\d+\S*)", head)
    if not found:
        raise RuntimeError(f"no plotly.js version in the header of {installed_plotly_js()}")
    return found.group(1)


def bundle_name() -> str:
    """The static file's name for the installed plotly.js: plotly-<version>.min.js.gz."""
    return f"plotly-{plotly_js_version()}.min.js.gz"


def bundle_bytes() -> bytes:
    """The installed plotly.min.js gzipped as the static file holds it (level 9, no timestamp)."""
    return gzip.compress(installed_plotly_js().read_bytes(), compresslevel=9, mtime=0)


def plotly_src() -> str:
    return STATIC_URL + bundle_name()


@lru_cache(maxsize=1)
def _chart():
    return st.components.v2.component("cc_live_plotly", js=_CHART_JS, isolate_styles=False)


def live_plotly(
    fig: go.Figure | dict,
    key: str,
    stamp: float | None = None,
    config: dict | None = None,
    scroll_id: str | None = None,
) -> None:
    """Draw `fig` (a go.Figure, or a plain {"data", "layout"} dict) in place with Plotly.react.

    The element is identified by `key`, so its div survives every update. `stamp` (seconds since
    the epoch, default now) is written on the chart div as data-stamp when drawn, to measure the lag
    between data and display in a browser. A new `scroll_id` scrolls the chart into view once.
    """
    if isinstance(fig, dict):
        text, height = json.dumps(fig, allow_nan=False), fig.get("layout", {}).get("height") or 400
    else:
        text, height = fig.to_json(), fig.layout.height or 400
    data = {
        "figure": text,
        "src": plotly_src(),
        "stamp": f"{stamp if stamp is not None else time.time():.3f}",
    }
    if config:
        data["config"] = config
    if scroll_id:
        data["scroll"] = scroll_id
    _chart()(key=key, data=data, height=int(height))
