"""The model builder's diagram: the network as pseudo-3D blocks (pure functions returning go.Figure).

Each block is a feature map after a shape-changing layer (Conv2d, pooling, Flatten, Linear); the
activations, BatchNorm and Dropout that follow it are listed on the same block. A block's height
follows the feature map's height, its oblique depth the width, and its thickness the channel
count, so a student sees the image shrink while the channels grow. Vectors are thin bars.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import plotly.graph_objects as go

from cnnlib.spec import SHAPE_KEEPING, LayerSummary, ModelSpec, format_count, format_shape, summarize_partial

__all__ = ["spec_diagram"]


COLORS: dict[str, str] = {
    "input": "#9CA3AF",
    "Conv2d": "#1F5FBF",
    "MaxPool2d": "#E8871E",
    "AvgPool2d": "#E8871E",
    "AdaptiveAvgPool2d": "#C96F0E",
    "Flatten": "#7C3AED",
    "Linear": "#2E9E5B",
    "Residual": "#0F766E",
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
MIN_SLOT = 1.0  # the narrowest slot a block gets (thin bars too), plot units
REF_WIDTH_PX = 720.0  # the narrowest plot the labels are laid out for: 1280 px screen, sidebar open
CHAR_EM = 0.58  # width of a digit, ×, or most letters, in units of the font size (bold: a little more)
LINE_EM = 1.3  # line height, in units of the font size
LABEL_GAP_PX = 8.0  # the least space between two labels in a row
FONTS = (15, 14, 13, 12, 11)  # tried largest first


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
        b.labels.append(f"{row.index + 1}: {row.label}")  # layers counted from 1
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


def _text_em(line: str) -> float:
    """A rough width of one line of text in ems (proportional sans-serif: spaces and i/l/1 narrow)."""
    return sum(
        0.28 if ch == " " else 0.32 if ch in "ilj1.,:()[]|I" else 0.85 if ch in "MWmw" else CHAR_EM
        for ch in line
    )


def label_width_px(text: str, font: int) -> float:
    """Estimated width in pixels of an annotation's widest line."""
    lines = re.sub("</?b>", "", text).split("<br>")
    return max(_text_em(line) for line in lines) * font


def label_rows(centres_px: list[float], widths_px: list[float], max_rows: int = 3) -> list[int] | None:
    """The row of each label (0 nearest the blocks): all in row 0 when neighbours do not overlap, else
    2 (or up to max_rows) rows taken in turn; None when even max_rows rows would overlap."""
    pairs = list(zip(centres_px, widths_px, strict=True))

    def fits(step: int) -> bool:
        later = zip(pairs, pairs[step:], strict=False)  # each label and the next one in its row
        return all(c2 - c1 >= (w1 + w2) / 2 + LABEL_GAP_PX for (c1, w1), (c2, w2) in later)

    for n in range(1, max_rows + 1):
        if fits(n):
            return [i % n for i in range(len(pairs))]
    return None


def thin_labels(centres_px: list[float], widths_px: list[float], max_rows: int = 3) -> list[int | None]:
    """Rows for every k-th label (counted back from the last, which always shows) for the smallest k
    that fits; the others None: not drawn (their blocks keep the hover)."""
    n = len(centres_px)
    for k in range(1, n + 1):
        shown = [i for i in range(n) if (n - 1 - i) % k == 0]
        rows = label_rows([centres_px[i] for i in shown], [widths_px[i] for i in shown], max_rows)
        if rows is not None:
            out: list[int | None] = [None] * n
            for i, r in zip(shown, rows, strict=True):
                out[i] = r
            return out
    return [None] * n  # no labels at all


def _layout_labels(centres_px: list[float], tops: list[str], bottoms: list[str]) -> tuple[int, list, list]:
    """(font, row of each top label, row of each bottom label): the largest font in two rows, else in
    three, else the smallest font with some labels left out."""
    for max_rows in (2, 3):
        for font in FONTS:
            top = label_rows(centres_px, [label_width_px(t, font) for t in tops], max_rows)
            bottom = label_rows(
                centres_px[: len(bottoms)], [label_width_px(t, font) for t in bottoms], max_rows
            )
            if top is not None and bottom is not None:
                return font, top, bottom
    font = FONTS[-1]
    return (
        font,
        thin_labels(centres_px, [label_width_px(t, font) for t in tops]),
        thin_labels(centres_px[: len(bottoms)], [label_width_px(t, font) for t in bottoms]),
    )


