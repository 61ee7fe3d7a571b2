"""Plotly figures for "a batch, seen" and "one step in slow motion" (pure functions -> go.Figure).

Sized and coloured for a projector: big fonts in dark ink on white (`TEMPLATE`; show them with
`st.plotly_chart(..., theme=None)` so Streamlit's theme does not shrink and grey them), few colours,
the true class in green, weights red = positive and blue = negative as on the Results tab.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from cnnlib.plots.palette import signed_range

__all__ = [
    "batch_grid_figure",
    "probs_figure",
    "nll_figure",
    "kernel_step_figure",
    "grad_norms_figure",
    "loss_reveal_figure",
]


TRUE_COLOR = "#2ca02c"
PRED_COLOR = "#d62728"
OTHER_COLOR = "#9aa5b1"
FONT = {"size": 16, "color": "#111827"}
TEMPLATE = "plotly_white"


def _to_rgb(images: torch.Tensor) -> np.ndarray:
    """uint8 images [B, C, H, W] (C = 1 or 3) -> uint8 RGB [B, H, W, 3]."""
    t = images.detach().cpu()
    if t.dtype != torch.uint8:  # floats in [0, 1]
        t = (t.clamp(0, 1) * 255).round().to(torch.uint8)
    arr = t.numpy()
    if arr.shape[1] == 1:
        arr = np.repeat(arr, 3, axis=1)
    return arr[:, :3].transpose(0, 2, 3, 1)


def batch_grid_figure(
    images: torch.Tensor,
    labels: Sequence[int] | torch.Tensor,
    classes: Sequence[str],
    cols: int | None = None,
    max_images: int = 32,
    gap: int = 2,
    width_px: int = 1000,
) -> go.Figure:
    """A grid of a batch's images (uint8 [B, C, H, W]), each titled with its position and label.

    cols: images per row (default 8, or 16 for more than 16 images); width_px: the width the
    figure will be shown at, to size its height without empty bands.
    """
    labels = [int(v) for v in labels]
    n = min(int(images.shape[0]), max_images)
    rgb = _to_rgb(images[:n])  # [n, H, W, 3]
    h, w = rgb.shape[1:3]
    cols = max(1, min(cols or (8 if n <= 16 else 16), n))
    rows = math.ceil(n / cols)
    label_h = max(8, h // 3)  # a strip above each tile for its label
    cell_h, cell_w = h + label_h + gap, w + gap
    canvas = np.full((rows * cell_h, cols * cell_w, 3), 255, dtype=np.uint8)  # [H_total, W_total, 3]
    fig = go.Figure()
    for i in range(n):
        r, c = divmod(i, cols)
        top, left = r * cell_h + label_h, c * cell_w
        canvas[top : top + h, left : left + w] = rgb[i]
        fig.add_annotation(
            x=left + w / 2,
            y=top - label_h / 2,
            text=f"{i}: <b>{classes[labels[i]] if 0 <= labels[i] < len(classes) else labels[i]}</b>",
            showarrow=False,
            font={"size": 15, "color": "#111827"},
        )
    fig.add_trace(go.Image(z=canvas, hoverinfo="skip"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    scale = min(width_px / (cols * cell_w), 4.0)  # on-screen pixels per image pixel
    fig.update_layout(
        template=TEMPLATE,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=int(rows * cell_h * scale) + 10,
        width=None,
    )
    return fig


def probs_figure(
    logits: torch.Tensor,
    probs: torch.Tensor,
    labels: Sequence[int] | torch.Tensor,
    classes: Sequence[str],
    shown: Sequence[int],
) -> go.Figure:
    """One bar chart per shown image: softmax probability of every class, true class in green."""
    labels = [int(v) for v in labels]
    k = int(probs.shape[1])
    names = [str(c) for c in classes][:k] if len(classes) >= k else [str(j) for j in range(k)]
    titles = []
    for i in shown:
        pred = int(probs[i].argmax())
        titles.append(f"image {i}<br>true <b>{names[labels[i]]}</b> · predicted <b>{names[pred]}</b>")
    fig = make_subplots(rows=1, cols=len(shown), subplot_titles=titles, shared_yaxes=True)
    for col, i in enumerate(shown, start=1):
        pred = int(probs[i].argmax())
        colors = [
            TRUE_COLOR if j == labels[i] else PRED_COLOR if j == pred else OTHER_COLOR for j in range(k)
        ]
        fig.add_trace(
            go.Bar(
                x=names,
                y=probs[i].tolist(),
                marker_color=colors,
                customdata=logits[i].tolist(),
                hovertemplate="class %{x}<br>logit %{customdata:.4f}<br>p = %{y:.4f}<extra></extra>",
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    fig.update_yaxes(range=[0, 1], title_text="probability", row=1, col=1)
    fig.update_xaxes(type="category", tickmode="linear", tickfont={"size": 14 if k <= 10 else 11})
    fig.update_layout(
        template=TEMPLATE, height=340, margin={"l": 60, "r": 10, "t": 75, "b": 30}, font=FONT, bargap=0.15
    )
    fig.update_annotations(font_size=15)
    return fig


def nll_figure(
    nll: torch.Tensor, labels: Sequence[int] | torch.Tensor, classes: Sequence[str], loss: float
) -> go.Figure:
    """-log p(true class) for every example of the batch, with their mean (the loss) as a line."""
    labels = [int(v) for v in labels]
    x = [f"{i}: {classes[y] if 0 <= y < len(classes) else y}" for i, y in enumerate(labels)]
    fig = go.Figure(
        go.Bar(
            x=x,
            y=nll.tolist(),
            marker_color=[TRUE_COLOR if v < math.log(2) else OTHER_COLOR for v in nll.tolist()],
            hovertemplate="%{x}<br>-log p(true) = %{y:.4f}<extra></extra>",
        )
    )
    fig.add_hline(
        y=loss,
        line_dash="dash",
        line_color=PRED_COLOR,
        annotation_text=f"mean = loss = {loss:.4f}",
        annotation_position="top right",
        annotation_font_size=15,
        annotation_bgcolor="rgba(255,255,255,0.85)",
    )
    fig.update_layout(
        template=TEMPLATE,
        height=320,
        margin={"l": 60, "r": 10, "t": 20, "b": 40},
        font=FONT,
        yaxis={"title": "−log p(true class)", "range": [0, max(nll.max().item(), loss) * 1.2 + 1e-6]},
        xaxis={"type": "category", "tickfont": {"size": 14 if len(x) <= 16 else 11}},
    )
    return fig


def kernel_step_figure(
    before: torch.Tensor,
    grad: torch.Tensor | None,
    after: torch.Tensor | None,
    highlight: tuple[int, int],
) -> go.Figure:
    """The chosen weight's kernel [kH, kW] before, its gradient, and after the step; the weight boxed."""
    given = [("weights before", before), ("gradient", grad), ("weights after", after)]
    panels = [(t, m) for t, m in given if m is not None]
    fig = make_subplots(
        rows=1, cols=len(panels), subplot_titles=[t for t, _ in panels], horizontal_spacing=0.06
    )
    r, c = highlight
    for col, (title, mat) in enumerate(panels, start=1):
        z = mat.detach().cpu().double().numpy()  # [kH, kW]
        fig.add_trace(
            go.Heatmap(
                z=z,
                **signed_range(z),  # red = positive, blue = negative, white = 0 (as every page)
                showscale=False,
                text=[[f"{v:.3g}" for v in row] for row in z],
                texttemplate="%{text}",
                textfont={"size": 14},
                hovertemplate="row %{y}, col %{x}: %{z:.6g}<extra>" + title + "</extra>",
            ),
            row=1,
            col=col,
        )
        fig.add_shape(
            type="rect",
            x0=c - 0.5,
            x1=c + 0.5,
            y0=r - 0.5,
            y1=r + 0.5,
            line={"color": "black", "width": 4},
            row=1,
            col=col,
        )
    fig.update_yaxes(autorange="reversed", showticklabels=False, ticks="", showgrid=False, zeroline=False)
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False)
    fig.update_layout(template=TEMPLATE, height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10}, font=FONT)
    return fig


