"""The shape formulas explained: their LaTeX with the numbers put in, and one layer worked out.

For st.latex, step by step: conv2d_formula_latex, pool2d_formula_latex (ceil_mode too),
conv_transpose2d_formula_latex, params_latex; refused_formulas shows the formula of a layer
torch refuses because an output size comes out below 1. single_layer gathers everything the
single-layer calculator shows (shapes, formulas, parameters, unread pixels, the sliding picture)
into a LayerResult. The numbers themselves come from cnnlib.shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnnlib.shapes.checks import LAYER_KINDS, ShapeError, as_pair, check_int, normalize_padding
from cnnlib.shapes.formulas import (
    IntPair,
    check_pool,
    check_transpose,
    conv2d_output_hw,
    conv2d_params,
    conv_pads,
    conv_transpose2d_output_hw,
    conv_transpose2d_params,
    layer_output_hw,
    pool2d_output_hw,
)
from cnnlib.shapes.window import SlidingAxis, sliding_axis, uncovered_indices, uncovered_reasons

MAX_DRAWN_CELLS = 400
"""single_layer builds the sliding picture's axes only up to this many cells a side."""


# ----------------------------------------------------------------------------------------------
# Parameters


def params_latex(in_channels: int, out_channels: int, kernel: IntPair, bias: bool = True) -> str:
    """The parameter count with the numbers put in, for st.latex."""
    kh, kw = as_pair(kernel, "kernel")
    total = conv2d_params(in_channels, out_channels, kernel, bias)
    weights = out_channels * in_channels * kh * kw
    head = (
        rf"\underbrace{{{out_channels} \cdot {in_channels} \cdot {kh} \cdot {kw}}}"
        r"_{\text{out}\cdot\text{in}\cdot k_h \cdot k_w}"
    )
    if bias:
        return rf"{head} + \underbrace{{{out_channels}}}_{{\text{{bias}}}} = {weights:,} + {out_channels:,} = {total:,}"
    return rf"{head} = {total:,} \quad (\text{{no bias}})"


# ----------------------------------------------------------------------------------------------
# LaTeX, step by step


