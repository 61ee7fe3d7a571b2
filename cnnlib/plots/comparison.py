"""Two runs of a comparison ("same run, but ...") overlaid: loss and accuracy per epoch.

Run A is drawn in blue, run B in orange (Okabe-Ito, colour-blind safe); training solid, validation
dashed, so the gap between the two lines of a run reads at a glance, and the two runs' gaps side
by side. A plain Plotly figure dict (pages.ui.figures.chart draws it).
"""

from __future__ import annotations

from typing import Any

from cnnlib.plots.curves import Curves

__all__ = ["RUN_COLOURS", "comparison_figure"]


RUN_COLOURS = ("#0072B2", "#E69F00")  # Okabe-Ito blue and orange: apart for every colour vision


def _trace(x: list[int], y: list[float], name: str, colour: str, dash: str, axis: str, group: str) -> dict:
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "x": x,
        "y": y,
        "name": name,
        "legendgroup": group,
        "line": {"color": colour, "dash": dash, "width": 2.5},
        "marker": {"size": 6},
        "xaxis": "x" if axis == "loss" else "x2",
        "yaxis": "y" if axis == "loss" else "y2",
        "hovertemplate": "%{fullData.name}<br>epoch %{x}: %{y:.4f}<extra></extra>",
    }


def comparison_figure(a: Curves, b: Curves, labels: tuple[str, str], height: int = 360) -> dict[str, Any]:
    """Loss (left) and accuracy (right) per epoch of runs `a` and `b`, named by `labels`."""
    traces = []
    for tag, run, label, colour in zip("AB", (a, b), labels, RUN_COLOURS, strict=True):
        for axis, train, val in (("loss", run.train_loss, run.val_loss), ("acc", run.train_acc, run.val_acc)):
            first = axis == "loss"
            tr = _trace(
                run.epochs[: len(train)], list(train), f"{tag} training: {label}", colour, "solid", axis, tag
            )
            va = _trace(
                run.epochs[: len(val)], list(val), f"{tag} validation: {label}", colour, "dash", axis, tag
            )
            tr["showlegend"] = va["showlegend"] = first
            traces += [tr, va]
    extent = max(a.extent, b.extent, 1.0)
    return {
        "data": traces,
        "layout": {
            "height": height,
            "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
            "legend": {"orientation": "h", "y": -0.2},
            "xaxis": {"domain": [0, 0.46], "title": {"text": "epoch"}, "range": [0.5, extent + 0.5]},
            "xaxis2": {"domain": [0.54, 1], "title": {"text": "epoch"}, "range": [0.5, extent + 0.5]},
            "yaxis": {"title": {"text": "loss (solid: training, dashed: validation)"}, "rangemode": "tozero"},
            "yaxis2": {
                "title": {"text": "accuracy"},
                "range": [0, 1.02],
                "tickformat": ".0%",
                "anchor": "x2",
            },
        },
    }
