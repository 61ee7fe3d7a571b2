"""The shape formulas as LaTeX, with the numbers put in step by step (for st.latex).

conv2d_formula_latex, pool2d_formula_latex (ceil_mode too) and conv_transpose2d_formula_latex
write one dimension's output-size formula; params_latex the parameter count. An output below 1
pixel is shown, marked as refused, rather than raised, so a student sees why. The numbers are
checked as cnnlib.shapes.formulas checks them.
"""

from __future__ import annotations

from cnnlib.shapes.checks import as_pair, check_int, normalize_padding
from cnnlib.shapes.formulas import IntPair, check_pool, check_transpose, conv2d_params, conv_pads

# ----------------------------------------------------------------------------------------------
# Parameters


__all__ = ["params_latex", "conv2d_formula_latex", "pool2d_formula_latex", "conv_transpose2d_formula_latex"]


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