def grad_norms_figure(grad_norms: Sequence[tuple[str, float]]) -> go.Figure:
    """The size (L2 norm) of every parameter tensor's gradient after backward."""
    names = [n for n, _ in grad_norms]
    values = [v for _, v in grad_norms]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=names,
            orientation="h",
            marker_color=OTHER_COLOR,
            hovertemplate="%{y}: ‖grad‖ = %{x:.4g}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        height=max(180, 34 * len(names) + 60),
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
        font={"size": 15, "color": "#111827"},
        xaxis_title="gradient size ‖∂L/∂w‖",
        yaxis={"autorange": "reversed"},
    )
    return fig


def loss_reveal_figure(p_before: torch.Tensor, p_after: torch.Tensor) -> go.Figure:
    """Each example's probability of its true class before and after the step."""
    x = [str(i) for i in range(int(p_before.shape[0]))]
    fig = go.Figure(
        [
            go.Bar(x=x, y=p_before.tolist(), name="before the step", marker_color=OTHER_COLOR),
            go.Bar(x=x, y=p_after.tolist(), name="after the step", marker_color=TRUE_COLOR),
        ]
    )
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        height=280,
        margin={"l": 50, "r": 10, "t": 30, "b": 40},
        font=FONT,
        yaxis={"range": [0, 1], "title": "p(true class)"},
        xaxis={"title": "image in the batch", "type": "category"},
        legend={"orientation": "h", "y": 1.15},
    )
    return fig
