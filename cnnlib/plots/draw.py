"""Figures and images for the Draw & predict page (pure functions; no streamlit).

Every figure here is rebuilt on each stroke, so each is a plain {"data", "layout"} dict (plotly's
validating constructors cost 3-10 ms per figure; the tests validate these dicts with go.Figure).
Heat-map values are rounded to 3 decimals (float32): the colours and hover labels show no more.

- `probability_figure`: class probabilities as a bar chart, the top class highlighted.
- `mosaic` / `feature_grid_figure`: one conv layer's channels, strongest first, as a tiled heat map.
- `cam_figure`: Grad-CAM heat map next to the same map laid over the 28x28 input.

Colours from cnnlib.plots.palette: activations and Grad-CAM on MAGNITUDE (a layer without a ReLU
that goes negative on SIGNED, centred on 0), the input in grey.
- `enlarge`: a small grey image blown up with crisp pixels for `st.image`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from cnnlib.plots.palette import image_range, magnitude_range, value_range

__all__ = ["probability_figure", "feature_grid_figure", "cam_figure", "enlarge", "framed"]


TOP_COLOUR = "#1F5FBF"  # the theme's primary colour
OTHER_COLOUR = "#B8C2D1"
FONT = {"size": 16}


def heat_values(z: np.ndarray) -> np.ndarray:
    """A heat map's values as sent to the browser: float32, 3 decimals, C order (NaN stays a gap)."""
    return np.ascontiguousarray(np.round(np.asarray(z, dtype=np.float32), 3))


def probability_figure(probs: np.ndarray, classes: Sequence[str], height: int = 300) -> dict:
    """Bars of the class probabilities (in %), the top class in the primary colour and labelled."""
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if len(p) != len(classes):
        raise ValueError(f"{len(p)} probabilities for {len(classes)} classes")
    top = int(p.argmax())
    pct = [float(v) for v in 100 * p]
    bar = {
        "type": "bar",
        "x": [str(c) for c in classes],
        "y": pct,
        "marker": {"color": [TOP_COLOUR if i == top else OTHER_COLOUR for i in range(len(p))]},
        "text": [
            (f"<b>{v:.0f}%</b>" if i == top else f"{v:.0f}%") if v >= 0.5 else "" for i, v in enumerate(pct)
        ],
        "textposition": "outside",
        "textfont": {"size": 15, "color": [TOP_COLOUR if i == top else "#4B5563" for i in range(len(p))]},
        "constraintext": "none",  # the default shrinks a label to its bar's width: tiny on the top bar
        "cliponaxis": False,
        "hovertemplate": "class %{x}: %{y:.2f}%<extra></extra>",
    }
    layout = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "font": FONT,
        "yaxis": {"range": [0, 112], "title": {"text": "probability (%)"}, "ticksuffix": "", "dtick": 25},
        "xaxis": {"type": "category", "tickfont": {"size": 18 if len(p) <= 12 else 12}},
        "plot_bgcolor": "white",
        "showlegend": False,
    }
    return {"data": [bar], "layout": layout}


