"""Plotly figures for the shape calculator: the window sliding over the input, and a stack chart.

sliding_figure draws, in the style of the conv_arithmetic animations, the (padded) input grid
with the kernel's taps on it (dilation shows as gaps between taps) and the output grid with the
output pixel those taps produce. stack_figure plots each layer's spatial size and receptive field.
Pure functions returning go.Figure; all numbers come from cnnlib.shapes (and its
shapes_window / shapes_stack helpers).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cnnlib.plots.palette import categories
from cnnlib.shapes import SlidingAxis, StackResult

__all__ = ["MAX_PICTURE_CELLS", "picture_fits", "sliding_figure", "stack_figure"]


MAX_PICTURE_CELLS = 40
"""Largest grid (cells a side, padding included) the sliding picture draws."""

# cell codes -> colour, legend name
CELLS = [
    ("input", "#9ecae1", "input pixel"),
    ("pad", "#f2f2f2", "padding"),
    ("zero", "#fff3c4", "zero inserted (stride of a transposed conv)"),
    ("off", "#d9cff0", "beyond the input (ceil_mode window)"),
    ("unread", "#fcae91", "never read by any window"),
    ("output", "#c7e9c0", "output pixel"),
]
CELL_CODE = {name: i for i, (name, _, _) in enumerate(CELLS)}
TAP_COLOUR = "rgba(8, 48, 107, 0.72)"
CURRENT_COLOUR = "#238b45"
_FONT = 16
_TEXT = "#262730"  # dark text: the chart theme's light gray fades on a projector
_TICKS = {"size": 14, "color": _TEXT}
GRID_GAP = 2.5  # cells between the input grid and the output grid


def picture_fits(rows: SlidingAxis | None, cols: SlidingAxis | None, limit: int = MAX_PICTURE_CELLS) -> bool:
    """Whether the grids are small enough to draw cell by cell (None: too big to even build)."""
    if rows is None or cols is None:
        return False
    return max(len(rows.cells), len(cols.cells), rows.out_size, cols.out_size) <= limit


def _cell_kind(r: str, c: str) -> str:
    for kind in ("off", "pad", "zero"):
        if kind in (r, c):
            return kind
    return "input"


def sliding_figure(
    rows: SlidingAxis,
    cols: SlidingAxis,
    out_row: int,
    out_col: int,
    uncovered_rows: Sequence[int] = (),
    uncovered_cols: Sequence[int] = (),
    input_label: str = "Input",
    transposed: bool = False,
    width_px: int = 760,
) -> go.Figure:
    """The window for output pixel (out_row, out_col) on the input grid, next to the output grid.

    rows, cols: the layer's SlidingAxis for height and width (cnnlib.shapes.window.sliding_axis).
    uncovered_rows/cols: input rows/cols that no window reads, shaded as such.
    width_px: the width the figure will roughly get, used to size its height.
    """
    R, C = len(rows.cells), len(cols.cells)
    OH, OW = rows.out_size, cols.out_size
    x0 = C + GRID_GAP  # where the output grid starts
    z_in, text, hover = input_cells(rows, cols, set(uncovered_rows), set(uncovered_cols))  # [R, C] each
    data = _grid_traces(z_in, text, hover, OH, OW, x0)
    taps_r, taps_c = rows.taps(out_row), cols.taps(out_col)
    shapes = _window_shapes(taps_r, taps_c, x0 + out_col, out_row)
    annotations = _annotations(taps_r, taps_c, x0 + out_col, out_row, C, R, OH, OW, input_label, transposed)
    # Legend: one entry per colour in use, plus the window and the current output pixel.
    used = {int(v) for v in np.unique(z_in)} | {CELL_CODE["output"]}
    for i, (_, colour, name) in enumerate(CELLS):
        if i in used:
            data.append(_legend_marker(colour, name))
    data.append(_legend_marker(TAP_COLOUR, "kernel taps (the window)"))
    data.append(_legend_marker(CURRENT_COLOUR, "the output pixel they make"))
    layout = _picture_layout(max(R, OH), x0 + OW, transposed, width_px)
    layout["shapes"], layout["annotations"] = shapes, annotations
    return go.Figure(data=data, layout=layout)


def input_cells(
    rows: SlidingAxis, cols: SlidingAxis, unread_r: set[int], unread_c: set[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The input grid's cells: colour codes (CELL_CODE + 0.5), their text ("0" on padding and
    inserted zeros) and hover text, each [R, C]."""
    R, C = len(rows.cells), len(cols.cells)
    z_in = np.zeros((R, C))  # [R, C]
    text = np.full((R, C), "", dtype=object)  # [R, C]
    hover = np.full((R, C), "", dtype=object)  # [R, C]
    for i, rk in enumerate(rows.cells):
        for j, ck in enumerate(cols.cells):
            kind = _cell_kind(rk, ck)
            if kind == "input":
                sr, sc = rows.source[i], cols.source[j]
                if sr in unread_r or sc in unread_c:
                    kind = "unread"
                hover[i, j] = f"input row {sr}, column {sc}"
            else:
                hover[i, j] = dict((k, n) for k, _, n in CELLS)[kind]
            if kind in ("pad", "zero"):
                text[i, j] = "0"
            z_in[i, j] = CELL_CODE[kind] + 0.5
    return z_in, text, hover


