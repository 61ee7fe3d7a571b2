"""Heat maps on a <canvas>, with a hover readout of every cell's value: one light element of ours.

The Kernels page's input and feature maps were Plotly heatmaps: each student's browser loaded and
ran plotly.js (1.5 MB) to show a few hundred coloured squares (issue 28). This components-v2
element draws the panels that `cnnlib.plots.heatmaps` packs (values for the readout, colours made
in Python from the app's palette, the padding, the patch, the output pixel, a colour bar) side by
side on canvases, sized to the width it has and, with `fit`, to the window's height below it (the
picture stays on one screen with a lesson bar and a poll above it, issue 25). Hovering a cell shows
its row, column and value (3 decimals, as the Plotly figures' hover did); a click on a clickable
panel's cell comes back as the trigger value `click` ({"x": column, "y": row}).

Under AppTest it is an unknown element ("bidi_component", name `cc_heatmaps`):
`json.loads(json.loads(proto.json)["panels"])` are the panels (`cnnlib.plots.decode_panel`).
In the browser each panel's `div.cchm-panel` holds `ccValues` (its Float32Array, row by row).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import streamlit as st

_CSS = """
.cchm { display: flex; flex-wrap: nowrap; gap: 1rem; align-items: flex-start; width: 100%; }
.cchm-panel { position: relative; flex: 0 0 auto; }
.cchm-title { font-weight: 600; font-size: 1rem; line-height: 1.4; color: #111827; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
.cchm canvas { display: block; }
.cchm-tip { position: absolute; pointer-events: none; background: rgba(17, 24, 39, 0.92); color: #fff;
  font-size: 0.85rem; line-height: 1.3; padding: 0.2rem 0.45rem; border-radius: 0.3rem; white-space: nowrap;
  display: none; z-index: 5; font-variant-numeric: tabular-nums; }
"""

_JS = """
const MINUS = "\\u2212";
const PATCH = "#00e5ff", PIXEL = "#ffd400", EDGE = "#ff7f0e", TEXT = "#111827", MUTED = "#4b5563";

function bytes(s) {
  const bin = atob(s), out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function pixels(rgb, w, h) {  // RGB bytes -> a w x h canvas (drawn scaled up, nearest neighbour)
  const img = new ImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    img.data[4 * i] = rgb[3 * i]; img.data[4 * i + 1] = rgb[3 * i + 1]; img.data[4 * i + 2] = rgb[3 * i + 2];
    img.data[4 * i + 3] = 255;
  }
  const cv = document.createElement("canvas");
  cv.width = w; cv.height = h;
  cv.getContext("2d").putImageData(img, 0, 0);
  return cv;
}

function decode(p) {
  const z = bytes(p.z);
  p.values = new Float32Array(z.buffer, 0, p.h * p.w);
  p.off = pixels(bytes(p.rgb), p.w, p.h);
  if (p.bar) p.barOff = pixels(bytes(p.bar.rgb), 1, p.bar.n);
  return p;
}

function fmt3(v) {
  if (!isFinite(v)) return String(v);
  let t = v.toFixed(3);
  if (/^-0\\.0+$/.test(t)) t = t.slice(1);
  return t.replace("-", MINUS);
}

function tickStep(n, cs, minGap) {
  for (const s of [1, 2, 5, 10, 20, 25, 50, 100, 200, 500]) if (s * cs >= minGap) return s;
  return Math.max(1, Math.ceil(n / 4));
}

function geometry(S, p, cs) {
  const k = S.k, font = Math.round(12 * k);
  const ctx = S.measure; ctx.font = `${font}px sans-serif`;
  const rowLabel = Math.max(...[p.r0, p.r0 + p.h - 1].map((r) => ctx.measureText(String(r).replace("-", MINUS)).width));
  const axL = Math.ceil(rowLabel + 6 * k), axT = Math.ceil(font + 6 * k);
  let barW = 0, labW = 0;
  if (p.bar) {
    barW = Math.round(14 * k);
    labW = Math.ceil(Math.max(...p.bar.ticks.map((t) => ctx.measureText(t[1]).width)) + 12 * k);
  }
  const extra = p.bar ? Math.round(12 * k) + barW + labW : Math.round(4 * k);
  return { font, axL, axT, barW, labW, extra, W: p.w * cs, H: p.h * cs, cs };
}

function cellSizes(S, width, gap, maxH) {  // every panel's longer side the same length (px)
  const gs = S.panels.map((p) => geometry(S, p, 1));
  const fixed = gs.reduce((a, g) => a + g.axL + g.extra, 0) + gap * (S.panels.length - 1);
  const share = S.panels.reduce((a, p) => a + p.w / Math.max(p.h, p.w), 0);
  const tallest = S.panels.reduce((a, p) => Math.max(a, p.h / Math.max(p.h, p.w)), 0);
  const side = Math.max(40, Math.min((width - fixed) / share, (maxH - Math.max(...gs.map((g) => g.axT))) / tallest));
  return S.panels.map((p) => Math.floor(side) / Math.max(p.h, p.w));
}

function drawPanel(S, p, g) {
  const cv = p.cv, dpr = window.devicePixelRatio || 1;
  const width = g.axL + g.W + g.extra, height = g.axT + g.H + 2;
  cv.width = Math.round(width * dpr); cv.height = Math.round(height * dpr);
  cv.style.width = width + "px"; cv.style.height = height + "px";
  p.title.style.maxWidth = width + "px";
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = `${g.font}px sans-serif`; ctx.fillStyle = MUTED;
  const x0 = g.axL, y0 = g.axT, cs = g.cs;
  const step = tickStep(Math.max(p.h, p.w), cs, g.font * 2.6);
  ctx.textAlign = "center"; ctx.textBaseline = "bottom";
  for (let c = Math.ceil(p.c0 / step) * step; c < p.c0 + p.w; c += step)
    ctx.fillText(String(c).replace("-", MINUS), x0 + (c - p.c0 + 0.5) * cs, y0 - 3);
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (let r = Math.ceil(p.r0 / step) * step; r < p.r0 + p.h; r += step)
    ctx.fillText(String(r).replace("-", MINUS), x0 - 4, y0 + (r - p.r0 + 0.5) * cs);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(p.off, x0, y0, g.W, g.H);
  const rect = (r, c, nh, nw, colour, width, dash) => {
    ctx.setLineDash(dash || []); ctx.strokeStyle = colour; ctx.lineWidth = width;
    ctx.strokeRect(x0 + (c - p.c0) * cs, y0 + (r - p.r0) * cs, nw * cs, nh * cs);
    ctx.setLineDash([]);
  };
  if (p.image) rect(p.image[0], p.image[1], p.image[2], p.image[3], EDGE, 2, [6, 4]);
  if (p.patch) {
    const rs = p.patch.rows, cs_ = p.patch.cols;
    if (Math.max(p.h, p.w) <= 64 && rs.length * cs_.length > 1)
      for (const r of rs) for (const c of cs_) rect(r, c, 1, 1, PATCH, 1);
    rect(Math.min(...rs), Math.min(...cs_), Math.max(...rs) - Math.min(...rs) + 1, Math.max(...cs_) - Math.min(...cs_) + 1, PATCH, 3);
  }
  if (p.pixel) rect(p.pixel[0], p.pixel[1], 1, 1, PIXEL, 3);
  if (p.bar) {
    const bx = x0 + g.W + Math.round(12 * S.k), top = y0 + g.H * 0.05, len = g.H * 0.9;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(p.barOff, bx, top, g.barW, len);
    ctx.strokeStyle = "rgba(0,0,0,0.25)"; ctx.lineWidth = 1; ctx.strokeRect(bx, top, g.barW, len);
    ctx.fillStyle = MUTED; ctx.textAlign = "left"; ctx.textBaseline = "middle";
    const { lo, hi } = p.bar;
    for (const [v, label] of p.bar.ticks) {
      const y = top + (hi > lo ? (hi - v) / (hi - lo) : 0.5) * len;
      ctx.fillRect(bx + g.barW, y - 0.5, 4, 1);
      ctx.fillText(label, bx + g.barW + 6, y);
    }
  }
  p.g = g;
  p.wrap.dataset.cell = String(cs);
  p.wrap.dataset.grid = `${g.axL},${g.axT}`;  // where the cells start in the canvas (px)
}

function cellAt(p, ev) {
  const g = p.g, box = p.cv.getBoundingClientRect();
  const x = ev.clientX - box.left - g.axL, y = ev.clientY - box.top - g.axT;
  if (x < 0 || y < 0 || x >= g.W || y >= g.H) return null;
  const i = Math.floor(y / g.cs), j = Math.floor(x / g.cs);
  if (i < 0 || j < 0 || i >= p.h || j >= p.w) return null;
  return { i, j, row: i + p.r0, col: j + p.c0, value: p.values[i * p.w + j] };
}

function hover(S, p, ev) {
  const c = cellAt(p, ev);
  if (!c) { p.tip.style.display = "none"; p.cv.style.cursor = "default"; return; }
  const inImage = !p.image || (c.row >= 0 && c.col >= 0 && c.row < p.image[2] && c.col < p.image[3]);
  p.tip.innerHTML = `row ${c.row}, col ${c.col}<br>` + (inImage ? `value ${fmt3(c.value)}` : "zero padding: 0");
  p.tip.style.display = "block";
  const box = p.cv.getBoundingClientRect(), wrap = p.wrap.getBoundingClientRect();
  let left = ev.clientX - wrap.left + 12, top = ev.clientY - wrap.top + 12;
  if (left + p.tip.offsetWidth > wrap.width) left = ev.clientX - wrap.left - p.tip.offsetWidth - 8;
  p.tip.style.left = left + "px"; p.tip.style.top = top + "px";
  p.cv.style.cursor = p.click ? "pointer" : "crosshair";
  p.wrap.dataset.hover = `${c.row},${c.col},${c.value}`;
  void box;
}

function layout(S) {
  const root = S.root, n = S.panels.length;
  if (!root.isConnected || !n) return;
  const gap = parseFloat(getComputedStyle(root).columnGap) || 16;
  const width = root.clientWidth || 600;
  let maxH = S.maxH;
  if (S.fit) {
    const top = root.getBoundingClientRect().top + window.scrollY;
    const titleH = S.panels[0].title.offsetHeight || 24 * S.k;
    maxH = Math.max(S.minH, Math.min(S.maxH, window.innerHeight - top - titleH - S.reserve));
  }
  const sizes = cellSizes(S, width, gap, maxH);
  const key = `${width}|${maxH}|${sizes.join(",")}`;
  if (key === S.drawn) return;
  S.drawn = key;
  S.panels.forEach((p, i) => drawPanel(S, p, geometry(S, p, sizes[i])));
  root.dataset.fitHeight = String(Math.round(maxH));
}

function build(root, data, send) {
  const panels = JSON.parse(data.panels).map(decode);
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const S = root.cchm || {};
  Object.assign(S, { root, panels, k: rem / 16, fit: !!data.fit, maxH: data.max_h || 400,
    minH: data.min_h || 96, reserve: data.reserve || 0, drawn: null, send });
  S.measure = S.measure || document.createElement("canvas").getContext("2d");
  root.innerHTML = "";
  for (const p of panels) {
    const wrap = document.createElement("div");
    wrap.className = "cchm-panel";
    wrap.dataset.title = p.title;
    wrap.dataset.h = String(p.h); wrap.dataset.w = String(p.w);
    if (p.pixel) wrap.dataset.pixel = p.pixel.join(",");
    wrap.ccValues = p.values;
    const title = document.createElement("div");
    title.className = "cchm-title"; title.textContent = p.title; title.title = p.title;
    const cv = document.createElement("canvas");
    const tip = document.createElement("div");
    tip.className = "cchm-tip";
    wrap.append(title, cv, tip);
    root.appendChild(wrap);
    Object.assign(p, { wrap, title, cv, tip });
    cv.addEventListener("mousemove", (ev) => hover(S, p, ev));
    cv.addEventListener("mouseleave", () => { tip.style.display = "none"; });
    if (p.click) cv.addEventListener("click", (ev) => {
      const c = cellAt(p, ev);
      if (c && S.send) S.send("click", { x: c.col, y: c.row });
    });
  }
  root.cchm = S;
  layout(S);
  if (!S.watching) {
    S.watching = true;
    const again = () => requestAnimationFrame(() => layout(root.cchm));
    window.addEventListener("resize", again);
    if (window.ResizeObserver) {
      const ro = new ResizeObserver(again);
      ro.observe(root);
      const main = document.querySelector('[data-testid="stMainBlockContainer"]');
      if (main) ro.observe(main);
      S.ro = ro;
    }
    setTimeout(again, 300);
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data || !data.panels) return;
  let root = parentElement.querySelector(":scope > div.cchm");
  if (!root) {
    root = document.createElement("div");
    root.className = "cchm";
    parentElement.appendChild(root);
  }
  if (root.cchm) root.cchm.send = setTriggerValue;
  const id = `${data.id}|${data.fit}|${data.max_h}|${data.reserve}`;
  if (root.dataset.id === id) return;  // the same panels again (any rerun): nothing to redraw
  root.dataset.id = id;
  build(root, data, setTriggerValue);
}
"""


@lru_cache(maxsize=1)
def _element():
    return st.components.v2.component("cc_heatmaps", js=_JS, css=_CSS, isolate_styles=False)


def panels_id(text: str) -> str:
    """A short fingerprint of the panels' JSON: the browser redraws only when it changes."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def heatmaps(
    panels: str,
    key: str,
    *,
    max_height: int = 400,
    fit: bool = True,
    reserve: int = 0,
    on_click: Callable[[], None] | None = None,
    panels_key: str | None = None,
) -> Any:
    """Draw `panels` (`cnnlib.plots.panels_json`'s text) side by side. max_height: the tallest a panel's
    grid may be (px); fit: smaller still so that it ends `reserve` px above the window's bottom (at the
    page's first scroll); on_click (no arguments; read `st.session_state[key]["click"]`): runs after a
    click on a clickable panel's cell. panels_key: a fingerprint already known (else made here)."""
    data = {
        "panels": panels,
        "id": panels_key or panels_id(panels),
        "max_h": int(max_height),
        "fit": bool(fit),
        "reserve": int(reserve),
    }
    callbacks: dict[str, Callable[[], None]] = {}
    if on_click is not None:
        callbacks["on_click_change"] = on_click
    return _element()(key=key, data=data, **callbacks)
