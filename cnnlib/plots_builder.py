"""The model builder's diagram: the network as pseudo-3D blocks (pure functions returning go.Figure).

Each block is a feature map after a shape-changing layer (Conv2d, pooling, Flatten, Linear); the
activations, BatchNorm and Dropout that follow it are listed on the same block. A block's height
follows the feature map's height, its oblique depth the width, and its thickness the channel
count, so a student sees the image shrink while the channels grow. Vectors are thin bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import plotly.graph_objects as go

from cnnlib.spec import SHAPE_KEEPING, LayerSummary, ModelSpec, format_count, format_shape, summarize_partial

COLORS: dict[str, str] = {
    "input": "#9CA3AF",
    "Conv2d": "#1F5FBF",
    "MaxPool2d": "#E8871E",
    "AvgPool2d": "#E8871E",
    "AdaptiveAvgPool2d": "#C96F0E",
    "Flatten": "#7C3AED",
    "Linear": "#2E9E5B",
    "other": "#6B7280",
    "error": "#DC2626",
}
SHORT: dict[str, str] = {
    "Conv2d": "Conv",
    "MaxPool2d": "MaxPool",
    "AvgPool2d": "AvgPool",
    "AdaptiveAvgPool2d": "AdaptPool",
    "BatchNorm2d": "BN",
    "LeakyReLU": "LReLU",
    "Dropout2d": "Drop2d",
    "Dropout": "Drop",
}

MAX_HEIGHT = 4.0  # tallest block, plot units
MIN_HEIGHT = 0.35
MAX_DEPTH = 1.6
GAP = 0.9


@dataclass
class Block:
    """One drawn block: the layers it stands for and the shape they output."""

    kind: str  # "input" or the first layer's type
    shape: tuple[int, ...]
    names: list[str] = field(default_factory=list)  # short names, e.g. ["Conv 3x3", "ReLU"]
    labels: list[str] = field(default_factory=list)  # full labels for the hover
    indices: list[int] = field(default_factory=list)
    params: int = 0


def _short(row: LayerSummary) -> str:
    name = SHORT.get(row.type, row.type)
    if row.type in ("Conv2d", "MaxPool2d", "AvgPool2d"):
        inner = row.label[row.label.index("(") + 1 : -1].split(", ")
        kernel = next((p for p in inner if "x" in p and "→" not in p and "=" not in p), "")
        return f"{name} {kernel}".strip()
    return name


def group_blocks(input_shape: tuple[int, ...], summary: list[LayerSummary]) -> list[Block]:
    """The input, then one block per shape-changing layer with the shape-keeping layers after it."""
    blocks = [Block("input", tuple(input_shape), ["Input"], ["input image"], [], 0)]
    for row in summary:
        keeps = row.type in SHAPE_KEEPING and row.output_shape == blocks[-1].shape
        if not keeps:
            blocks.append(Block(row.type, row.output_shape))
        b = blocks[-1]
        b.names.append(_short(row))
        b.labels.append(f"{row.index}: {row.label}")
        b.indices.append(row.index)
        b.params += row.params
        b.shape = row.output_shape
    return blocks


def _box(x0: float, y0: float, w: float, h: float, d: float) -> list[list[tuple[float, float]]]:
    """Front, top and side faces of a pseudo-3D box whose front face is (x0, y0, w, h)."""
    ox, oy = d * 0.55, d * 0.45
    front = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)]
    top = [(x0, y0 + h), (x0 + w, y0 + h), (x0 + w + ox, y0 + h + oy), (x0 + ox, y0 + h + oy)]
    side = [(x0 + w, y0), (x0 + w + ox, y0 + oy), (x0 + w + ox, y0 + h + oy), (x0 + w, y0 + h)]
    return [front, top, side]


def _shade(hex_color: str, factor: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({min(255, int(r * factor))},{min(255, int(g * factor))},{min(255, int(b * factor))})"


def block_geometry(blocks: list[Block]) -> list[tuple[float, float, float]]:
    """(height, depth, thickness) of each block in plot units.

    Feature maps: height ∝ H, depth ∝ W (both relative to the largest map), thickness grows with
    log2 of the channel count. Vectors: height grows with log10 of the length, small depth.
    """
    maps = [b.shape for b in blocks if len(b.shape) == 3]
    vecs = [b.shape[0] for b in blocks if len(b.shape) == 1]
    h_max = max((s[1] for s in maps), default=1)
    w_max = max((s[2] for s in maps), default=1)
    c_max = max((s[0] for s in maps), default=1)
    f_max = max(vecs, default=1)
    out = []
    for b in blocks:
        if len(b.shape) == 3:
            c, h, w = b.shape
            height = max(MIN_HEIGHT, MAX_HEIGHT * h / h_max)
            depth = max(0.15, MAX_DEPTH * w / w_max)
            thick = 0.12 + 1.1 * math.log2(c + 1) / math.log2(c_max + 1)
        else:
            f = b.shape[0]
            height = max(MIN_HEIGHT, MAX_HEIGHT * 0.85 * math.log10(f + 1) / math.log10(max(f_max, 2) + 1))
            depth, thick = 0.12, 0.22
        out.append((height, depth, thick))
    return out


def _face_trace(face: list[tuple[float, float]], fill: str, hover: str, name: str) -> dict:
    xs, ys = zip(*(face + [face[0]]), strict=True)  # closed polygon
    return {
        "type": "scatter",
        "x": list(xs),
        "y": list(ys),
        "mode": "lines",
        "fill": "toself",
        "fillcolor": fill,
        "line": {"color": "white", "width": 1},
        "hoveron": "fills",
        "hoverinfo": "text",
        "text": hover,
        "name": name,
        "showlegend": False,
    }


def network_diagram_dict(
    input_shape: tuple[int, ...],
    summary: list[LayerSummary],
    error_index: int | None = None,
    error_type: str | None = None,
    height: int = 420,
) -> dict:
    """The diagram as a plain Plotly figure dict ({"data": [...], "layout": {...}}): see network_diagram."""
    blocks = group_blocks(input_shape, summary)
    geometry = block_geometry(blocks)
    traces: list[dict] = []
    annotations: list[dict] = []
    x = 0.0
    font = 15 if len(blocks) <= 10 else 13 if len(blocks) <= 16 else 11
    top_y = MAX_HEIGHT / 2 + MAX_DEPTH * 0.45 + 0.25
    for i, (b, (h, d, w)) in enumerate(zip(blocks, geometry, strict=True)):
        color = COLORS.get(b.kind, COLORS["other"])
        hover = (
            "<br>".join(b.labels)
            + f"<br><b>output {format_shape(b.shape)}</b>"
            + (f"<br>{format_count(b.params)} parameters" if b.params else "")
        )
        for face, shade in zip(_box(x, -h / 2, w, h, d), (1.0, 1.25, 0.8), strict=True):
            traces.append(_face_trace(face, _shade(color, shade), hover, f"block {i}"))
        cx = x + (w + d * 0.55) / 2
        annotations.append(
            {
                "x": cx,
                "y": top_y,
                "text": "<br>".join(b.names[:3]),
                "showarrow": False,
                "yanchor": "bottom",
                "font": {"size": font, "color": color},
            }
        )
        annotations.append(
            {
                "x": cx,
                "y": -MAX_HEIGHT / 2 - 0.25,
                "text": f"<b>{format_shape(b.shape)}</b>",
                "showarrow": False,
                "yanchor": "top",
                "font": {"size": font, "color": "#111827"},
            }
        )
        x += w + d * 0.55 + GAP
    if error_index is not None:
        traces.append(
            {
                "type": "scatter",
                "x": [x, x + 0.6, x + 0.6, x, x],
                "y": [-1, -1, 1, 1, -1],
                "mode": "lines",
                "fill": "toself",
                "fillcolor": "rgba(220,38,38,0.15)",
                "line": {"color": COLORS["error"], "width": 2, "dash": "dash"},
                "hoverinfo": "text",
                "text": f"layer {error_index} cannot run",
                "showlegend": False,
                "name": "error",
            }
        )
        annotations.append(
            {
                "x": x + 0.3,
                "y": 0,
                "text": "<b>✖</b>",
                "showarrow": False,
                "font": {"size": 22, "color": COLORS["error"]},
            }
        )
        annotations.append(
            {
                "x": x + 0.3,
                "y": top_y,
                "yanchor": "bottom",
                "showarrow": False,
                "text": f"{error_type or 'layer'} {error_index}<br>breaks here",
                "font": {"size": font, "color": COLORS["error"]},
            }
        )
        x += 0.6 + GAP
    layout = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "xaxis": {"visible": False, "range": [-0.4, max(x - GAP + 0.4, 4.0)], "fixedrange": True},
        "yaxis": {"visible": False, "range": [-MAX_HEIGHT / 2 - 1.1, top_y + 1.3], "fixedrange": True},
        "hoverlabel": {"font": {"size": 15}},
        "annotations": annotations,
    }
    return {"data": traces, "layout": layout}


def network_diagram(
    input_shape: tuple[int, ...],
    summary: list[LayerSummary],
    error_index: int | None = None,
    error_type: str | None = None,
    height: int = 420,
) -> go.Figure:
    """The network as blocks, left to right. error_index: add a red marker where the spec breaks.

    Built once from plain dicts and wrapped without plotly's per-property validation (14x faster
    than one add_trace per face; tests check the dict is valid Plotly, property by property).
    """
    return go.Figure(
        network_diagram_dict(input_shape, summary, error_index, error_type, height), _validate=False
    )


def spec_diagram(spec_json: str, height: int = 420) -> go.Figure:
    """The diagram of a spec given as JSON text (a short, cheap cache key for pages that share figures):
    its layers up to the first broken one, with the red marker there."""
    spec = ModelSpec.from_json(spec_json)
    rows, err = summarize_partial(spec)
    return network_diagram(
        spec.input_shape,
        rows,
        err.layer_index if err is not None else None,
        err.layer_type if err is not None else None,
        height,
    )