def _grid_traces(
    z_in: np.ndarray, text: np.ndarray, hover: np.ndarray, OH: int, OW: int, x0: float
) -> list[dict]:
    """The input grid's heatmap (cells z_in, text, hover: [R, C]) and the output grid's [OH, OW] at x0."""
    R, C = z_in.shape
    common = {
        "type": "heatmap",
        "colorscale": categories([colour for _, colour, _ in CELLS]),  # kinds, not values
        "zmin": 0,
        "zmax": len(CELLS),
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
        "hoverinfo": "text",
    }
    data: list[dict] = [
        {
            **common,
            "z": z_in,
            "x": np.arange(C),
            "y": np.arange(R),
            "text": text,
            "texttemplate": "%{text}",
            "textfont": {"size": 12, "color": "#777"},
            "hovertext": hover,
        }
    ]
    out_hover = np.array(
        [[f"output row {r}, column {c}" for c in range(OW)] for r in range(OH)], dtype=object
    )  # [OH, OW]
    data.append(
        {
            **common,
            "z": np.full((OH, OW), CELL_CODE["output"] + 0.5),
            "x": x0 + np.arange(OW),
            "y": np.arange(OH),
            "hovertext": out_hover,
        }
    )
    return data


def _window_shapes(taps_r: list[int], taps_c: list[int], out_x: float, out_y: int) -> list[dict]:
    """The window: its span (dashed) and its taps (filled; dilation leaves gaps between taps), and
    the output pixel they make, at (out_x, out_y)."""
    shapes: list[dict] = [
        {
            "type": "rect",
            "x0": taps_c[0] - 0.5,
            "x1": taps_c[-1] + 0.5,
            "y0": taps_r[0] - 0.5,
            "y1": taps_r[-1] + 0.5,
            "line": {"color": "#08306b", "width": 3, "dash": "dash"},
        }
    ]
    shapes += [
        {"type": "rect", "x0": c - 0.42, "x1": c + 0.42, "y0": r - 0.42, "y1": r + 0.42, "fillcolor": TAP_COLOUR,
         "line": {"width": 0}}
        for r in taps_r
        for c in taps_c
    ]  # fmt: skip
    shapes.append(
        {
            "type": "rect",
            "x0": out_x - 0.45,
            "x1": out_x + 0.45,
            "y0": out_y - 0.45,
            "y1": out_y + 0.45,
            "fillcolor": CURRENT_COLOUR,
            "line": {"color": "#00441b", "width": 2},
        }
    )
    return shapes


def _annotations(
    taps_r: list[int],
    taps_c: list[int],
    out_x: float,
    out_y: int,
    C: int,
    R: int,
    OH: int,
    OW: int,
    input_label: str,
    transposed: bool,
) -> list[dict]:
    """The arrow from the window to its output pixel, the two grids' titles, and for a transposed
    convolution a note on how it is drawn."""
    x0 = C + GRID_GAP  # where the output grid starts
    annotations: list[dict] = [
        {
            "x": out_x,
            "y": out_y,
            "ax": (taps_c[0] + taps_c[-1]) / 2,
            "ay": (taps_r[0] + taps_r[-1]) / 2,
            "xref": "x",
            "yref": "y",
            "axref": "x",
            "ayref": "y",
            "showarrow": True,
            "arrowhead": 3,
            "arrowwidth": 2.5,
            "arrowcolor": "#00441b",
            "opacity": 0.8,
            "text": "",
        }
    ]
    for x, label in (
        ((C - 1) / 2, f"{input_label}"),
        (x0 + (OW - 1) / 2, f"Output {OH}×{OW}"),
    ):
        annotations.append(
            {"x": x, "y": -0.9, "text": f"<b>{label}</b>", "showarrow": False, "yanchor": "bottom",
             "font": {"size": _FONT + 2, "color": _TEXT}}
        )  # fmt: skip
    if transposed:
        annotations.append(
            {
                "x": (C - 1) / 2,
                "y": R - 0.2,
                "yanchor": "top",
                "showarrow": False,
                "text": "drawn as a stride-1 convolution over the stretched input (kernel flipped)",
                "font": {"size": 13, "color": "#555"},
            }
        )
    return annotations


