"""Plotly figures for the Training page after a run: confusion matrix, per-class metrics, filters, maps.

Pure functions from numbers to `go.Figure` (built once per finished run); no Streamlit. Sized for a
projector: large fonts, square pixels, every image upscaled without smoothing. Colours from
cnnlib.plots.palette: a confusion row's shares and activations on MAGNITUDE, filters on SIGNED
centred on 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnlib.plots.palette import magnitude_range, signed_range, value_range
from cnnlib.plots.training import FONT

__all__ = ["confusion_figure", "per_class_figure", "filters_figure", "feature_maps_figure", "gallery_figure"]


def _style(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(
        height=height,
        font=FONT,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 60 if title else 40, "b": 50},
        title={"text": title} if title else None,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.08, "x": 0, "font": {"size": 14}},
        hoverlabel={"font_size": 15},
    )
    return fig


def confusion_figure(confusion: np.ndarray, classes: Sequence[str], height: int | None = None) -> go.Figure:
    """Heatmap of counts: rows = true class, columns = predicted; the diagonal is right."""
    cm = np.asarray(confusion)
    k = len(classes)
    labels = [str(c) for c in classes]
    row_sums = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, row_sums, out=np.zeros(cm.shape, dtype=float), where=row_sums > 0)
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=labels,
            y=labels,
            text=cm,
            texttemplate="%{text}",
            textfont={"size": 16 if k <= 10 else 11},
            **magnitude_range(top=1.0),
            showscale=False,
            customdata=cm,
            hoverinfo="skip",
            xgap=2,
            ygap=2,
        )
    )
    # Heatmaps cannot be selected by a click (Plotly has no selectedpoints for them): an invisible
    # square marker on every cell makes each cell clickable (Streamlit's on_select) and hoverable.
    h = height or int(min(640, 160 + 46 * k))
    cell = max(6, int((h - 110) / max(1, k) * 0.85))
    xs = [labels[p] for t in range(k) for p in range(k)]
    ys = [labels[t] for t in range(k) for p in range(k)]
    counts = [int(cm[t, p]) for t in range(k) for p in range(k)]
    shares = [float(share[t, p]) for t in range(k) for p in range(k)]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers",
            marker={"symbol": "square", "size": cell, "color": "rgba(0,0,0,0)"},
            selected={"marker": {"color": "rgba(255,140,0,0.35)"}},
            unselected={"marker": {"opacity": 1}},
            customdata=np.stack([counts, shares], axis=1),
            hovertemplate="true %{y}, predicted %{x}: %{customdata[0]} (%{customdata[1]:.1%} of the row)"
            "<extra></extra>",
            showlegend=False,
            name="cells",
        )
    )
    _style(fig, h)
    # Fixed ranges: the markers' size must not pad the axes (autorange would squeeze the cells).
    fig.update_xaxes(title_text="predicted class", side="bottom", type="category", range=[-0.5, k - 0.5])
    fig.update_yaxes(title_text="true class", type="category", range=[k - 0.5, -0.5])
    return fig


def per_class_figure(
    precision: Sequence[float] | np.ndarray,
    recall: Sequence[float] | np.ndarray,
    f1: Sequence[float] | np.ndarray,
    classes: Sequence[str],
    height: int = 360,
) -> go.Figure:
    """Dot plot: precision, recall and F1 of every class.

    The y axis starts just below the lowest value (not at 0) so that differences of a few percent
    between classes are visible; the axis title says where it starts.
    """
    labels = [str(c) for c in classes]
    fig = go.Figure()
    offsets = {"precision": -0.2, "recall": 0.0, "F1": 0.2}
    for name, values, color, symbol in (
        ("precision", precision, "#1f77b4", "circle"),
        ("recall", recall, "#ff7f0e", "diamond"),
        ("F1", f1, "#2ca02c", "square"),
    ):
        fig.add_trace(
            go.Scatter(
                x=[i + offsets[name] for i in range(len(labels))],
                y=list(values),
                name=name,
                mode="markers",
                marker={"color": color, "size": 13, "symbol": symbol},
                customdata=labels,
                hovertemplate="class %{customdata}: %{y:.1%}<extra>" + name + "</extra>",
            )
        )
    lowest = float(min([*precision, *recall, *f1], default=0.0))
    bottom = max(0.0, math.floor((lowest - 0.03) * 20) / 20)  # a multiple of 5% below the lowest dot
    _style(fig, height)
    fig.update_yaxes(
        range=[bottom, 1.01],
        tickformat=".0%",
        title_text="" if bottom == 0 else f"axis starts at {bottom:.0%}",
    )
    fig.update_xaxes(
        tickvals=list(range(len(labels))),
        ticktext=labels,
        title_text="class",
        range=[-0.6, len(labels) - 0.4],
    )
    return fig


def _upscale(img: np.ndarray, target: int) -> np.ndarray:
    """Nearest-neighbour upscale [H, W, ...] so the longer side is about `target` px (crisp pixels)."""
    f = max(1, int(round(target / max(img.shape[0], img.shape[1]))))
    return np.repeat(np.repeat(img, f, axis=0), f, axis=1)


def _square_pixels(fig: go.Figure) -> None:
    """Each subplot's y axis anchored to its own x axis: heatmap pixels stay square."""
    for name in list(fig.layout):
        if name.startswith("yaxis"):
            fig.layout[name].scaleanchor = "x" + name[5:]
            fig.layout[name].constrain = "domain"
    for name in list(fig.layout):
        if name.startswith("xaxis"):
            fig.layout[name].constrain = "domain"


