"""Formatting and explaining model specs for the pages: shapes, counts, bytes, table rows.

`format_shape`, `format_count`, `format_bytes` and `format_rf` turn numbers into the short text
the pages show; `summary_records` makes the summary table's rows; `explain_params` shows how a
layer's parameter count arises ("1 in × 4 out × 3 × 3 kernel = 36 weights + 4 biases = 40").
"""

from __future__ import annotations

from typing import Any

from cnnlib.spec.analysis import LayerSummary, summarize
from cnnlib.spec.fields import as_pair
from cnnlib.spec.model import ModelSpec

__all__ = ["format_shape", "explain_params", "format_count", "format_bytes", "summary_records", "block_lines"]


def format_shape(shape: tuple[int, ...]) -> str:
    """(8, 14, 14) -> "8 × 14 × 14"; (10,) -> "10"."""
    return " × ".join(str(s) for s in shape)


def explain_params(spec: ModelSpec, index: int) -> str:
    """How layer `index`'s parameter count arises, e.g. "1 × 4 × 3 × 3 weights + 4 biases = 40"."""
    s = summarize(spec)[index]
    layer = spec.layers[index]
    p = layer.params
    if layer.type == "Conv2d":
        k = as_pair(p["kernel_size"])
        cin, cout = s.input_shape[0], s.output_shape[0]
        text = f"{cin} in × {cout} out × {k[0]} × {k[1]} kernel = {cin * cout * k[0] * k[1]:,} weights"
        if p["bias"]:
            text += f" + {cout:,} biases"
        return f"{text} = {s.params:,}"
    if layer.type == "Linear":
        fin, fout = s.input_shape[0], s.output_shape[0]
        text = f"{fin:,} in × {fout:,} out = {fin * fout:,} weights"
        if p["bias"]:
            text += f" + {fout:,} biases"
        return f"{text} = {s.params:,}"
    if layer.type == "BatchNorm2d":
        c = s.input_shape[0]
        return f"{c} channels × 2 (a scale and a shift each) = {s.params:,} (plus 2 × {c} running statistics, not trained)"
    if layer.inner:
        body = sum(r.params for r in s.inner)
        text = f"{body:,} in its {len(s.inner)} inner layers"
        if s.params != body:
            text += f" + {s.params - body:,} in the skip's 1x1 conv and BatchNorm"
        return f"{text} = {s.params:,} (the addition itself learns nothing)"
    return f"{layer.type} has no parameters to learn"


def format_count(n: int) -> str:
    """12345678 -> "12.3 M", 26138 -> "26,138"."""
    if n >= 10_000_000:
        return f"{n / 1e6:.1f} M"
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} M"
    return f"{n:,}"


def format_bytes(n: float) -> str:
    """Bytes in B, KB, MB or GB (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}" if n / scale < 100 else f"{n / scale:.0f} {unit}"
    return f"{int(n)} B"


def format_rf(row: LayerSummary) -> str:
    """A receptive field for the table: "5 × 5", or "whole image" after a Linear layer."""
    if row.jump is None:
        return "whole image"
    rf = row.receptive_field
    return f"{rf} × {rf}" if isinstance(rf, int) else f"{rf[0]} × {rf[1]}"


def summary_records(summary: list[LayerSummary]) -> list[dict[str, Any]]:
    """Table rows: number (counted from 1, as students count), layer, output shape, params, % of total
    params, MACs, receptive field."""
    total = sum(s.params for s in summary) or 1
    return [
        {
            "#": s.index + 1,
            "layer": s.label,
            "output shape": format_shape(s.output_shape),
            "params": s.params,
            "% params": round(100.0 * s.params / total, 1),
            "MACs": s.macs,
            "receptive field": format_rf(s),
        }
        for s in summary
    ]


def block_lines(row: LayerSummary) -> list[str]:
    """A block's inside in words, one line per inner layer ("4.1 Conv2d(8→16, 3x3, s=2, p=1) → 16 × 14 × 14"),
    then its skip and the sum."""
    n = row.index + 1
    lines = [f"{n}.{r.index + 1} {r.label} → {format_shape(r.output_shape)}" for r in row.inner]
    skip = "the input itself (identity)" if row.skip == "identity" else f"{row.skip} of the input"
    return [
        *lines,
        f"skip: {skip}; output = layer {n}.{len(row.inner)} + skip → {format_shape(row.output_shape)}",
    ]