def _picture_layout(rows_shown: int, x_end: float, transposed: bool, width_px: int) -> dict:
    """The layout for grids `rows_shown` cells tall ending at x_end (shapes and annotations to add).

    Cells are square, so the drawing is limited by the width too (about 760 px on a 1280 px wide
    page): the figure is sized to what will be drawn, without empty bands above and below.
    """
    x_span = x_end + 0.6
    y_span = rows_shown + 1.1 + (1 if transposed else 0)
    cell_px = max(12, min(50, 640 // max(rows_shown, 1), int(width_px / x_span)))
    return {
        "height": int(y_span * cell_px + 90),
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "font": {"size": _FONT},
        "legend": {
            "orientation": "h",
            "yanchor": "top",
            "y": -0.02,
            "x": 0,
            "font": {"size": 15, "color": _TEXT},
        },
        "dragmode": False,
        "xaxis": {"visible": False, "range": [-0.8, x_end - 0.2], "fixedrange": True},
        "yaxis": {
            "visible": False,
            "range": [rows_shown - 0.5 + (1 if transposed else 0), -1.6],
            "scaleanchor": "x",
            "scaleratio": 1,
            "fixedrange": True,
        },
    }


def _legend_marker(colour: str, name: str) -> dict:
    return {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "markers",
        "marker": {"symbol": "square", "size": 16, "color": colour, "line": {"color": "#999", "width": 1}},
        "name": name,
        "showlegend": True,
        "hoverinfo": "skip",
    }


def _stack_series(stack: StackResult) -> tuple[list[str], list, list, list, list]:
    """(names, heights, widths, receptive fields, jumps): the input, then each layer that ran."""
    names = ["input"] + [f"{r.index + 1}. {r.type}" for r in stack.rows]
    heights = [stack.input_shape[1]] + [
        r.output_shape[1] if len(r.output_shape) == 3 else None for r in stack.rows
    ]
    widths = [stack.input_shape[2]] + [
        r.output_shape[2] if len(r.output_shape) == 3 else None for r in stack.rows
    ]
    rf = [1] + [r.rf[0] if r.rf else None for r in stack.rows]
    jump = [1] + [r.jump[0] if r.jump else None for r in stack.rows]
    return names, heights, widths, rf, jump


def _size_bars(names: list[str], heights: list, widths: list, square: bool) -> list[dict]:
    """The feature map's size (its height, and its width beside it when they differ) as bars."""
    data: list[dict] = [
        {
            "type": "bar",
            "x": names,
            "y": heights,
            "name": "feature map size" if square else "height",
            "marker": {"color": "#6baed6"},
            "text": heights,
            "textposition": "outside",
            "textfont": {"size": 15, "color": _TEXT},
        }
    ]
    if not square:
        data.append(
            {"type": "bar", "x": names, "y": widths, "name": "width", "marker": {"color": "#c6dbef"},
             "text": widths, "textposition": "outside", "textfont": {"size": 15, "color": _TEXT}}
        )  # fmt: skip
    return data


def _rf_lines(names: list[str], rf: list, jump: list, square: bool) -> list[dict]:
    """The receptive field and the jump (effective stride) as lines, gaps where they stop being simple."""
    suffix = "" if square else " (height)"
    return [
        {
            "type": "scatter",
            "x": names,
            "y": rf,
            "name": "receptive field" + suffix,
            "mode": "lines+markers",
            "line": {"color": "#e6550d", "width": 4},
            "marker": {"size": 11},
            "connectgaps": False,
        },
        {
            "type": "scatter",
            "x": names,
            "y": jump,
            "name": "jump (effective stride)" + suffix,
            "mode": "lines+markers",
            "line": {"color": "#756bb1", "width": 3, "dash": "dash"},
            "marker": {"size": 9, "symbol": "diamond"},
            "connectgaps": False,
        },
    ]


def _refused_marker(bad: str) -> dict:
    """The red cross on the layer torch refuses (named `bad` on the x axis)."""
    return {
        "type": "scatter",
        "x": [bad],
        "y": [0],
        "mode": "markers+text",
        "marker": {"symbol": "x", "size": 24, "color": "#cb181d"},
        "text": ["refused"],
        "textposition": "top center",
        "textfont": {"color": "#cb181d", "size": 16},
        "name": "layer PyTorch refuses",
    }


def _stack_layout() -> dict:
    """The stack chart's layout: legend on top, one y axis in input pixels from 0."""
    return {
        "height": 400,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "barmode": "group",
        "font": {"size": 16, "color": _TEXT},
        "legend": {
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "x": 0,
            "font": {"size": 15, "color": _TEXT},
        },
        "plot_bgcolor": "white",
        "xaxis": {"tickfont": _TICKS},
        "yaxis": {
            "title": {"text": "input pixels", "font": {"size": 15, "color": _TEXT}},
            "gridcolor": "#eee",
            "rangemode": "tozero",
            "tickfont": _TICKS,
        },
    }


def stack_figure(stack: StackResult) -> go.Figure:
    """Bars: each layer's spatial height (and width, if different); lines: receptive field and jump.

    Both are in input pixels, so they share one axis: watch the image shrink while what each unit
    sees grows. A layer torch refuses (e.g. a size that hits zero) is marked with a red cross.
    """
    names, heights, widths, rf, jump = _stack_series(stack)
    square = widths == heights
    data = _size_bars(names, heights, widths, square) + _rf_lines(names, rf, jump, square)
    if stack.error is not None and stack.error.layer_index is not None:
        data.append(_refused_marker(f"{stack.error.layer_index + 1}. {stack.error_type or 'refused'}"))
    return go.Figure(data=data, layout=_stack_layout())