def filters_figure(weights: np.ndarray, max_filters: int = 32, cols: int = 8) -> go.Figure:
    """The first conv layer's kernels [O, I, kh, kw] as a grid: RGB for 3 input channels, else red/blue.

    Each filter is scaled to its own range (red/bright positive, blue/dark negative).
    """
    w = np.asarray(weights, dtype=np.float64)[:max_filters]  # [O, I, kh, kw]
    o, i, kh, kw = w.shape
    cols = min(cols, o)
    rows = int(np.ceil(o / cols))
    titles = [f"#{j}" for j in range(o)]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.02,
        vertical_spacing=0.08 if rows > 1 else 0.02,
    )
    for j in range(o):
        r, c = j // cols + 1, j % cols + 1
        if i == 3:
            rgb = np.transpose(w[j], (1, 2, 0))  # [kh, kw, 3]
            lo, hi = rgb.min(), rgb.max()
            rgb = (rgb - lo) / (hi - lo) * 255 if hi > lo else np.full_like(rgb, 127.0)
            fig.add_trace(go.Image(z=_upscale(rgb.astype(np.uint8), 48), hoverinfo="skip"), r, c)
        else:
            k = w[j].mean(axis=0)  # [kh, kw]
            fig.add_trace(
                go.Heatmap(
                    z=k,
                    **signed_range(k),
                    showscale=False,
                    hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra>#" + str(j) + "</extra>",
                ),
                r,
                c,
            )
    _style(fig, 70 + rows * 130)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    if i != 3:
        _square_pixels(fig)
    fig.update_annotations(font_size=14)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def feature_maps_figure(maps: Sequence[tuple[str, np.ndarray]], max_channels: int = 8) -> go.Figure:
    """One row per conv block: its first `max_channels` channels [C, H, W] as grey heatmaps."""
    rows = max(1, len(maps))
    cols = max([min(max_channels, m.shape[0]) for _, m in maps] + [1])
    fig = make_subplots(
        rows=rows,
        cols=cols,
        horizontal_spacing=0.015,
        vertical_spacing=min(0.12, 0.3 / rows) if rows > 1 else 0.02,
        subplot_titles=[
            f"{name} (showing {min(max_channels, m.shape[0])} of {m.shape[0]} channels,"
            f" {m.shape[1]}×{m.shape[2]})"
            if c == 0
            else ""
            for name, m in maps
            for c in range(cols)
        ],
    )
    for r, (_name, m) in enumerate(maps, start=1):
        for c in range(min(max_channels, m.shape[0])):
            fig.add_trace(
                go.Heatmap(
                    z=m[c],
                    **value_range(m[c]),
                    showscale=False,
                    hovertemplate="channel " + str(c) + ": %{z:.2f}<extra></extra>",
                ),
                r,
                c + 1,
            )
    _style(fig, 60 + rows * 170)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    _square_pixels(fig)
    fig.update_annotations(font_size=14, xanchor="left", x=0)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def gallery_figure(
    images: np.ndarray | Sequence[np.ndarray],
    titles: Sequence[str],
    colors: Sequence[str] | None = None,
    cols: int = 8,
    size: int = 84,
) -> go.Figure:
    """uint8 images [N, C, H, W] (C = 1 or 3) in a grid, each with a (coloured) title."""
    imgs = np.asarray(images)
    n = len(imgs)
    cols = max(1, cols)  # a fixed grid: a few images keep the size and place they have among many
    rows = max(1, int(np.ceil(n / cols)))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=list(titles) or None,
        horizontal_spacing=0.01,
        vertical_spacing=0.12 / max(1, rows - 1) if rows > 1 else 0.0,
    )
    for j in range(n):
        img = np.transpose(imgs[j], (1, 2, 0))  # [H, W, C]
        if img.shape[2] == 1:
            img = np.repeat(img, 3, axis=2)
        fig.add_trace(
            go.Image(z=_upscale(img.astype(np.uint8), size), hoverinfo="skip"), j // cols + 1, j % cols + 1
        )
    _style(fig, 30 + rows * (size + 70))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_annotations(font_size=15)
    if colors:
        for ann, color in zip(fig.layout.annotations, colors, strict=False):
            ann.font.color = color
    fig.update_layout(margin={"l": 5, "r": 5, "t": 50, "b": 5})
    return fig