def _annotation(x: float, y: float, text: str, font: int, color: str, anchor: str, shift: float) -> dict:
    return {
        "x": x,
        "y": y,
        "text": text,
        "showarrow": False,
        "yanchor": anchor,
        "yshift": shift,
        "font": {"size": font, "color": color},
    }


@dataclass
class _Placed:
    """The diagram's traces and label anchors, left to right; x: where the next slot starts."""

    traces: list[dict] = field(default_factory=list)
    centres: list[float] = field(default_factory=list)
    tops: list[str] = field(default_factory=list)
    bottoms: list[str] = field(default_factory=list)
    colors: list[str] = field(default_factory=list)
    x: float = 0.0


SKIP_HALF = 0.045  # half the thickness of a skip connection's band, plot units
SKIP_SHIFT = 0.15  # how far right of a block's centre a skip leaves it, and left of it one arrives


def _skip_traces(x_from: float, top_from: float, x_to: float, top_to: float, hover: str) -> list[dict]:
    """A Residual block's skip connection: a thin band up from the block before it (right of its
    centre), over, and down into the block (left of its centre, so two skips in a row stay apart),
    with an arrowhead; filled polygons, so the PNG picture paints them like the blocks."""
    t, level = SKIP_HALF, min(max(top_from, top_to) + 0.2, MAX_HEIGHT / 2 + MAX_DEPTH * 0.45 + 0.2)
    x_from, x_to = x_from + SKIP_SHIFT, x_to - SKIP_SHIFT
    band = [(x_from - t, top_from), (x_from - t, level + t), (x_to + t, level + t), (x_to + t, top_to + 0.15)]
    band += [
        (x_to - t, top_to + 0.15),
        (x_to - t, level - t),
        (x_from + t, level - t),
        (x_from + t, top_from),
    ]
    head = [(x_to - 3 * t, top_to + 0.18), (x_to + 3 * t, top_to + 0.18), (x_to, top_to)]
    traces = [
        _face_trace(band, COLORS["Residual"], hover, "skip"),
        _face_trace(head, COLORS["Residual"], hover, "skip"),
    ]
    for trace in traces:
        trace["line"] = {"color": COLORS["Residual"], "width": 1}
    return traces


def _place_blocks(blocks: list[Block], geometry: list[tuple[float, float, float]]) -> _Placed:
    """Every block in a slot at least MIN_SLOT wide, centred in it; its labels above and below; a
    Residual block's skip drawn from the block before it (its input) over to it."""
    placed = _Placed()
    top = 0.0  # the previous block's top edge
    for i, (b, (h, d, w)) in enumerate(zip(blocks, geometry, strict=True)):
        x = placed.x
        color = COLORS.get(b.kind, COLORS["other"])
        extent = w + d * 0.55
        slot = max(extent, MIN_SLOT)
        hover = (
            "<br>".join(b.labels)
            + f"<br><b>output {format_shape(b.shape)}</b>"
            + (f"<br>{format_count(b.params)} parameters" if b.params else "")
        )
        for face, shade in zip(_box(x + (slot - extent) / 2, -h / 2, w, h, d), (1.0, 1.25, 0.8), strict=True):
            placed.traces.append(_face_trace(face, _shade(color, shade), hover, f"block {i}"))
        if b.kind == "Residual" and placed.centres:
            hover = f"skip connection: the input of layer {b.indices[0] + 1} is added to its output"
            placed.traces += _skip_traces(placed.centres[-1], top, x + slot / 2, h / 2 + d * 0.45, hover)
        top = h / 2 + d * 0.45
        placed.centres.append(x + slot / 2)
        placed.tops.append("<br>".join(b.names[:3]))
        placed.bottoms.append(f"<b>{format_shape(b.shape)}</b>")
        placed.colors.append(color)
        placed.x += slot + GAP
    return placed


def _place_error_marker(placed: _Placed, error_index: int, error_type: str | None) -> None:
    """The red dashed box after the last block, where layer error_index breaks (a top label only)."""
    x = placed.x
    placed.traces.append(
        {
            "type": "scatter",
            "x": [x, x + 0.6, x + 0.6, x, x],
            "y": [-1, -1, 1, 1, -1],
            "mode": "lines",
            "fill": "toself",
            "fillcolor": "rgba(220,38,38,0.15)",
            "line": {"color": COLORS["error"], "width": 2, "dash": "dash"},
            "hoverinfo": "text",
            "text": f"layer {error_index + 1} cannot run",
            "showlegend": False,
            "name": "error",
        }
    )
    placed.centres.append(x + 0.3)
    placed.tops.append(f"{error_type or 'layer'} {error_index + 1}<br>breaks here")
    placed.colors.append(COLORS["error"])
    placed.x += 0.6 + GAP


