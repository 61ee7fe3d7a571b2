"""The window player: a kernel (or a pooling window) sliding over the input by itself, in the browser.

One components-v2 element of ours. The page sends it, once per change of the inputs, the frames
that `cnnlib.kernels.window_frames` / `pool_frames` worked out, packed by `payload_json` (the
layer's geometry, the input's values, the kernel and every output: numbers, not pictures). The
browser then plays them with no server round trip per frame: play/pause, a step back and forward,
a scrubber and a speed picker redraw the input (the padded border in orange, the window's taps in
cyan with the dilation's gaps between them, the last position dotted to show the stride's jump),
the output filling in pixel by pixel, and beside them the patch, the products and their sum (for
several channels: each channel's products and sum, then their total plus the bias).

The JavaScript derives each frame by the rules `frames_payload` documents (a test decodes the
payload in numpy the same way); the outputs it shows are torch's. Pressing play sends nothing to
the server (the browser test counts the websocket's messages). Under AppTest the element is an
unknown element ("bidi_component", name `cc_window_player`): `json.loads(proto.json)["frames"]`.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import streamlit as st

SPEEDS = (1, 2, 5, 10, 20, 50)  # output pixels per second the teacher can pick
DEFAULT_SPEED = 5

_CSS = """
.ccwp { font-size: 0.85rem; line-height: 1.25; }
.ccwp-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem; margin-bottom: 0.5rem; }
.ccwp-bar button { min-width: 2.4rem; height: 2.2rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid rgba(49, 51, 63, 0.3); background: white; font-size: 1rem; }
.ccwp-bar button.ccwp-play { background: #ff4b4b; color: white; border-color: #ff4b4b; min-width: 5.5rem; }
.ccwp-bar input[type=range] { flex: 1 1 12rem; min-width: 8rem; }
.ccwp-label { font-variant-numeric: tabular-nums; min-width: 14rem; }
.ccwp-body { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.ccwp-fig { display: flex; flex-direction: column; gap: 0.25rem; }
.ccwp-cap { color: rgba(49, 51, 63, 0.7); font-size: 0.8rem; max-width: 26rem; }
.ccwp-math { display: flex; flex-direction: column; gap: 0.4rem; font-variant-numeric: tabular-nums; }
.ccwp-row { display: flex; align-items: center; gap: 0.35rem; flex-wrap: wrap; }
.ccwp-grid { display: grid; gap: 1px; background: rgba(49, 51, 63, 0.2); border: 1px solid rgba(49, 51, 63, 0.3); }
.ccwp-grid span { background: white; padding: 0.05rem 0.25rem; text-align: right; min-width: 2.2em; }
.ccwp-grid span.pad { background: #fde3c8; color: #8a4b0f; }
.ccwp-grid span.ker { background: #eef3fb; }
.ccwp-grid span.prod { background: #f3f0fa; }
.ccwp-op { font-size: 1.1rem; color: rgba(49, 51, 63, 0.7); }
.ccwp-sum { font-weight: 600; }
.ccwp-big { font-size: 1.15rem; }
"""

_JS = """
const SPEEDS = __SPEEDS__;
const MINUS = "\\u2212";

function fmt(v) {
  if (v === null || v === undefined) return "";
  if (!isFinite(v)) return (v < 0 ? MINUS : "") + "\\u221e";
  let t;
  const a = Math.abs(v);
  if (Number.isInteger(v)) t = String(v);
  else t = v.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3).replace(/0+$/, "").replace(/\\.$/, "");
  if (t === "-0" || t === "0") return "0";
  return t.replace("-", MINUS);
}

function fmt2(v) {  // two decimals at most, for the numbers in a picture's cells
  return fmt(Math.round(v * 100) / 100);
}

function frameAt(D, n) {
  const orow = Math.floor(n / D.ow), ocol = n % D.ow;
  const [kh, kw] = D.k, [sh, sw] = D.s, [dh, dw] = D.d, top = D.p[0], left = D.p[2];
  const rows = [], cols = [];
  for (let i = 0; i < kh; i++) rows.push(orow * sh - top + i * dh);
  for (let j = 0; j < kw; j++) cols.push(ocol * sw - left + j * dw);
  const chans = [];
  for (let c = 0; c < D.C; c++) {
    const patch = [], inside = [], prod = [];
    let sum = 0;
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const ok = rows[i] >= 0 && rows[i] < D.H && cols[j] >= 0 && cols[j] < D.W;
      const v = ok ? D.image[(c * D.H + rows[i]) * D.W + cols[j]] : 0;
      patch.push(v); inside.push(ok);
      if (D.kernel) { const p = v * D.kernel[(c * kh + i) * kw + j]; prod.push(p); sum += p; }
      else sum += v;
    }
    chans.push({ patch, inside, prod, sum });
  }
  return { n, orow, ocol, rows, cols, chans, out: D.out[n], div: D.div ? D.div[n] : null };
}

function extent(D) {  // the drawn grid: the image, its padding, and any ceil-mode overhang
  const lastR = (D.oh - 1) * D.s[0] - D.p[0] + (D.k[0] - 1) * D.d[0];
  const lastC = (D.ow - 1) * D.s[1] - D.p[2] + (D.k[1] - 1) * D.d[1];
  return { r0: -D.p[0], r1: Math.max(D.H - 1 + D.p[1], lastR), c0: -D.p[2], c1: Math.max(D.W - 1 + D.p[3], lastC) };
}

function range(a) {
  let lo = Infinity, hi = -Infinity;
  for (const v of a) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}

function outColour(v, P) {
  if (!isFinite(v)) return "#ffffff";
  if (P.signed) {
    const t = Math.max(-1, Math.min(1, v / (P.mag || 1)));
    const [r, g, b] = t >= 0 ? [178, 24, 43] : [33, 102, 172];
    const a = Math.abs(t);
    return `rgb(${Math.round(255 + (r - 255) * a)},${Math.round(255 + (g - 255) * a)},${Math.round(255 + (b - 255) * a)})`;
  }
  const g = Math.round(255 * (P.hi > P.lo ? (v - P.lo) / (P.hi - P.lo) : 0.5));
  return `rgb(${g},${g},${g})`;
}

function setupCanvas(cv, w, h) {
  const dpr = window.devicePixelRatio || 1;
  cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
  cv.style.width = w + "px"; cv.style.height = h + "px";
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function drawInput(S, f, prev) {
  const D = S.D, E = S.E, cs = S.cs, ctx = setupCanvas(S.inCv, S.inW, S.inH);
  const [lo, hi] = S.inRange, scale = (v) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  ctx.font = `${Math.max(8, Math.floor(cs * 0.38))}px sans-serif`;
  ctx.textAlign = "center"; ctx.textBaseline = "middle";
  for (let r = E.r0; r <= E.r1; r++) for (let c = E.c0; c <= E.c1; c++) {
    const x = (c - E.c0) * cs, y = (r - E.r0) * cs;
    const inImg = r >= 0 && r < D.H && c >= 0 && c < D.W;
    const inPad = r >= -D.p[0] && r < D.H + D.p[1] && c >= -D.p[2] && c < D.W + D.p[3];
    let fill = "#eeeeee", val = null;
    if (inImg) {
      const vs = []; for (let ch = 0; ch < D.C; ch++) vs.push(D.image[(ch * D.H + r) * D.W + c]);
      if (S.neutral) { const g = Math.round(250 - 45 * scale(vs[0])); fill = `rgb(${g},${g},${g})`; }  // made-up numbers: a light tint
      else if (D.C === 3) fill = `rgb(${vs.map((v) => Math.round(255 * scale(v))).join(",")})`;
      else { const g = Math.round(255 * scale(vs[0])); fill = `rgb(${g},${g},${g})`; }
      if (D.C === 1) val = vs[0];
    } else if (inPad) { fill = "#fdd0a2"; val = D.op === "max" ? null : 0; }
    ctx.fillStyle = fill; ctx.fillRect(x, y, cs, cs);
    if (cs >= S.textAt && val !== null) {
      const dark = inImg && !S.neutral ? scale(val) > 0.55 : true;
      ctx.fillStyle = dark ? "#222" : "#fff";
      ctx.fillText(S.intData ? fmt(val) : fmt2(val), x + cs / 2, y + cs / 2 + 0.5);
    }
  }
  ctx.strokeStyle = "rgba(0,0,0,0.12)"; ctx.lineWidth = 1;
  if (cs >= 6) for (let r = 0; r <= E.r1 - E.r0 + 1; r++) { ctx.beginPath(); ctx.moveTo(0, r * cs); ctx.lineTo(S.inW, r * cs); ctx.stroke(); }
  if (cs >= 6) for (let c = 0; c <= E.c1 - E.c0 + 1; c++) { ctx.beginPath(); ctx.moveTo(c * cs, 0); ctx.lineTo(c * cs, S.inH); ctx.stroke(); }
  if (D.p.some((p) => p > 0)) {  // the image's edge
    ctx.setLineDash([4, 3]); ctx.strokeStyle = "#8a4b0f"; ctx.lineWidth = 1.5;
    ctx.strokeRect((0 - E.c0) * cs, (0 - E.r0) * cs, D.W * cs, D.H * cs); ctx.setLineDash([]);
  }
  const span = (g, colour, dash, width) => {
    const x = (g.cols[0] - E.c0) * cs, y = (g.rows[0] - E.r0) * cs;
    ctx.setLineDash(dash); ctx.strokeStyle = colour; ctx.lineWidth = width;
    ctx.strokeRect(x, y, (g.cols[g.cols.length - 1] - g.cols[0] + 1) * cs, (g.rows[g.rows.length - 1] - g.rows[0] + 1) * cs);
    ctx.setLineDash([]);
  };
  if (prev) span(prev, "rgba(80,80,80,0.8)", [2, 3], 1.5);  // where it was: the stride's jump
  for (const r of f.rows) for (const c of f.cols) {  // the taps (gaps between them: dilation)
    const x = (c - E.c0) * cs, y = (r - E.r0) * cs;
    ctx.fillStyle = "rgba(0,200,220,0.28)"; ctx.fillRect(x, y, cs, cs);
    ctx.strokeStyle = "#00a5c0"; ctx.lineWidth = Math.max(1.5, cs / 10); ctx.strokeRect(x + 1, y + 1, cs - 2, cs - 2);
  }
  span(f, "#006d7d", [5, 3], 2);
}

function drawOutput(S, f) {
  const D = S.D, cs = S.ocs, ctx = setupCanvas(S.outCv, S.outW, S.outH);
  ctx.font = `${Math.max(8, Math.floor(cs * 0.34))}px sans-serif`;
  ctx.textAlign = "center"; ctx.textBaseline = "middle";
  for (let n = 0; n < D.oh * D.ow; n++) {
    const r = Math.floor(n / D.ow), c = n % D.ow, x = c * cs, y = r * cs;
    ctx.fillStyle = n <= f.n ? outColour(D.out[n], S.outP) : "#d8d8d8";  // grey: not computed yet
    ctx.fillRect(x, y, cs, cs);
    if (cs >= 22 && n <= f.n) {
      ctx.fillStyle = S.outP.signed || (D.out[n] - S.outP.lo) / (S.outP.hi - S.outP.lo || 1) > 0.55 ? "#222" : "#fff";
      ctx.fillText(fmt(D.out[n]), x + cs / 2, y + cs / 2 + 0.5);
    }
  }
  ctx.strokeStyle = "rgba(0,0,0,0.12)"; ctx.lineWidth = 1;
  if (cs >= 6) { for (let r = 0; r <= D.oh; r++) { ctx.beginPath(); ctx.moveTo(0, r * cs); ctx.lineTo(S.outW, r * cs); ctx.stroke(); }
    for (let c = 0; c <= D.ow; c++) { ctx.beginPath(); ctx.moveTo(c * cs, 0); ctx.lineTo(c * cs, S.outH); ctx.stroke(); } }
  ctx.strokeStyle = "#00a5c0"; ctx.lineWidth = Math.max(2, cs / 8);
  ctx.strokeRect(f.ocol * cs + 1, f.orow * cs + 1, cs - 2, cs - 2);
}

function grid(values, kw, cls, inside, padText) {
  const cells = values.map((v, i) => {
    const pad = inside && !inside[i];
    return `<span class="${pad ? "pad" : cls}">${pad ? padText : fmt(v)}</span>`;
  });
  return `<div class="ccwp-grid" style="grid-template-columns: repeat(${kw}, auto)">${cells.join("")}</div>`;
}

function drawMath(S, f) {
  const D = S.D, kw = D.k[1], names = S.names, parts = [];
  if (D.op === "conv") {
    f.chans.forEach((ch, c) => {
      const ker = D.kernel.slice(c * D.k[0] * kw, (c + 1) * D.k[0] * kw);
      parts.push(`<div class="ccwp-row">${names[c] ? `<b>${names[c]}</b>` : ""}${grid(ch.patch, kw, "", ch.inside, "0")}
        <span class="ccwp-op">\\u00d7</span>${grid(ker, kw, "ker")}<span class="ccwp-op">=</span>
        ${grid(ch.prod, kw, "prod")}<span class="ccwp-op">\\u2192 \\u03a3 =</span><span class="ccwp-sum">${fmt(ch.sum)}</span></div>`);
    });
    const sums = f.chans.map((ch) => fmt(ch.sum)).join(" + ");
    const bias = D.bias ? ` + ${fmt(D.bias)} (bias)` : "";
    const what = D.C > 1 ? `${names.join(" + ")}${D.bias ? " + bias" : ""}: ${sums}${bias} = ` :
      D.bias ? `output pixel = \\u03a3 + bias = ${sums}${bias} = ` : "output pixel = \\u03a3 = ";
    parts.push(`<div class="ccwp-big">${what}<b class="ccwp-out">${fmt(f.out)}</b></div>`);
  } else {
    const ch = f.chans[0];
    parts.push(`<div class="ccwp-row">${grid(ch.patch, kw, "", ch.inside, D.op === "max" ? "pad" : "0")}</div>`);
    const how = D.op === "max" ? "max of the cells on the image" : `${fmt(ch.sum)} / ${f.div} cells`;
    parts.push(`<div class="ccwp-big">${how} = <b class="ccwp-out">${fmt(f.out)}</b></div>`);
  }
  S.math.innerHTML = parts.join("");
}

function show(S, n) {
  const N = S.D.oh * S.D.ow;
  S.n = Math.max(0, Math.min(N - 1, n));
  const f = frameAt(S.D, S.n), prev = S.n > 0 ? frameAt(S.D, S.n - 1) : null;
  drawInput(S, f, prev); drawOutput(S, f); drawMath(S, f);
  S.scrub.value = String(S.n);
  S.label.textContent = `Output pixel (row ${f.orow}, column ${f.ocol}) \\u00b7 ${S.n + 1} of ${N}`;
  S.root.dataset.frame = String(S.n);
  S.root.dataset.out = String(f.out);
  remember(S);
}

function remember(S) {  // survives a remount of the element (Streamlit redraws it when the page above changes)
  window.ccwpSeen = window.ccwpSeen || {};
  window.ccwpSeen[S.id] = { n: S.n, speed: S.speed, playing: !!S.timer };
}

function pause(S) {
  if (S.timer) clearInterval(S.timer);
  S.timer = null; S.play.textContent = "\\u25b6 Play"; S.root.dataset.playing = "0";
  remember(S);
}

function play(S) {
  const N = S.D.oh * S.D.ow;
  if (S.n >= N - 1) show(S, 0);
  S.play.textContent = "\\u2016 Pause"; S.root.dataset.playing = "1";
  S.timer = setInterval(() => {
    if (!S.root.isConnected) { clearInterval(S.timer); return; }  // remounted: the new element goes on
    if (S.n >= N - 1) { pause(S); return; }
    show(S, S.n + 1);
  }, 1000 / S.speed);
  remember(S);
}

function build(root, D, meta) {
  if (root.ccwp) pause(root.ccwp);
  const E = extent(D), big = !!meta.big;
  const avail = Math.max(240, Math.min(root.clientWidth || 900, 1800));
  const cols = E.c1 - E.c0 + 1, rows = E.r1 - E.r0 + 1;
  const side = big ? 520 : 380;
  const cs = Math.max(3, Math.min(big ? 48 : 36, Math.floor(Math.min(side, avail * 0.4) / Math.max(cols, rows))));
  const ocs = Math.max(3, Math.min(big ? 48 : 36, Math.floor(Math.min(side * 0.8, avail * 0.3) / Math.max(D.oh, D.ow))));
  const names = D.C === 3 ? ["R", "G", "B"] : D.C > 1 ? Array.from({ length: D.C }, (_, c) => `ch ${c + 1}`) : [""];
  const [lo, hi] = range(D.out);
  const seen = (window.ccwpSeen || {})[meta.id];
  const intData = D.image.every(Number.isInteger);
  const S = {
    D, E, cs, ocs, names, n: 0, speed: (seen && seen.speed) || (root.ccwp && root.ccwp.speed) || meta.speed || 5,
    timer: null, root, id: meta.id, neutral: !!meta.neutral, intData, textAt: intData ? 14 : 34,
    inW: cols * cs, inH: rows * cs, outW: D.ow * ocs, outH: D.oh * ocs,
    inRange: meta.in_range || range(D.image), outP: { signed: lo < 0 && hi > 0, lo, hi, mag: Math.max(Math.abs(lo), Math.abs(hi)) },
  };
  const N = D.oh * D.ow;
  root.classList.toggle("ccwp-big", big);
  root.innerHTML = `<div class="ccwp-bar">
      <button class="ccwp-back" title="Step back">\\u25c0</button>
      <button class="ccwp-play" title="Play / pause">\\u25b6 Play</button>
      <button class="ccwp-next" title="Step forward">\\u25b6</button>
      <label>Speed <select class="ccwp-speed">${SPEEDS.map((v) => `<option value="${v}">${v} / s</option>`).join("")}</select></label>
      <input class="ccwp-scrub" type="range" min="0" max="${N - 1}" step="1" value="0" aria-label="Output pixel">
      <span class="ccwp-label"></span></div>
    <div class="ccwp-body">
      <div class="ccwp-fig"><canvas class="ccwp-in"></canvas><div class="ccwp-cap ccwp-incap"></div></div>
      <div class="ccwp-fig"><canvas class="ccwp-outcv"></canvas><div class="ccwp-cap">${meta.out_label || "Output"}: ${D.oh} \\u00d7 ${D.ow}, filled in as the window moves</div></div>
      <div class="ccwp-math"></div></div>`;
  const q = (c) => root.querySelector(c);
  Object.assign(S, { inCv: q(".ccwp-in"), outCv: q(".ccwp-outcv"), math: q(".ccwp-math"), scrub: q(".ccwp-scrub"),
    label: q(".ccwp-label"), play: q(".ccwp-play") });
  const notes = [];
  if (D.p.some((p) => p > 0)) notes.push(`orange: the padding (${D.op === "max" ? "never the max" : "zeros"})`);
  if (D.s[0] > 1 || D.s[1] > 1) notes.push(`stride ${D.s[0] === D.s[1] ? D.s[0] : D.s.join("\\u00d7")}: the window jumps (dotted: its last position)`);
  if (D.d[0] > 1 || D.d[1] > 1) notes.push(`dilation ${D.d[0] === D.d[1] ? D.d[0] : D.d.join("\\u00d7")}: gaps between the taps`);
  q(".ccwp-incap").textContent = `${meta.in_label || "Input"}: ${D.H} \\u00d7 ${D.W}. Cyan: the cells the window reads` +
    (notes.length ? "; " + notes.join("; ") : "") + ".";
  const sel = q(".ccwp-speed"); sel.value = String(S.speed);
  sel.addEventListener("change", () => { S.speed = Number(sel.value); if (S.timer) { pause(S); play(S); } });
  S.play.addEventListener("click", () => (S.timer ? pause(S) : play(S)));
  q(".ccwp-back").addEventListener("click", () => { pause(S); show(S, S.n - 1); });
  q(".ccwp-next").addEventListener("click", () => { pause(S); show(S, S.n + 1); });
  S.scrub.addEventListener("input", () => { pause(S); show(S, Number(S.scrub.value)); });
  root.ccwp = S;
  pause(S);
  show(S, Math.min(seen ? seen.n : meta.start || 0, N - 1));
  if (seen && seen.playing) play(S);
}

export default function (component) {
  const { data, parentElement } = component;
  if (!data || !data.frames) return;
  let root = parentElement.querySelector(":scope > div.ccwp");
  if (!root) {
    root = document.createElement("div");
    root.className = "ccwp";
    parentElement.appendChild(root);
  }
  if (root.dataset.id === data.id) return;  // the same frames again (any rerun): keep playing
  root.dataset.id = data.id;
  build(root, JSON.parse(data.frames), data);
}
""".replace("__SPEEDS__", str(list(SPEEDS)))


@lru_cache(maxsize=1)
def _player():
    return st.components.v2.component("cc_window_player", js=_JS, css=_CSS, isolate_styles=False)


def frames_id(payload: str) -> str:
    """A short fingerprint of the frames: the browser rebuilds the player only when it changes."""
    return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()


def window_player(
    payload: str,
    key: str,
    *,
    in_label: str = "Input",
    out_label: str = "Output",
    in_range: tuple[float, float] | None = None,
    big: bool = False,
    neutral: bool = False,
    start: int = 0,
    frames_key: str | None = None,
) -> None:
    """Draw the player for `payload` (`cnnlib.kernels.payload_json`'s text). in_range: the input's
    grey scale (min, max; default the input's own); big: the projector's sizes; neutral: draw the input's
    cells plain (made-up numbers, not a picture: the numbers themselves show); start: the frame shown
    first (until the student moves it; a rerun with the same frames keeps their position). frames_key: a
    fingerprint already known (else one is made from the text)."""
    data: dict = {
        "frames": payload,
        "id": (frames_key or frames_id(payload)) + f"-{in_label}-{out_label}-{int(big)}",
        "in_label": in_label,
        "out_label": out_label,
        "speed": DEFAULT_SPEED,
        "big": big,
        "neutral": neutral,
        "start": int(start),
    }
    if in_range is not None:
        data["in_range"] = [float(in_range[0]), float(in_range[1])]
    _player()(key=key, data=data)
