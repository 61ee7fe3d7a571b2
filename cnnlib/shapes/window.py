"""Where a layer's window goes: the input pixels it never reads, and the sliding picture's data.

uncovered_indices / uncovered_reasons: which input rows (or columns) no kernel tap reads, and
why (the tail the floor division leaves out; gaps from the stride or dilation); describe_indices
turns them into short text. sliding_axis lays out one axis of the conv_arithmetic-style picture
(padding, input pixels, inserted zeros) as a SlidingAxis that cnnlib.plots.sliding draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cnnlib.shapes.checks import ShapeError, normalize_padding
from cnnlib.shapes.formulas import conv2d_output_size, conv_pads, pixels_text, pool2d_output_size
from cnnlib.shapes.settings import LayerSettings

# ----------------------------------------------------------------------------------------------
# Which input pixels are never read


__all__ = ["uncovered_reasons", "describe_indices", "SlidingAxis", "sliding_axis"]


def uncovered_indices(
    size: int,
    kernel: int,
    stride: int | None = 1,
    padding: int | str = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    pool: bool = False,
) -> list[int]:
    """Input positions (0-based, without padding) that no kernel tap ever reads.

    The tail the floor division leaves out, and, with dilation, rows skipped between taps.
    pool=True uses pooling's rules (stride None = kernel, ceil_mode); else a convolution's.
    """
    if pool:
        out = pool2d_output_size(size, kernel, stride, padding, dilation, ceil_mode)  # type: ignore[arg-type]
        stride = kernel if stride is None else stride
        before = int(padding)
    else:
        out = conv2d_output_size(size, kernel, stride or 0, padding, dilation)
        before, _ = conv_pads(size, kernel, int(stride or 0), normalize_padding(padding), dilation)
    s = int(stride)  # type: ignore[arg-type]
    covered = np.zeros(size, dtype=bool)
    # Tap j of window o reads padded position o*s + j*d. Group taps by (j*d) mod s: within a
    # group, window starts form runs [q, q + out - 1] in units of s that can be merged.
    groups: dict[int, list[int]] = {}
    for j in range(kernel):
        groups.setdefault((j * dilation) % s, []).append((j * dilation) // s)
    for r, qs in groups.items():
        runs: list[list[int]] = []
        for q in sorted(qs):
            if runs and q <= runs[-1][1] + 1:
                runs[-1][1] = max(runs[-1][1], q + out - 1)
            else:
                runs.append([q, q + out - 1])
        for a, b in runs:
            start, stop = r + s * a - before, r + s * b - before  # input coordinates, inclusive
            if start < 0:
                start += math.ceil(-start / s) * s
            if start <= stop and start < size:
                covered[start : min(stop, size - 1) + 1 : s] = True
    return np.flatnonzero(~covered).tolist()


def uncovered_reasons(
    size: int,
    kernel: int,
    stride: int | None = 1,
    padding: int | str = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    pool: bool = False,
    word: str = "row",
) -> list[str]:
    """Why uncovered_indices(...) are never read, one phrase per cause ([] if every pixel is read).

    Two causes: the tail past the last window's last tap (the division rounded down), and gaps
    inside, where the stride jumps over pixels or dilation's taps skip some that no window fills.
    """
    missed = uncovered_indices(size, kernel, stride, padding, dilation, ceil_mode, pool)
    if not missed:
        return []
    if pool:
        out = pool2d_output_size(size, kernel, stride, padding, dilation, ceil_mode)  # type: ignore[arg-type]
        s = kernel if stride is None else int(stride)
        before = int(padding)
    else:
        out = conv2d_output_size(size, kernel, stride or 0, padding, dilation)
        s = int(stride or 0)
        before, _ = conv_pads(size, kernel, s, normalize_padding(padding), dilation)
    span = dilation * (kernel - 1) + 1
    last = (out - 1) * s + span - 1 - before  # the input index the last window's last tap reads
    tail = [i for i in missed if i > last]
    inner = len(missed) - len(tail)
    reasons = []
    if inner:
        if s > span:
            reasons.append(
                f"the stride {s} is bigger than the window ({pixels_text(span)} wide), so it jumps over "
                f"{s - span} {word}{'s' if s - span > 1 else ''} between windows"
            )
        else:
            reasons.append(
                f"dilation {dilation} spreads the taps {dilation} apart and a stride of {s} never fills the gaps"
            )
    if tail:
        n = len(tail)
        last_word = f"{word} {last}" if last >= 0 else "the padding"
        reasons.append(
            f"the last window ends at {last_word}, so the {n} {word}{'s' if n > 1 else ''} after it "
            f"{'are' if n > 1 else 'is'} never reached (the division rounds down)"
        )
    return reasons


def unread_pixels(axis: LayerSettings, word: str = "row") -> tuple[list[int], list[str]]:
    """One axis's input pixels no window reads, and why (uncovered_indices, uncovered_reasons).

    axis: the settings of one axis (LayerSettings.axes, after .applied()). A transposed
    convolution reads every input pixel: ([], []).
    """
    lk = axis.layer_kind
    if lk.transposed:
        return [], []
    args = (axis.size, axis.kernel, axis.stride, axis.padding, axis.dilation, axis.ceil_mode, lk.pool)
    return uncovered_indices(*args), uncovered_reasons(*args, word=word)  # type: ignore[arg-type]


def describe_indices(indices: Sequence[int], word: str = "row", limit: int = 8) -> str:
    """Indices as short text: "row 27", "rows 25-27", "rows 1, 3, 5, … (50 rows)"."""
    if not indices:
        return f"every {word} is read"
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and i == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    parts = [f"{a}" if a == b else f"{a}–{b}" for a, b in runs[:limit]]
    text = ", ".join(parts) + (", …" if len(runs) > limit else "")
    plural = word + "s" if len(indices) > 1 else word
    count = f" ({len(indices):,} {word}s)" if len(runs) > 1 else ""
    return f"{plural} {text}{count}"


# ----------------------------------------------------------------------------------------------
# The sliding picture


@dataclass(frozen=True)
class SlidingAxis:
    """One axis of the sliding picture: the drawn cells and where the window sits.

    cells: per drawn cell, "pad" (padding), "input" (an input pixel), "zero" (a zero a
    transposed convolution inserts between input pixels) or "off" (beyond the padded input,
    reached only by a ceil_mode window). source: the input index of each "input" cell, else None.
    The window slides over the drawn cells with `step`; `taps(o)` gives its cells for output o.
    """

    cells: tuple[str, ...]
    source: tuple[int | None, ...]
    kernel: int
    step: int
    dilation: int
    out_size: int

    def taps(self, o: int) -> list[int]:
        """Drawn-cell positions the window reads for output position o (dilation makes gaps)."""
        if not 0 <= o < self.out_size:
            raise ShapeError(f"Output position {o} is outside 0..{self.out_size - 1}.")
        return [o * self.step + j * self.dilation for j in range(self.kernel)]


def sliding_axis(
    kind: str,
    size: int,
    kernel: int,
    stride: int | None = 1,
    padding: int | str = 0,
    dilation: int = 1,
    output_padding: int = 0,
    ceil_mode: bool = False,
    limit: int | None = None,
) -> SlidingAxis:
    """The sliding picture for one axis of a layer (conv_arithmetic style).

    A transposed convolution is drawn as what it equals: a stride-1 convolution over the input
    with stride-1 zeros inserted between pixels and d*(k-1)-p padding each side (+ output
    padding after); where that padding is negative the stretched input is cropped.
    limit: refuse (ShapeError) to build an axis of more drawn cells than this.
    """

    def check_limit(cells: int) -> None:
        if limit is not None and cells > limit:
            raise ShapeError(f"The picture would need {cells:,} cells a side; it draws at most {limit:,}.")

    layer = LayerSettings(kind, size, kernel, stride, padding, dilation, output_padding, ceil_mode).applied()
    lk = layer.layer_kind
    out = lk.output_size(layer)
    dilation = int(layer.dilation)  # type: ignore[arg-type]
    if lk.transposed:
        return _stretched_axis(
            size, kernel, int(stride or 1), int(padding), dilation, output_padding, out, check_limit
        )
    if lk.pool:
        s = kernel if stride is None else int(stride)
        before = after = int(padding)
    else:
        s = int(stride or 0)
        before, after = conv_pads(size, kernel, s, normalize_padding(padding), dilation)
    reach = (out - 1) * s + dilation * (kernel - 1) + 1  # cells the last window reaches
    check_limit(max(reach, before + size + after))
    cells = ["pad"] * before + ["input"] * size + ["pad"] * after
    source = [None] * before + list(range(size)) + [None] * after
    extra = max(0, reach - len(cells))
    return SlidingAxis(
        tuple(cells + ["off"] * extra), tuple(source + [None] * extra), kernel, s, dilation, out
    )


def _stretched_axis(
    size: int,
    kernel: int,
    stride: int,
    padding: int,
    dilation: int,
    output_padding: int,
    out: int,
    check_limit: Callable[[int], None],
) -> SlidingAxis:
    """A transposed convolution's axis: the input stretched with stride - 1 zeros between pixels,
    padded (or cropped, where the padding comes out negative) by d*(k-1)-p each side."""
    check_limit(out + dilation * (kernel - 1))
    cells: list[str] = []
    source: list[int | None] = []
    for i in range(size):
        if i:
            cells += ["zero"] * (stride - 1)
            source += [None] * (stride - 1)
        cells.append("input")
        source.append(i)
    q = dilation * (kernel - 1) - padding
    left, right = q, q + output_padding
    cells = (
        ["pad"] * max(left, 0) + cells[max(-left, 0) : len(cells) - max(-right, 0)] + ["pad"] * max(right, 0)
    )
    source = (
        [None] * max(left, 0) + source[max(-left, 0) : len(source) - max(-right, 0)] + [None] * max(right, 0)
    )
    return SlidingAxis(tuple(cells), tuple(source), kernel, 1, dilation, out)
