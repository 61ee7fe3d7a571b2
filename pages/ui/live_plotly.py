"""A flicker-free live Plotly chart: a components-v2 element that redraws with `Plotly.react`.

In Streamlit 1.67 `st.plotly_chart` replaces its DOM node whenever the figure changes, so a chart
redrawn a few times a second flashes on a projector. This element creates its chart `<div>` once
and hands every new figure to `Plotly.react`, which updates the SVG in place.

Two elements, so the 4.8 MB plotly.js (the copy the `plotly` package ships; no network) crosses
the wire once per session, not on every tick:
- `plotly_loader()` carries plotly.js and sets `window.Plotly`. Mount it once per page, outside
  the polling fragment; its message never changes, so Streamlit's message cache sends only a
  reference on later reruns. It is hidden with CSS.
- `live_plotly(fig, key=...)` carries a few lines of JS and the figure as JSON; it waits for
  `window.Plotly`, then calls `Plotly.react(div, data, layout)` on the same div every update.
Under AppTest both are unknown elements ("bidi_component").
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from pathlib import Path

import plotly
import plotly.graph_objects as go
import streamlit as st

LOADER_KEY = "cc_plotly_loader"

_CHART_JS = """
const pending = new Map();   // div -> latest {fig, config, stamp}, drawn once Plotly is ready
let waiting = false;

function draw(div, item) {
  window.Plotly.react(div, item.fig.data, item.fig.layout, item.config);
  div.dataset.stamp = item.stamp;            // server time of the data (seconds)
  div.dataset.drawnAt = String(Date.now() / 1000);
  div.ccDraws = (div.ccDraws || 0) + 1;
}

function flushWhenReady() {
  if (waiting) return;
  waiting = true;
  const timer = setInterval(() => {
    if (!window.Plotly) return;
    clearInterval(timer);
    waiting = false;
    for (const [div, item] of pending) draw(div, item);
    pending.clear();
  }, 40);
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
  if (window.Plotly) draw(div, item);
  else { pending.set(div, item); flushWhenReady(); }
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

_HIDE_LOADER_CSS = f"<style>.st-key-{LOADER_KEY} {{ display: none; }}</style>"


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The text of plotly.min.js from the installed `plotly` package (read once per process)."""
    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _components():
    loader_js = plotly_js() + "\n;export default function () {}\n"
    loader = st.components.v2.component("cc_plotly_loader", js=loader_js, isolate_styles=False)
    chart = st.components.v2.component("cc_live_plotly", js=_CHART_JS, isolate_styles=False)
    return loader, chart


def plotly_loader() -> None:
    """Mount (hidden) the element that loads plotly.js into the page. Once per page run."""
    loader, _ = _components()
    st.html(_HIDE_LOADER_CSS)
    loader(key=LOADER_KEY, data={"v": plotly.__version__})


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
    _, chart = _components()
    if isinstance(fig, dict):
        text, height = json.dumps(fig, allow_nan=False), fig.get("layout", {}).get("height") or 400
    else:
        text, height = fig.to_json(), fig.layout.height or 400
    data = {"figure": text, "stamp": f"{stamp if stamp is not None else time.time():.3f}"}
    if config:
        data["config"] = config
    if scroll_id:
        data["scroll"] = scroll_id
    chart(key=key, data=data, height=int(height))
