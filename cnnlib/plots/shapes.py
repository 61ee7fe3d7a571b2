"""Plotly figure for the shape calculator's stack mode: each layer's size and receptive field.

stack_figure plots, layer by layer, the feature map's spatial size (bars) and what one unit sees
of the input, its receptive field and jump (lines), all in input pixels; a layer torch refuses is
marked. A pure function returning go.Figure; all numbers come from cnnlib.shapes (stack_shapes).
The sliding window is a PNG, drawn by cnnlib.plots.sliding.
"""

from __future__ import annotations

import plotly.graph_objects as go

from cnnlib.shapes import StackResult

__all__ = ["stack_figure", "stack_series"]

_TEXT = "#262730"  # dark text: the chart theme's light gray fades on a projector
_TICKS = {"size": 14, "color": _TEXT}


def stack_series(stack: StackResult) -> tuple[list[str], list, list, list, list]:
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
    names, heights, widths, rf, jump = stack_series(stack)
    square = widths == heights
    data = _size_bars(names, heights, widths, square) + _rf_lines(names, rf, jump, square)
    if stack.error is not None and stack.error.layer_index is not None:
        data.append(_refused_marker(f"{stack.error.layer_index + 1}. {stack.error_type or 'refused'}"))
    return go.Figure(data=data, layout=_stack_layout())
