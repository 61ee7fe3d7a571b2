"""Plotly figures for the Training page: live curves, confusion matrix, metrics, filters, feature maps.

Pure functions from numbers to `go.Figure`; no Streamlit. Sized and styled for a projector (large
fonts, thick lines). The live figure keeps its layout stable between updates (`uirevision`), so a
chart redrawn with `Plotly.react` keeps the student's zoom and never jumps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FONT = {"size": 16}
CURRENT = {
    "raw": "rgba(31,119,180,0.28)",
    "smooth": "#1f77b4",
    "train": "#1f77b4",
    "val": "#ff7f0e",
    "lr": "#2ca02c",
}
EARLIER_COLORS = ["#7f7f7f", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
MAX_POINTS = 1500  # per-batch points drawn per curve (the smoothed curve is computed on all of them)


@dataclass
class Curves:
    """One run's history, in the units the charts use (x in epochs, 1-based epoch numbers)."""

    name: str
    batch_x: list[float] = field(default_factory=list)  # fractional epoch of each recorded batch
    batch_loss: list[float] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)  # 1, 2, ... for the per-epoch lists below
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)  # fractions 0..1
    val_acc: list[float] = field(default_factory=list)
    lr_x: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    x_end: float | None = None  # the epoch the x axes reach: the planned epochs while training

    @property
    def extent(self) -> float:
        """How far the x axes must reach for this run: `x_end`, else its last point."""
        if self.x_end:
            return float(self.x_end)
        return float(max([*self.batch_x[-1:], *self.epochs[-1:], *self.lr_x[-1:], 0]))


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

    All three x axes span the same epochs from the start: the planned epochs of the current run
    (`Curves.x_end`, or `epochs` before any run), widened to fit the earlier runs, so the curves
    grow across a fixed chart instead of the axes rescaling at every update. A training epoch's
    loss and accuracy are averages over the epoch while the weights changed, so they sit in its
    middle (epoch - 0.5); validation is measured at the end of the epoch (epoch).
    """
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
    if current is not None:
        if current.batch_loss:
            x, y = downsample(current.batch_x, current.batch_loss, LIVE_POINTS)
            data.append(_line(x, y, "loss per batch", CURRENT["raw"], 1))
            x, y = downsample(current.batch_x, list(ema(current.batch_loss, alpha)), LIVE_POINTS)
            data.append(_line(x, y, "smoothed", CURRENT["smooth"], 3))
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
        if current.lr:
            x, y = downsample(current.lr_x, current.lr, LIVE_POINTS)
            data.append(_line(x, y, "learning rate", CURRENT["lr"], axis="3", hover="%{y:.2e}", legend=False))
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
    domains = ([0.0, 0.40], [0.47, 0.75], [0.85, 1.0])  # gaps wide enough for the tick labels
    titles = ("Loss", "Accuracy", "Learning rate")
    axis = {
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
    runs = [*([current] if current is not None else []), *earlier]
    x_max = max([r.extent for r in runs] + [float(epochs or 0) if current is None else 0.0]) or 1.0
    for i, dom in enumerate(domains, start=1):
        suffix = "" if i == 1 else str(i)
        layout["xaxis" + suffix] = {
            **axis,
            "domain": dom,
            "anchor": "y" + suffix,
            "range": [0, x_max * 1.03],  # a little room: the last epoch's markers are not cut in half
            "tick0": 0,
            "dtick": epoch_ticks(x_max, 5 if i < 3 else 2),
            "title": {"text": "epoch"},
        }
        layout["yaxis" + suffix] = {**axis, "anchor": "x" + suffix, "rangemode": "tozero"}
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
    return {"data": data, "layout": layout}


def live_figure(
    current: Curves | None,
    earlier: Sequence[Curves] = (),
    height: int = 400,
    alpha: float = 0.1,
    epochs: int | None = None,
) -> go.Figure:
    """`live_figure_dict` as a go.Figure (validated; for static use and tests)."""
    return go.Figure(live_figure_dict(current, earlier, height, alpha, epochs))


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
            colorscale="Blues",
            zmin=0,
            zmax=1,
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
    precision: Sequence[float],
    recall: Sequence[float],
    f1: Sequence[float],
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
            m = np.abs(k).max() or 1.0
            fig.add_trace(
                go.Heatmap(
                    z=k,
                    zmin=-m,
                    zmax=m,
                    colorscale="RdBu_r",
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
                    colorscale="gray",
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
    images: np.ndarray,
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


def curves_from_snapshot(snap: object, name: str | None = None) -> Curves:
    """Curves from a cnnlib.training.RunSnapshot (or anything with the same fields).

    While the run is queued, running or finished, the x axes reach its planned epochs; a run that
    stopped early (by the student, early stopping or a blow-up) reaches as far as it got.
    """
    spe = max(1, int(getattr(snap, "steps_per_epoch", 1) or 1))
    steps = list(getattr(snap, "batch_step", ()))
    n_epochs = len(getattr(snap, "train_loss", ()))
    planned = getattr(snap, "epochs", None)
    status = getattr(snap, "status", "running")
    x_end = float(planned) if planned and status in ("ready", "queued", "running", "finished") else None
    return Curves(
        name=name if name is not None else str(getattr(snap, "name", "")),
        batch_x=[s / spe for s in steps],
        batch_loss=list(getattr(snap, "batch_loss", ())),
        epochs=list(range(1, n_epochs + 1)),
        train_loss=list(snap.train_loss),
        val_loss=list(getattr(snap, "val_loss", ())),
        train_acc=list(getattr(snap, "train_acc", ())),
        val_acc=list(getattr(snap, "val_acc", ())),
        lr_x=[s / spe for s in steps],
        lr=list(getattr(snap, "batch_lr", ())),
        x_end=x_end,
    )