def _decimal(num: int, den: int) -> str:
    """num/den as a short decimal: exact if it is, else 2 decimals and an ellipsis."""
    q = num / den
    if num % den == 0:
        return str(num // den)
    text = f"{q:.2f}".rstrip("0").rstrip(".")
    return text if round(q, 2) == q else text + r"\ldots"


def _conv_like_latex(
    size: int, kernel: int, stride: int, before: int, after: int, dilation: int, ceil: bool, pool_fix: bool
) -> str:
    lo, hi = (r"\lceil", r"\rceil") if ceil else (r"\lfloor", r"\rfloor")
    big_lo, big_hi = (r"\left\lceil", r"\right\rceil") if ceil else (r"\left\lfloor", r"\right\rfloor")
    if before == after:
        pad_sym, pad_num = "2p", rf"2\cdot {before}"
    else:
        pad_sym, pad_num = r"p_{\text{before}} + p_{\text{after}}", f"{before} + {after}"
    numerator = size + before + after - dilation * (kernel - 1) - 1
    quotient = -(-numerator // stride) if ceil else numerator // stride
    out = quotient + 1
    lines = [
        rf"\text{{out}} &= {big_lo} \frac{{\text{{in}} + {pad_sym} - d\,(k-1) - 1}}{{s}} {big_hi} + 1",
        rf"&= {big_lo} \frac{{{size} + {pad_num} - {dilation}\cdot({kernel}-1) - 1}}{{{stride}}} {big_hi} + 1",
        rf"&= {big_lo} \frac{{{numerator}}}{{{stride}}} {big_hi} + 1",
    ]
    if numerator % stride:
        lines.append(rf"&= {lo} {_decimal(numerator, stride)} {hi} + 1")
    lines.append(rf"&= {quotient} + 1 = {out}")
    if pool_fix and ceil and (out - 1) * stride >= size + before:
        lines.append(
            rf"&\text{{last window would start at }} ({out}-1)\cdot {stride} = {(out - 1) * stride}"
            rf" \ge \text{{in}} + p = {size + before}\text{{: dropped}}"
        )
        out -= 1
        lines.append(rf"&= {out}")
    if out < 1:
        lines.append(r"&\text{below 1 pixel: PyTorch refuses}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def conv2d_formula_latex(
    size: int, kernel: int, stride: int = 1, padding: int | str = 0, dilation: int = 1
) -> str:
    """nn.Conv2d's size formula for one dimension, with the numbers put in step by step.

    Settings are checked as in conv2d_output_size, except that an output below 1 is shown
    (marked as refused) rather than raised, so a student sees why.
    """
    size, kernel = check_int(size, "size"), check_int(kernel, "kernel")
    stride, dilation = check_int(stride, "stride"), check_int(dilation, "dilation")
    padding = normalize_padding(padding)
    before, after = conv_pads(size, kernel, stride, padding, dilation)
    body = _conv_like_latex(size, kernel, stride, before, after, dilation, ceil=False, pool_fix=False)
    if padding == "same":
        total = dilation * (kernel - 1)
        note = (
            rf"\text{{padding=``same'': }} d\,(k-1) = {dilation}\cdot({kernel}-1) = {total}"
            rf" = {before}\ \text{{before}} + {after}\ \text{{after}} \\ "
        )
        body = body.replace(r"\begin{aligned}", r"\begin{aligned}&" + note, 1)
    return body


def pool2d_formula_latex(
    size: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> str:
    """nn.MaxPool2d / nn.AvgPool2d's size formula for one dimension, step by step (ceil_mode too)."""
    size = check_int(size, "size")
    kernel, stride, padding, dilation = check_pool(kernel, stride, padding, dilation)
    return _conv_like_latex(size, kernel, stride, padding, padding, dilation, bool(ceil_mode), pool_fix=True)


def conv_transpose2d_formula_latex(
    size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> str:
    """nn.ConvTranspose2d's size formula for one dimension, step by step."""
    size, kernel = check_int(size, "size"), check_int(kernel, "kernel")
    stride, padding = check_int(stride, "stride"), check_int(padding, "padding")
    output_padding, dilation = check_int(output_padding, "output_padding"), check_int(dilation, "dilation")
    check_transpose(stride, padding, output_padding, dilation)
    a, b, c = (size - 1) * stride, 2 * padding, dilation * (kernel - 1)
    out = a - b + c + output_padding + 1
    lines = [
        r"\text{out} &= (\text{in}-1)\cdot s - 2p + d\,(k-1) + \text{op} + 1",
        rf"&= ({size}-1)\cdot {stride} - 2\cdot {padding} + {dilation}\cdot({kernel}-1) + {output_padding} + 1",
        rf"&= {a} - {b} + {c} + {output_padding} + 1 = {out}",
    ]
    if out < 1:
        lines.append(r"&\text{below 1 pixel: PyTorch refuses}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


# ----------------------------------------------------------------------------------------------
# A refused layer's formula


def refused_formulas(
    kind: str,
    size: IntPair,
    kernel: IntPair,
    stride: IntPair | None = 1,
    padding: IntPair | str = 0,
    dilation: IntPair = 1,
    output_padding: IntPair = 0,
    ceil_mode: bool = False,
) -> list[tuple[str, str]]:
    """For a layer torch refuses because an output size comes out below 1: the formula that shows it.

    [(axis, latex)], axis "Height", "Width" or "Height and width"; [] when the settings cannot be
    put in the formula at all (stride 0, pool padding over half the kernel, text, ...) or every
    size is fine.
    """
    try:
        pads = (padding, padding) if isinstance(padding, str) else as_pair(padding, "padding")
        per_dim = zip(
            as_pair(size, "size"),
            as_pair(kernel, "kernel"),
            as_pair(stride, "stride") if stride is not None else (None, None),
            pads,
            as_pair(dilation, "dilation"),
            as_pair(output_padding, "output_padding"),
            strict=True,
        )
        found: list[tuple[str, str | None]] = []
        for axis, (n, k, st, p, d, op) in zip(("Height", "Width"), per_dim, strict=True):
            try:
                layer_output_hw(kind, n, kernel_size=k, stride=st if st is not None or "Pool" in kind else 1,
                                padding=p, dilation=d, output_padding=op, ceil_mode=ceil_mode)  # fmt: skip
                found.append((axis, None))
                continue
            except ShapeError as e:
                too_small = "would have" in str(e) or "doesn't fit" in str(e)
                if e.field not in ("kernel", "padding") or not too_small:
                    return []  # refused for another reason: the formula can't show it
            if kind == "Conv2d":
                tex = conv2d_formula_latex(n, k, st, p, d)
            elif kind == "ConvTranspose2d":
                tex = conv_transpose2d_formula_latex(n, k, st, p, op, d)
            else:
                tex = pool2d_formula_latex(n, k, st, p, d if kind == "MaxPool2d" else 1, ceil_mode)
            found.append((axis, tex))
    except ShapeError:
        return []
    shown = [(axis, tex) for axis, tex in found if tex is not None]
    if len(shown) == 2 and shown[0][1] == shown[1][1]:
        return [("Height and width", shown[0][1])]
    return shown


# ----------------------------------------------------------------------------------------------
# Everything the single-layer calculator shows


@dataclass(frozen=True)
class LayerResult:
    """One layer worked out: shapes, formulas, parameters, unread pixels, the sliding picture."""

    kind: str
    input_shape: tuple[int, int, int]  # [C, H, W]
    output_shape: tuple[int, int, int]  # [C, H, W]
    params: int
    params_latex: str | None  # None for pooling (no parameters)
    latex_h: str
    latex_w: str
    uncovered_rows: list[int]
    uncovered_cols: list[int]
    rows: SlidingAxis | None  # None: too big to draw (over MAX_DRAWN_CELLS cells a side)
    cols: SlidingAxis | None
    uncovered_why_rows: list[str] = field(default_factory=list)  # uncovered_reasons, for rows
    uncovered_why_cols: list[str] = field(default_factory=list)

    @property
    def square(self) -> bool:
        """Whether height and width share one formula (same numbers)."""
        return self.latex_h == self.latex_w


def single_layer(
    kind: str,
    size: IntPair,
    kernel: IntPair,
    stride: IntPair | None = 1,
    padding: IntPair | str = 0,
    dilation: IntPair = 1,
    output_padding: IntPair = 0,
    ceil_mode: bool = False,
    in_channels: int = 1,
    out_channels: int = 1,
    bias: bool = True,
) -> LayerResult:
    """Work out one layer for the calculator; ShapeError (with .field) if torch would refuse it."""
    cin = check_int(in_channels, "in_channels", 1)
    if kind in ("MaxPool2d", "AvgPool2d"):
        if kind == "AvgPool2d":
            dilation = 1
        hw = pool2d_output_hw(size, kernel, stride, padding, dilation, ceil_mode)  # type: ignore[arg-type]
        cout, params, p_latex = cin, 0, None
    elif kind == "Conv2d":
        hw = conv2d_output_hw(size, kernel, stride or 0, padding, dilation)
        cout = check_int(out_channels, "out_channels", 1)
        params, p_latex = conv2d_params(cin, cout, kernel, bias), params_latex(cin, cout, kernel, bias)
    elif kind == "ConvTranspose2d":
        hw = conv_transpose2d_output_hw(size, kernel, stride or 0, padding, output_padding, dilation)  # type: ignore[arg-type]
        cout = check_int(out_channels, "out_channels", 1)
        params, p_latex = (
            conv_transpose2d_params(cin, cout, kernel, bias),
            params_latex(cin, cout, kernel, bias),
        )
    else:
        raise ShapeError(f"Unknown layer type {kind!r}: use one of {', '.join(LAYER_KINDS)}.")
    pad_pair = (padding, padding) if isinstance(padding, str) else as_pair(padding, "padding")
    per_dim = list(
        zip(
            as_pair(size, "size"),
            as_pair(kernel, "kernel"),
            as_pair(stride, "stride") if stride is not None else (None, None),
            pad_pair,
            as_pair(dilation, "dilation"),
            as_pair(output_padding, "output_padding"),
            strict=True,
        )
    )
    latex, uncovered, why, axes = [], [], [], []
    for (n, k, s, p, d, op), word in zip(per_dim, ("row", "column"), strict=True):
        if kind == "Conv2d":
            latex.append(conv2d_formula_latex(n, k, s, p, d))
            uncovered.append(uncovered_indices(n, k, s, p, d))
            why.append(uncovered_reasons(n, k, s, p, d, word=word))
        elif kind == "ConvTranspose2d":
            latex.append(conv_transpose2d_formula_latex(n, k, s, p, op, d))
            uncovered.append([])
            why.append([])
        else:
            latex.append(pool2d_formula_latex(n, k, s, p, d, ceil_mode))
            uncovered.append(uncovered_indices(n, k, s, p, d, ceil_mode, pool=True))
            why.append(uncovered_reasons(n, k, s, p, d, ceil_mode, pool=True, word=word))
        try:
            axes.append(sliding_axis(kind, n, k, s, p, d, op, ceil_mode, limit=MAX_DRAWN_CELLS))
        except ShapeError:  # too big to draw; the sizes themselves were checked above
            axes.append(None)
    hs, ws = as_pair(size, "size")
    return LayerResult(
        kind=kind,
        input_shape=(cin, int(hs), int(ws)),
        output_shape=(cout, hw[0], hw[1]),
        params=params,
        params_latex=p_latex,
        latex_h=latex[0],
        latex_w=latex[1],
        uncovered_rows=uncovered[0],
        uncovered_cols=uncovered[1],
        rows=axes[0],
        cols=axes[1],
        uncovered_why_rows=why[0],
        uncovered_why_cols=why[1],
    )
