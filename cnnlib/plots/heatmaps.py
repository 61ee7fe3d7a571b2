"""Heat maps the browser draws on a <canvas> (the page's own element, no plotly.js): their payload.

A panel is one heat map as plain JSON-able numbers: its values (float32, for the hover readout),
their colours (RGB bytes, made here with `cnnlib.plots.palette` and `pictures.colourize`, so the
browser only copies pixels), the row and column numbers of its first cell (negative in the zero
padding), and what is drawn over it: the padding's band and the image's edge, the kernel's patch
(cyan), the output pixel (yellow), a colour bar with its ticks. The element that draws panels is
`pages/ui/heatmaps.py`; `decode_panel` reads a panel back into numpy (the tests check it against torch).

    image_panel(image, title, padding, patch)     the input [H, W] in grey, its zero padding drawn
    map_panel(values, title, pixel, signed)       a feature map [H', W'] on SIGNED or MAGNITUDE
    panels_json(panels)                           the panels as one JSON text (sent once, shared)
    decode_panel(panel, "z" | "rgb")              a panel's values [H, W] or colours [H, W, 3] back
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

import numpy as np

from cnnlib.plots.palette import image_range, is_signed, magnitude_range, signed_range
from cnnlib.plots.pictures import colourize

__all__ = ["image_panel", "map_panel", "panels_json", "decode_panel"]

PAD_TINT = ((255, 127, 14), 0.35)  # orange over the zero padding, as the figures drew it
BAR_STEPS = 64  # the colour bar's shades, top (the largest value) to bottom


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def _fmt(v: float) -> str:
    """A tick's label: 3 significant digits, no "-0"."""
    text = f"{float(v) + 0.0:.3g}"
    return "0" if text in ("-0", "0") else text.replace("-", "\u2212")


def _ticks(lo: float, hi: float, signed: bool) -> list[list]:
    """The colour bar's ticks: its ends, and 0 between them for a signed scale."""
    values = [hi, 0.0, lo] if signed else [hi, lo]
    return [[float(v), _fmt(v)] for v in values]


def _bar(scale: dict, signed: bool) -> dict:
    lo, hi = float(scale["zmin"]), float(scale["zmax"])
    shades = np.linspace(hi, lo, BAR_STEPS)[None]  # [1, BAR_STEPS] top to bottom
    rgb = colourize(shades, scale["colorscale"], lo, hi)[0]  # [BAR_STEPS, 3]
    return {"rgb": _b64(rgb), "n": BAR_STEPS, "lo": lo, "hi": hi, "ticks": _ticks(lo, hi, signed)}


def _panel(values: np.ndarray, rgb: np.ndarray, title: str, origin: tuple[int, int]) -> dict:
    z = np.asarray(values, dtype="<f4")  # [H, W] float32, little-endian (what the browser reads)
    h, w = z.shape
    return {
        "title": title,
        "h": int(h),
        "w": int(w),
        "r0": int(origin[0]),
        "c0": int(origin[1]),
        "z": _b64(z),
        "rgb": _b64(np.asarray(rgb, dtype=np.uint8)),  # [H, W, 3]
    }


def image_panel(
    image: np.ndarray,
    title: str = "Input",
    padding: tuple[int, int, int, int] = (0, 0, 0, 0),
    patch: tuple[Sequence[int] | np.ndarray, Sequence[int] | np.ndarray] | None = None,
) -> dict:
    """The input [H, W] (0 black to 1 white) with its zero padding (top, bottom, left, right) around it,
    tinted orange, and the patch's cells (rows, cols) outlined in cyan."""
    img = np.asarray(image, dtype=np.float64)  # [H, W]
    top, bottom, left, right = (int(p) for p in padding)
    padded = np.pad(img, ((top, bottom), (left, right)))  # [H + top + bottom, W + left + right]
    scale = image_range(1.0)
    rgb = colourize(padded, scale["colorscale"], scale["zmin"], scale["zmax"]).astype(np.float64)
    pad = np.ones(padded.shape, dtype=bool)  # [Hp, Wp] True in the padding
    pad[top : top + img.shape[0], left : left + img.shape[1]] = False
    tint, alpha = PAD_TINT
    rgb[pad] = rgb[pad] * (1 - alpha) + np.array(tint) * alpha
    panel = _panel(padded, np.round(rgb), title, (-top, -left))
    if any(padding):
        panel["image"] = [0, 0, int(img.shape[0]), int(img.shape[1])]  # rows/cols the image spans
    if patch is not None:
        panel["patch"] = {"rows": [int(r) for r in patch[0]], "cols": [int(c) for c in patch[1]]}
    return panel


def map_panel(
    values: np.ndarray,
    title: str = "Feature map",
    pixel: tuple[int, int] | None = None,
    signed: bool | None = None,
    clickable: bool = False,
) -> dict:
    """A feature map [H', W'] with its colour bar: SIGNED centred on 0 when it has negative values (or
    `signed`), else MAGNITUDE from 0; `pixel` (row, col) outlined in yellow; `clickable`: a click on a
    cell reports (row, col) to the page."""
    z = np.asarray(values, dtype=np.float64)  # [H', W']
    signed = is_signed(z) if signed is None else bool(signed)
    scale = signed_range(z) if signed else magnitude_range(z)
    rgb = colourize(z, scale["colorscale"], scale["zmin"], scale["zmax"])  # [H', W', 3]
    panel = _panel(z, rgb, title, (0, 0))
    panel["bar"] = _bar(scale, signed)
    if pixel is not None:
        panel["pixel"] = [int(pixel[0]), int(pixel[1])]
    if clickable:
        panel["click"] = True
    return panel


def panels_json(panels: Sequence[dict]) -> str:
    """The panels as one JSON text, made once and sent as it is to every student who sees them."""
    return json.dumps(list(panels), separators=(",", ":"))


def decode_panel(panel: dict, field: str = "z") -> np.ndarray:
    """A panel's values ("z": [H, W] float32) or colours ("rgb": [H, W, 3] uint8), as the browser reads
    them; the colour bar's shades with field "bar" ([n, 3] uint8)."""
    if field == "bar":
        return np.frombuffer(base64.b64decode(panel["bar"]["rgb"]), dtype=np.uint8).reshape(-1, 3)
    h, w = panel["h"], panel["w"]
    if field == "z":
        return np.frombuffer(base64.b64decode(panel["z"]), dtype="<f4").reshape(h, w)
    return np.frombuffer(base64.b64decode(panel["rgb"]), dtype=np.uint8).reshape(h, w, 3)