def _label_annotations(
    placed: _Placed, px: float, top_y: float, bottom_y: float
) -> tuple[list[dict], int, float, float]:
    """(annotations, font, pixels needed above, pixels needed below) for the labels, at `px` a unit."""
    centres, tops, bottoms = placed.centres, placed.tops, placed.bottoms
    font, top_rows, bottom_rows = _layout_labels([c * px for c in centres], tops, bottoms)
    line = font * LINE_EM
    n_rows = 1 + max((r for r in top_rows if r is not None), default=0)
    row_lines = [
        max((t.count("<br>") + 1 for t, r in zip(tops, top_rows, strict=True) if r == k), default=0)
        for k in range(n_rows)
    ]
    top_shift = [sum(row_lines[:k]) * line + 4 * k for k in range(n_rows + 1)]  # px above the first row
    annotations = [
        _annotation(c, top_y, t, font, col, "bottom", top_shift[r])
        for c, t, col, r in zip(centres, tops, placed.colors, top_rows, strict=True)
        if r is not None
    ]
    annotations += [
        _annotation(c, bottom_y, t, font, "#111827", "top", -r * (line + 4))
        for c, t, r in zip(centres[: len(bottoms)], bottoms, bottom_rows, strict=True)
        if r is not None
    ]
    need_top = top_shift[n_rows] + 10
    need_bottom = (1 + max((r for r in bottom_rows if r is not None), default=0)) * (line + 4) + 10
    return annotations, font, need_top, need_bottom


def _widened(x_range: list[float], annotations: list[dict], font: int, px: float) -> list[float]:
    """The x range widened so the outermost labels are not cut at the plot's edges."""
    halves = [
        (a["x"], 1.1 * label_width_px(a["text"], font) / 2 / px)
        for a in annotations
        if a["yanchor"] != "middle"
    ]
    return [
        min([x_range[0]] + [c - h for c, h in halves]),
        max([x_range[1]] + [c + h for c, h in halves]),
    ]


def network_diagram_dict(
    input_shape: tuple[int, ...],
    summary: list[LayerSummary],
    error_index: int | None = None,
    error_type: str | None = None,
    height: int = 420,
) -> dict:
    """The diagram as a plain Plotly figure dict ({"data": [...], "layout": {...}}): see network_diagram.

    Labels are laid out for a plot REF_WIDTH_PX wide: the largest font at which neighbouring labels
    do not overlap, in one row or, when crowded, in two alternating rows.
    """
    blocks = group_blocks(input_shape, summary)
    top_y = MAX_HEIGHT / 2 + MAX_DEPTH * 0.45 + 0.25
    bottom_y = -MAX_HEIGHT / 2 - 0.25
    placed = _place_blocks(blocks, block_geometry(blocks))
    marker_x = placed.x
    if error_index is not None:
        _place_error_marker(placed, error_index, error_type)
    x_range = [-0.4, max(placed.x - GAP + 0.4, 4.0)]
    px = REF_WIDTH_PX / (x_range[1] - x_range[0])  # label fonts and rows, for a plot REF_WIDTH_PX wide
    annotations, font, need_top, need_bottom = _label_annotations(placed, px, top_y, bottom_y)
    if error_index is not None:
        annotations.append(_annotation(marker_x + 0.3, 0, "<b>✖</b>", 22, COLORS["error"], "middle", 0))
    x_range = _widened(x_range, annotations, font, px)
    # vertical range: room for the label rows above and below the blocks, in pixels
    per_unit = (height - 20 - need_top - need_bottom) / (top_y - bottom_y)
    layout = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "xaxis": {"visible": False, "range": x_range, "fixedrange": True},
        "yaxis": {
            "visible": False,
            "range": [bottom_y - need_bottom / per_unit, top_y + need_top / per_unit],
            "fixedrange": True,
        },
        "hoverlabel": {"font": {"size": 15}},
        "annotations": annotations,
    }
    return {"data": placed.traces, "layout": layout}


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