def mosaic(fmap: np.ndarray, order: Sequence[int] | np.ndarray, cols: int = 4, pad: int = 1) -> np.ndarray:
    """Tile the channels `order` of a [C, H, W] map row by row; gaps (and empty tiles) are NaN.

    Returns [rows * (H + pad) - pad, cols * (W + pad) - pad].
    """
    fmap = np.asarray(fmap, dtype=np.float32)
    _, h, w = fmap.shape
    n = len(order)
    cols = max(1, min(cols, n))
    rows = max(1, -(-n // cols))
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan, dtype=np.float32)
    for k, ch in enumerate(order):
        r, c = divmod(k, cols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = fmap[ch]
    return out


def feature_grid_figure(
    fmap: np.ndarray,
    order: Sequence[int] | np.ndarray,
    cols: int = 4,
    title: str = "",
    height: int | None = None,
) -> dict:
    """One layer's channels (in `order`, strongest first) as a tiled heat map, each tile labelled."""
    fmap = np.asarray(fmap, dtype=np.float32)
    _, h, w = fmap.shape
    pad = max(1, h // 10)
    grid = mosaic(fmap, order, cols=cols, pad=pad)
    n = len(order)
    cols = max(1, min(cols, n))
    rows = max(1, -(-n // cols))
    labels = [
        {
            "x": (k % cols) * (w + pad) - 0.5,
            "y": (k // cols) * (h + pad) - 0.5,
            "text": f"{ch}",
            "showarrow": False,
            "xanchor": "left",
            "yanchor": "top",
            "font": {"size": 11, "color": "white"},
            "bgcolor": "rgba(0,0,0,0.55)",
            "borderpad": 1,
        }
        for k, ch in enumerate(order)
    ]
    heat = {
        "type": "heatmap",
        "z": heat_values(grid),
        **value_range(grid),
        "showscale": False,
        "hovertemplate": "activation %{z:.2f}<extra></extra>",
    }
    layout = {
        "annotations": labels,
        "xaxis": {"visible": False, "range": [-0.5, grid.shape[1] - 0.5], "constrain": "domain"},
        "yaxis": {
            "visible": False,
            "autorange": "reversed",
            "scaleanchor": "x",
            "scaleratio": 1,
            "constrain": "domain",
        },
        "height": height or int(60 + 230 * rows / cols),
        "margin": {"l": 0, "r": 0, "t": 30 if title else 0, "b": 0},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
    }
    if title:
        layout["title"] = {"text": title, "font": {"size": 15}, "x": 0, "xanchor": "left"}
    return {"data": [heat], "layout": layout}


def cam_figure(image: np.ndarray, cam: np.ndarray, alpha: float = 0.55, height: int = 300) -> dict:
    """Grad-CAM: the heat map alone (left) and laid over the grey input (right). Both [H, W] in [0, 1]."""
    image = np.asarray(image, dtype=np.float32)
    cam = np.asarray(cam, dtype=np.float32)
    if image.shape != cam.shape:
        raise ValueError(f"image {image.shape} and heat map {cam.shape} differ in size")
    heat = {
        "type": "heatmap",
        **magnitude_range(top=1.0),
        "hovertemplate": "importance %{z:.2f}<extra></extra>",
    }
    z_cam = heat_values(cam)
    data = [
        {**heat, "z": z_cam, "showscale": False, "xaxis": "x", "yaxis": "y"},
        {
            "type": "heatmap",
            "z": heat_values(image),
            **image_range(1.0),
            "showscale": False,
            "hoverinfo": "skip",
            "xaxis": "x2",
            "yaxis": "y2",
        },
        {
            **heat,
            "z": z_cam,
            "opacity": alpha,
            "colorbar": {"title": {"text": "importance", "side": "right"}, "thickness": 14, "len": 0.9},
            "xaxis": "x2",
            "yaxis": "y2",
        },
    ]
    # Two side-by-side panels (what make_subplots(1, 2) lays out, without its cost).
    gap = 0.06
    half = (1 - gap) / 2
    axis = {"visible": False, "constrain": "domain"}
    layout = {
        "xaxis": {**axis, "domain": [0, half], "anchor": "y"},
        "yaxis": {**axis, "domain": [0, 1], "anchor": "x", "autorange": "reversed", "scaleanchor": "x"},
        "xaxis2": {**axis, "domain": [half + gap, 1], "anchor": "y2"},
        "yaxis2": {**axis, "domain": [0, 1], "anchor": "x2", "autorange": "reversed", "scaleanchor": "x2"},
        "annotations": [
            {
                "text": text,
                "x": (lo + hi) / 2,
                "y": 1,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 15},
            }
            for text, (lo, hi) in (
                ("Heat map", (0, half)),
                ("Over the input", (half + gap, 1)),
            )  # short: a narrow column
        ],
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 36, "b": 0},
        "font": FONT,
        "plot_bgcolor": "white",
    }
    return {"data": data, "layout": layout}


def enlarge(image: np.ndarray, size: int = 112, smooth: bool | None = None) -> np.ndarray:
    """A grey image in [0, 1] resized to fit `size` px (longer side) as uint8, crisp pixels when enlarging."""
    img = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    h, w = img.shape
    scale = size / max(h, w)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    if smooth is None:
        smooth = scale < 1
    resample = Image.Resampling.LANCZOS if smooth else Image.Resampling.NEAREST
    out = Image.fromarray((img * 255).round().astype(np.uint8), mode="L").resize(new, resample)
    return np.asarray(out)


def framed(image: np.ndarray, size: int = 150, units: int | None = None, pad: float = 0.3) -> np.ndarray:
    """A grey image in [0, 1] centred on a size x size grey card (uint8), so every step shows equally big.

    `units=None` fits the image's longer side to the card; `units=28` draws it at the scale of a
    28-pixel-wide card, so a 16x20 image sits inside its 28x28 frame at its true relative size.
    """
    img = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    h, w = img.shape
    longest = max(h, w) if units is None else max(units, h, w)
    scale = size / longest
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    # Shrinking: an area average (BOX), a quarter of LANCZOS's cost on every stroke, and as clean on
    # white ink; enlarging: crisp pixels.
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.NEAREST
    small = Image.fromarray((img * 255).round().astype(np.uint8), mode="L").resize((new_w, new_h), resample)
    card = np.full((size, size), round(pad * 255), dtype=np.uint8)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    card[top : top + new_h, left : left + new_w] = np.asarray(small)
    return card
