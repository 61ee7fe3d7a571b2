"""Plotly figures for the Training page while a run trains: the live curves, and earlier runs beside them.

Pure functions from numbers to figures; no Streamlit. Sized and styled for a projector (large
fonts, thick lines). The live figure is built as a plain dict (it is rebuilt twice a second) and
keeps its layout stable between updates (`uirevision`), so a chart redrawn with `Plotly.react`
keeps the student's zoom and never jumps. The figures after a run are in cnnlib.plots.evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cnnlib.plots.curves import Curves

__all__ = ["live_figure_dict"]


FONT = {"size": 16}  # projector-sized text
CURRENT = {
    "raw": "rgba(31,119,180,0.28)",
    "smooth": "#1f77b4",
    "train": "#1f77b4",
    "val": "#ff7f0e",
    "lr": "#2ca02c",
    "gap": "rgba(255,127,14,0.16)",  # the band between the train and validation curves
    "best": "#d62728",  # the epoch of the lowest validation loss
}
EARLIER_COLORS = ["#7f7f7f", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
MAX_POINTS = 1500  # per-batch points drawn per curve (the smoothed curve is computed on all of them)


def ema(values: Sequence[float], alpha: float = 0.1) -> np.ndarray:
    """Exponential moving average: s[0] = v[0]; s[t] = alpha*v[t] + (1-alpha)*s[t-1]. NaNs are skipped."""
    v = np.asarray(values, dtype=np.float64)
    out = []
    s = math.nan
    beta = 1 - alpha
    for x in v.tolist():  # plain floats: ~20x faster than indexing numpy scalars
        if math.isfinite(x):
            s = x if not math.isfinite(s) else alpha * x + beta * s
        out.append(s)
    return np.asarray(out, dtype=np.float64)


def downsample(x: Sequence[float], y: Sequence[float], max_points: int = MAX_POINTS) -> tuple[list, list]:
    """Every k-th point so that at most about `max_points` remain; the last point is always kept."""
    n = len(x)
    if n <= max_points:
        return list(x), list(y)
    step = int(np.ceil(n / max_points))
    idx = list(range(0, n, step))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return [x[i] for i in idx], [y[i] for i in idx]


def _finite(values: Sequence[float]) -> list[float | None]:
    return [float(v) if v is not None and np.isfinite(v) else None for v in values]


LIVE_POINTS = 600  # per-batch points of the current run sent to the browser on each update
EARLIER_POINTS = 250  # per earlier run (its smoothed loss only)
_GRID = "#e6e6e6"


def round_values(values: Sequence[float], digits: int = 5) -> list[float | None]:
    """JSON-ready floats (rounded to `digits` significant digits; NaN/inf -> None: a gap)."""
    v = np.asarray([np.nan if x is None else x for x in values], dtype=np.float64)
    ok = np.isfinite(v)
    mag = np.ones_like(v)
    nz = ok & (v != 0)
    mag[nz] = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(v[nz]))))
    rounded = np.where(ok, np.round(np.where(ok, v, 0) * mag) / mag, np.nan)
    return [x if ok_i else None for x, ok_i in zip(rounded.tolist(), ok.tolist(), strict=True)]


def _line(
    x, y, name, color, width=3, dash=None, mode="lines", axis="", hover="%{y:.3f}", legend=True, group=None
):
    trace = {
        "type": "scatter",
        "x": round_values(x),
        "y": round_values(y),
        "name": name,
        "mode": mode,
        "line": {"color": color, "width": width, **({"dash": dash} if dash else {})},
        "hovertemplate": hover + "<extra>" + name + "</extra>",
        "showlegend": legend,
        "xaxis": "x" + axis,
        "yaxis": "y" + axis,
    }
    if "markers" in mode:
        trace["marker"] = {"size": 10, "color": color}
    if group:
        trace["legendgroup"] = group
    return trace


def _exploded(losses: Sequence[float], factor: float = 20.0) -> bool:
    """True when some batch loss is over `factor` times the typical early loss (then a log axis reads)."""
    v = np.asarray(losses, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return False
    start = float(np.median(v[: max(1, min(10, v.size // 4 or 1))]))
    return start > 0 and float(v.max()) > factor * start


def epoch_ticks(x_max: float, max_ticks: int = 6) -> float:
    """A tick spacing in epochs for an axis from 0 to `x_max`, at most `max_ticks` gaps: whole epochs
    (1, 2, 5, 10, 20, 50, ...) from 2 epochs on, tenths (0.1, 0.2, 0.5) for shorter runs."""
    x = max(float(x_max), 1e-9)
    nice = [b * 10.0**k for k in range(0, 6) for b in (1, 2, 5)]
    if x < 2:
        nice = [0.1, 0.2, 0.5, *nice]
    return next((c for c in nice if x / c <= max(1, max_ticks)), nice[-1])


def gap_polygon(
    train_x: Sequence[float], train: Sequence[float], val_x: Sequence[float], val: Sequence[float]
) -> tuple[list[float], list[float]]:
    """The closed outline between a train curve and a validation curve, as Plotly's `fill: toself`
    draws it: along the train points, then back along the validation points. Epochs where one of
    the two is missing are left out; fewer than two epochs in common: empty lists (no band)."""
    n = min(len(train_x), len(train), len(val_x), len(val))
    if n < 2:
        return [], []
    return [*train_x[:n], *val_x[:n][::-1]], [*train[:n], *val[:n][::-1]]


def best_epoch(val_loss: Sequence[float]) -> int | None:
    """The 1-based epoch with the lowest validation loss (the first of equals; NaN/None skipped)."""
    v = np.asarray([np.nan if x is None else x for x in val_loss], dtype=np.float64)
    if not np.isfinite(v).any():
        return None
    return int(np.nanargmin(np.where(np.isfinite(v), v, np.nan))) + 1


def _gap_and_best(current: Curves) -> tuple[list[dict], list[dict], list[dict]]:
    """The shaded train/validation gap on the loss and accuracy panels, and the lowest validation
    loss marked (a star on its point, a dotted line across both panels): (bands, star, shapes)."""
    bands: list[dict] = []
    pairs = ((current.train_loss, current.val_loss, ""), (current.train_acc, current.val_acc, "2"))
    for i, (train, val, axis) in enumerate(pairs):
        mid = [e - 0.5 for e in current.epochs[: len(train)]]  # train: epoch averages, mid-epoch
        x, y = gap_polygon(mid, train, current.epochs[: len(val)], val)
        if x:
            gap = _line(
                x, y, "train/validation gap", CURRENT["gap"], 0, axis=axis, legend=i == 0, group="gap"
            )
            gap.update(fill="toself", fillcolor=CURRENT["gap"], hoverinfo="skip", hoveron="fills")
            del gap["hovertemplate"]
            bands.append(gap)
    star: list[dict] = []
    shapes: list[dict] = []
    best = best_epoch(current.val_loss)
    if best is not None:
        label = f"lowest validation loss (epoch {best})"
        mark = _line([best], [current.val_loss[best - 1]], label, CURRENT["best"], mode="markers")
        mark["marker"].update(symbol="star", size=18, line={"color": "white", "width": 1})
        mark["hovertemplate"] = f"lowest validation loss: epoch {best}, %{{y:.3f}}<extra></extra>"
        star.append(mark)
        for axis in ("", "2"):
            shapes.append(
                {
                    "type": "line",
                    "xref": "x" + axis,
                    "yref": f"y{axis} domain",
                    "x0": best,
                    "x1": best,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": CURRENT["best"], "width": 1.5, "dash": "dot"},
                    "layer": "below",
                }
            )
    return bands, star, shapes


def live_figure_dict(
    current: Curves | None,
    earlier: Sequence[Curves] = (),
    height: int = 400,
    alpha: float = 0.1,
    epochs: int | None = None,
) -> dict:
    """The live figure as a plain JSON-able dict {"data", "layout"} (no plotly validation: a few ms).

    Three panels: loss (per batch raw + smoothed EMA, per epoch train vs validation), accuracy (per
    epoch train vs validation) and the learning rate. Earlier runs of the session are overlaid dotted
    (smoothed loss, validation accuracy). `uirevision` keeps the student's zoom across updates.
    The gap between the current run's train and validation curves is shaded on the loss and
    accuracy panels, and the epoch of its lowest validation loss is marked (a star and a dotted line).

    All three x axes span the same epochs from the start: the planned epochs of the current run
    (`Curves.x_end`, or `epochs` before any run), widened to fit the earlier runs, so the curves
    grow across a fixed chart instead of the axes rescaling at every update. A training epoch's
    loss and accuracy are averages over the epoch while the weights changed, so they sit in its
    middle (epoch - 0.5); validation is measured at the end of the epoch (epoch).
    """
    data = _earlier_traces(earlier, alpha)
    best_shapes: list[dict] = []
    if current is not None:
        traces, best_shapes = _current_traces(current, alpha)
        data += traces
    for axis_id in ("", "2", "3"):  # an empty trace per panel: Plotly draws no axes for a panel without one
        data.append(
            {
                "type": "scatter",
                "x": [],
                "y": [],
                "xaxis": "x" + axis_id,
                "yaxis": "y" + axis_id,
                "showlegend": False,
                "hoverinfo": "skip",
            }
        )
    return {"data": data, "layout": _live_layout(current, earlier, height, epochs, best_shapes)}


def _earlier_traces(earlier: Sequence[Curves], alpha: float) -> list[dict]:
    """Earlier runs, dotted: their smoothed loss and their validation accuracy."""
    data: list[dict] = []
    for i, run in enumerate(earlier):
        color = EARLIER_COLORS[i % len(EARLIER_COLORS)]
        if run.batch_loss:
            x, y = downsample(run.batch_x, list(ema(run.batch_loss, alpha)), EARLIER_POINTS)
            data.append(_line(x, y, run.name, color, 2, "dot", group=run.name))
        if run.val_acc:
            data.append(
                _line(
                    run.epochs[: len(run.val_acc)],
                    run.val_acc,
                    run.name,
                    color,
                    2,
                    "dot",
                    "lines+markers",
                    "2",
                    "%{y:.1%}",
                    legend=not run.batch_loss,
                    group=run.name,
                )
            )
    return data


def _current_traces(current: Curves, alpha: float) -> tuple[list[dict], list[dict]]:
    """The current run's traces, bottom to top (the loss per batch and smoothed, the gap bands, the
    per-epoch train and validation curves, the best-epoch star, the learning rate), and the shapes
    marking its best epoch."""
    data: list[dict] = []
    if current.batch_loss:
        x, y = downsample(current.batch_x, current.batch_loss, LIVE_POINTS)
        data.append(_line(x, y, "loss per batch", CURRENT["raw"], 1))
        x, y = downsample(current.batch_x, list(ema(current.batch_loss, alpha)), LIVE_POINTS)
        data.append(_line(x, y, "smoothed", CURRENT["smooth"], 3))
    bands, star, best_shapes = _gap_and_best(current)
    data.extend(bands)  # under the curves
    per_epoch = (  # values, name, colour/group, panel, mode, hover, at mid-epoch, in legend
        (current.train_loss, "train (epoch average)", "train", "", "markers", "%{y:.3f}", True, True),
        (current.val_loss, "validation", "val", "", "lines+markers", "%{y:.3f}", False, True),
        (current.train_acc, "train", "train", "2", "lines+markers", "%{y:.1%}", True, False),
        (current.val_acc, "validation", "val", "2", "lines+markers", "%{y:.1%}", False, False),
    )
    for values, name, group, axis, mode, fmt, mid, legend in per_epoch:
        if values:
            epochs_done = current.epochs[: len(values)]
            data.append(
                _line(
                    [e - 0.5 for e in epochs_done] if mid else epochs_done,
                    values,
                    name,
                    CURRENT[group],
                    mode=mode,
                    axis=axis,
                    hover=("average over epoch %{customdata}: " if mid else "end of epoch %{x}: ") + fmt,
                    legend=legend,
                    group=group,
                )
            )
            data[-1]["customdata"] = epochs_done
    data.extend(star)  # over the validation curve
    if current.lr:
        x, y = downsample(current.lr_x, current.lr, LIVE_POINTS)
        data.append(_line(x, y, "learning rate", CURRENT["lr"], axis="3", hover="%{y:.2e}", legend=False))
    return data, best_shapes


def _live_layout(
    current: Curves | None,
    earlier: Sequence[Curves],
    height: int,
    epochs: int | None,
    best_shapes: list[dict],
) -> dict:
    """The live figure's layout: three panels over the same epochs, their titles, the axes' scales
    (best_shapes: the lines marking the best epoch)."""
    domains = ([0.0, 0.40], [0.47, 0.75], [0.85, 1.0])  # gaps wide enough for the tick labels
    titles = ("Loss", "Accuracy", "Learning rate")
    axis_style = {
        "gridcolor": _GRID,
        "zeroline": False,
        "linecolor": "#999",
        "ticks": "outside",
        "automargin": True,
    }
    layout: dict = {
        "height": height + 30 * math.ceil(len(earlier) / 3),  # the legend's extra rows don't squash the plots
        "font": FONT,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "margin": {"l": 60, "r": 20, "t": 80, "b": 50},
        "uirevision": "live",
        "hovermode": "closest",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.12, "x": 0, "font": {"size": 14}},
        "hoverlabel": {"font": {"size": 15}},
        "annotations": [
            {
                "text": f"<b>{t}</b>",
                "x": sum(d) / 2,
                "y": 1.0,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 17},
            }
            for t, d in zip(titles, domains, strict=True)
        ],
    }
    if best_shapes:
        layout["shapes"] = best_shapes
    runs = [*([current] if current is not None else []), *earlier]
    x_max = max([r.extent for r in runs] + [float(epochs or 0) if current is None else 0.0]) or 1.0
    for i, dom in enumerate(domains, start=1):
        suffix = "" if i == 1 else str(i)
        layout["xaxis" + suffix] = {
            **axis_style,
            "domain": dom,
            "anchor": "y" + suffix,
            "range": [0, x_max * 1.03],  # a little room: the last epoch's markers are not cut in half
            "tick0": 0,
            "dtick": epoch_ticks(x_max, 5 if i < 3 else 2),
            "title": {"text": "epoch"},
        }
        layout["yaxis" + suffix] = {**axis_style, "anchor": "x" + suffix, "rangemode": "tozero"}
    if current is not None and _exploded(current.batch_loss):
        layout["yaxis"].update(type="log", rangemode=None, title={"text": "log scale: the loss blew up"})
    layout["yaxis2"].update(range=[0, 1.02], tickformat=".0%")
    layout["yaxis3"].update(exponentformat="e", nticks=4)
    if current is None or not (current.batch_loss or current.train_loss):
        layout["annotations"].append(
            {
                "text": "Press Train:<br>the curves appear here" if current is None else "Starting…",
                "x": sum(domains[0]) / 2,
                "y": 0.5,
                "xanchor": "center",
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
                "font": {"size": 20, "color": "#888"},
            }
        )
    return layout


def live_figure(
    current: Curves | None,
    earlier: Sequence[Curves] = (),
    height: int = 400,
    alpha: float = 0.1,
    epochs: int | None = None,
) -> go.Figure:
    """`live_figure_dict` as a go.Figure (validated; for static use and tests)."""
    return go.Figure(live_figure_dict(current, earlier, height, alpha, epochs))
