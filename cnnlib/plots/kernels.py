"""Plotly figures for the kernels page: images and feature maps as heatmaps, small annotated grids.

Pure functions returning `go.Figure`. Heatmaps are drawn like images (row 0 at the top, square
pixels). Colours from cnnlib.plots.palette: the input and its patches in grey (IMAGE), signed
values (kernels, products, signed feature maps) on SIGNED centred on zero, feature maps that are
never negative (after ReLU, or a blur) on MAGNITUDE.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cnnlib.kernels import format_weight
from cnnlib.plots.palette import categories, image_range, is_signed, magnitude_range, signed_range

__all__ = ["image_figure", "map_figure", "step_figure"]


PATCH_COLOUR = "#00e5ff"  # cyan: readable on gray and on red-blue
PIXEL_COLOUR = "#ffd400"  # yellow: the output pixel being explained
PAD_EDGE = "#ff7f0e"  # orange: the real image's edge inside its zero padding
PAD_TINT = "rgba(255, 127, 14, 0.35)"  # the zero padding, tinted so it differs from black pixels
PAD_CELL = "#ffe0b2"  # a "pad" cell in the step-through grids
FONT_SIZE = 16
TICK_SIZE = 14  # axis numbers, readable from the back of a classroom
TITLE_COLOUR = "#111827"  # the app's text colour (.streamlit/config.toml)
TITLE_ROOM = 76  # px above the plot: the title, then the column numbers under it
CELL_OUTLINE_MAX = 64  # outline each patch cell only on images this small (else one box)
# Maps up to this many pixels get a clickable layer (it doubles the data sent; SVG markers, as the
# app's plotly.js bundle has no WebGL traces). The app's own Plotly element reports clicks on the
# heatmap's cells without it (pages.ui.live_plotly), so only st.plotly_chart's selections need it.
CLICK_MAX_PIXELS = 64 * 64


def can_click(shape: tuple[int, int]) -> bool:
    """Whether map_figure(clickable=True) adds its clickable layer for a map of this shape."""
    return int(shape[0]) * int(shape[1]) <= CLICK_MAX_PIXELS


def _layout(
    title: str,
    height: int,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    shapes: list[dict] | None = None,
    ticklabels: bool = True,
) -> dict:
    """Title, size and image-like axes: row 0 at the top, square pixels, exactly the given cells.

    A plain dict for the go.Figure constructor: the figure is validated once, not once per update.
    """
    axis = {"showgrid": False, "zeroline": False, "ticks": "", "tickfont": {"size": TICK_SIZE}}
    xaxis = {"range": list(x_range), "constrain": "domain", "side": "top", **axis}
    yaxis = {
        "range": [y_range[1], y_range[0]],
        "scaleanchor": "x",
        "scaleratio": 1,
        "constrain": "domain",
        **axis,
    }
    if not ticklabels:
        xaxis["showticklabels"] = yaxis["showticklabels"] = False
    # The title sits at the very top; the column numbers (x axis on top, as in an image) below it.
    title_font = {"size": FONT_SIZE + 2}
    layout = {
        "title": {
            "text": title,
            "font": title_font,
            "x": 0.0,
            "xanchor": "left",
            "y": 1.0,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 8},
        },
        "height": height,
        "margin": {"l": 10, "r": 10, "t": TITLE_ROOM if ticklabels else 44, "b": 10},
        "font": {"size": FONT_SIZE - 2},
        "plot_bgcolor": "rgba(0,0,0,0)",
        "xaxis": xaxis,
        "yaxis": yaxis,
    }
    if shapes:
        layout["shapes"] = shapes
    return layout


def _scale(values: np.ndarray, signed: bool | None, image: bool = False) -> dict:
    """Heatmap colour arguments: SIGNED centred on 0 for signed values; else grey from 0 to at
    least 1 for image values (a patch), MAGNITUDE from 0 for a feature map."""
    signed = is_signed(values) if signed is None else signed
    if signed:
        return signed_range(values)
    top = float(np.nanmax(values)) if np.size(values) else 1.0
    return image_range(max(1.0, top)) if image else magnitude_range(top=top)


def _rect(
    x0: float, y0: float, x1: float, y1: float, colour: str, width: int = 3, dash: str = "solid"
) -> dict:
    return {
        "type": "rect",
        "xref": "x",
        "yref": "y",
        "x0": x0,
        "y0": y0,
        "x1": x1,
        "y1": y1,
        "line": {"color": colour, "width": width, "dash": dash},
    }


def _padding_bands(h: int, w: int, padding: tuple[int, int, int, int]) -> list[dict]:
    """Tinted rectangles over the zero padding around an h x w image (top, bottom, left, right)."""
    top, bottom, left, right = padding
    x_lo, x_hi = -left - 0.5, w + right - 0.5
    bands = [
        (x_lo, -top - 0.5, x_hi, -0.5, top),
        (x_lo, h - 0.5, x_hi, h + bottom - 0.5, bottom),
        (x_lo, -0.5, -0.5, h - 0.5, left),
        (w - 0.5, -0.5, x_hi, h - 0.5, right),
    ]
    return [
        {"type": "rect", "xref": "x", "yref": "y", "x0": x0, "y0": y0, "x1": x1, "y1": y1,
         "fillcolor": PAD_TINT, "line": {"width": 0}}
        for x0, y0, x1, y1, n in bands
        if n > 0
    ]  # fmt: skip


def image_figure(
    image: np.ndarray,
    title: str = "Input",
    padding: tuple[int, int, int, int] = (0, 0, 0, 0),
    patch: tuple[Sequence[int], Sequence[int]] | None = None,
    height: int = 430,
) -> go.Figure:
    """The input [H, W] in gray with its zero padding drawn around it (axes in image coordinates).

    padding: (top, bottom, left, right); patch: (rows, cols) the kernel touches, outlined in cyan.
    """
    img = np.asarray(image, dtype=np.float32)
    top, bottom, left, right = padding
    padded = np.pad(img, ((top, bottom), (left, right)))  # [H + top + bottom, W + left + right]
    h, w = img.shape
    heatmap = {
        "type": "heatmap",
        "z": padded,
        "x": np.arange(-left, w + right),
        "y": np.arange(-top, h + bottom),
        **image_range(1.0),
        "showscale": False,
        "hovertemplate": "row %{y}, col %{x}<br>value %{z:.3f}<extra></extra>",
    }
    shapes = []
    if any(padding):
        shapes += _padding_bands(h, w, padding)
        shapes.append(_rect(-0.5, -0.5, w - 0.5, h - 0.5, PAD_EDGE, 2, "dash"))  # the real image's edge
    if patch is not None:
        rows, cols = np.asarray(patch[0]), np.asarray(patch[1])
        shapes.append(
            _rect(cols.min() - 0.5, rows.min() - 0.5, cols.max() + 0.5, rows.max() + 0.5, PATCH_COLOUR)
        )
        if max(h, w) <= CELL_OUTLINE_MAX and (len(rows) * len(cols) > 1):
            shapes += [_rect(c - 0.5, r - 0.5, c + 0.5, r + 0.5, PATCH_COLOUR, 1) for r in rows for c in cols]
    layout = _layout(title, height, (-left - 0.5, w + right - 0.5), (-top - 0.5, h + bottom - 0.5), shapes)
    return go.Figure(data=[heatmap], layout=layout)


def map_figure(
    values: np.ndarray,
    title: str = "Feature map",
    pixel: tuple[int, int] | None = None,
    signed: bool | None = None,
    height: int = 430,
    clickable: bool = False,
) -> go.Figure:
    """A feature map [H', W'] with a colour bar; `pixel` (row, col) is outlined in yellow.

    clickable: add an invisible marker on every pixel (Plotly reports clicks on markers, not on
    heatmap cells), so a click selects the point at (x = column, y = row).
    """
    z = np.asarray(values, dtype=np.float32)
    h, w = z.shape
    click = clickable and can_click(z.shape)
    hover = "row %{y}, col %{x}<br>value %{z:.3f}<extra></extra>"
    heatmap = {
        "type": "heatmap",
        "z": z,
        **_scale(z, signed),
        "colorbar": {"thickness": 14, "tickfont": {"size": FONT_SIZE - 2}, "len": 0.9},
        "hovertemplate": hover,
    }
    if click:
        heatmap["hoverinfo"] = "skip"
    data = [heatmap]
    if click:
        rows, cols = np.mgrid[0:h, 0:w].astype(np.uint8)  # [2, H', W'] pixel centres (< 128)
        data.append(
            {
                "type": "scatter",
                "x": cols.ravel(),
                "y": rows.ravel(),
                "customdata": z.ravel(),
                "mode": "markers",
                "marker": {"opacity": 0, "size": 6},
                "hovertemplate": "row %{y}, col %{x}<br>value %{customdata:.3f}<extra></extra>",
                "showlegend": False,
            }
        )
    shapes = []
    if pixel is not None:
        r, c = pixel
        shapes.append(_rect(c - 0.5, r - 0.5, c + 0.5, r + 0.5, PIXEL_COLOUR))
    return go.Figure(data=data, layout=_layout(title, height, (-0.5, w - 0.5), (-0.5, h - 0.5), shapes))


def grid_figure(
    values: np.ndarray,
    title: str,
    signed: bool | None = None,
    padded: np.ndarray | None = None,
    fractions: bool = False,
) -> go.Figure:
    """A small grid (kernel, patch, products) with every number written in its cell.

    padded: a boolean mask of cells that lie in the zero padding: drawn in their own colour on a
    second layer and written as "pad".
    fractions: write weights as a student types them (1/9) instead of rounded decimals.
    """
    z = np.asarray(values, dtype=np.float64)
    k_rows, k_cols = z.shape

    def label(i: int, j: int) -> str:
        if padded is not None and padded[i, j]:
            return ""  # written by the padding layer on top
        v = z[i, j] + 0.0  # no "-0"
        if fractions:
            return format_weight(v)
        return f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:.3g}"

    text = [[label(i, j) for j in range(k_cols)] for i in range(k_rows)]
    pad = np.zeros(z.shape, dtype=bool) if padded is None else np.asarray(padded, dtype=bool)
    heatmap = {
        "type": "heatmap",
        "z": z,
        "text": text,
        "texttemplate": "%{text}",
        "textfont": {"size": FONT_SIZE if k_cols <= 5 else FONT_SIZE - 3},
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
        "hovertemplate": "%{z:.4f}<extra></extra>",
        **_scale(z, signed, image=True),
    }
    data = [heatmap]
    if pad.any():  # padding cells in their own colour on top, so they differ from a black pixel
        data.append(
            {
                "type": "heatmap",
                "z": np.where(pad, 1.0, np.nan),
                "text": np.where(pad, "pad", ""),
                "texttemplate": "%{text}",
                "textfont": {"size": FONT_SIZE - 2, "color": "#5d4037"},
                "colorscale": categories([PAD_CELL]),
                "showscale": False,
                "xgap": 2,
                "ygap": 2,
                "hovertemplate": "zero padding: counts as 0<extra></extra>",
            }
        )
    layout = _layout(
        title, min(380, 50 * k_rows + 70), (-0.5, k_cols - 0.5), (-0.5, k_rows - 0.5), ticklabels=False
    )
    return go.Figure(data=data, layout=layout)


def step_figure(
    patch: np.ndarray, kernel: np.ndarray, products: np.ndarray, padded: np.ndarray | None = None
) -> dict:
    """The step-through's three grids side by side in one figure: the input patch, × the kernel,
    = their products (each drawn as `grid_figure` draws it).

    One chart instead of three: every element of a page costs the server work on each student's
    view. A plain dict (three subplots: axes x/y, x2/y2, x3/y3, titles as annotations).
    """
    parts = [
        grid_figure(patch, "Input patch", signed=False, padded=padded),
        grid_figure(kernel, "× Kernel", signed=True, fractions=True),
        grid_figure(products, "= Products", signed=True),
    ]
    gap = 0.04
    data: list[dict] = []
    layout: dict = {
        "height": max(int(p.layout.height) for p in parts),
        "margin": {"l": 10, "r": 10, "t": 44, "b": 10},
        "font": {"size": FONT_SIZE - 2},
        "plot_bgcolor": "rgba(0,0,0,0)",
        "annotations": [],
    }
    for i, part in enumerate(parts):
        n = "" if i == 0 else str(i + 1)
        for trace in part.data:
            data.append({**trace.to_plotly_json(), "xaxis": f"x{n}", "yaxis": f"y{n}"})
        lo, hi = i / 3 + (gap if i else 0), (i + 1) / 3 - (gap if i < 2 else 0)
        xaxis = part.layout.xaxis.to_plotly_json()
        yaxis = part.layout.yaxis.to_plotly_json()
        layout[f"xaxis{n}"] = {**xaxis, "domain": [lo, hi], "anchor": f"y{n}"}
        layout[f"yaxis{n}"] = {**yaxis, "anchor": f"x{n}", "scaleanchor": f"x{n}"}
        layout["annotations"].append(  # the grid's title, centred over it (its cells are square)
            {"text": f"<b>{part.layout.title.text}</b>", "x": (lo + hi) / 2, "xref": "paper",
             "xanchor": "center", "y": 1.0, "yref": "paper", "yanchor": "bottom", "showarrow": False,
             "font": {"size": FONT_SIZE + 2, "color": TITLE_COLOUR}}
        )  # fmt: skip
    return {"data": data, "layout": layout}
