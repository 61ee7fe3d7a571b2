"""Output-size formulas for conv and pool layers, their LaTeX, and receptive-field arithmetic.

Everything here is plain integer arithmetic (no torch), written to agree with PyTorch's own
layers (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ConvTranspose2d) case for case: the sizes
they produce, and ShapeError exactly where they refuse. tests/test_shapes.py checks that
against torch over thousands of random cases.

Per dimension (one int each):
    conv2d_output_size, pool2d_output_size, conv_transpose2d_output_size
For (height, width) pairs (each argument an int or a pair):
    conv2d_output_hw, pool2d_output_hw, conv_transpose2d_output_hw, layer_output_hw
Teaching helpers:
    *_formula_latex (the formula with the numbers put in, step by step, for st.latex),
    conv2d_params / conv_transpose2d_params, uncovered_indices and uncovered_reasons (which
    input pixels no window reads, and why), refused_formulas (the formula showing an output size
    below 1), sliding_axis (the window's positions for the sliding picture),
    receptive_field_step / receptive_field_stack,
    single_layer (everything the single-layer calculator shows), stack_shapes (a chain of
    layers written as spec layer dicts), parse_int (text box -> int with a clear message).

Every number is capped at MAX_VALUE (100,000): no real layer comes near it, and it keeps the
arithmetic, the pictures and the messages sane when someone types 10^12.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

MAX_VALUE = 100_000
"""The largest size, kernel, stride, padding, dilation or channel count accepted."""

MAX_DRAWN_CELLS = 400
"""single_layer builds the sliding picture's axes only up to this many cells a side."""

LAYER_KINDS = ("Conv2d", "MaxPool2d", "AvgPool2d", "ConvTranspose2d")
"""The layer types of the single-layer calculator."""

PADDING_WORDS = ("same", "valid")

_NAMES = {
    "size": "input size",
    "kernel": "kernel size",
    "stride": "stride",
    "padding": "padding",
    "dilation": "dilation",
    "output_padding": "output padding",
    "channels": "number of channels",
    "in_channels": "input channels",
    "out_channels": "output channels",
}
_MINIMUM = {"size": 1, "kernel": 1, "stride": 1, "padding": 0, "dilation": 1, "output_padding": 0}
_WHY_MINIMUM = {
    "size": "an image needs at least one pixel",
    "kernel": "a window needs at least one pixel",
    "stride": "the window moves forward at least one pixel a step (a stride of 0 would never move it)",
    "dilation": "1 means no gaps between kernel taps",
    "padding": "padding adds pixels, it can't remove them",
    "output_padding": "output padding adds pixels, it can't remove them",
}


class ShapeError(ValueError):
    """A layer's settings that PyTorch would refuse, explained in words.

    field: which setting is at fault ("size", "kernel", "stride", "padding", "dilation",
    "output_padding", "channels", ...) or None; layer_index: the layer in a stack, or None.
    """

    def __init__(self, message: str, field: str | None = None, layer_index: int | None = None):
        super().__init__(message)
        self.field = field
        self.layer_index = layer_index


# ----------------------------------------------------------------------------------------------
# Checking and parsing numbers


def check_int(value: object, field: str, minimum: int | None = None, maximum: int = MAX_VALUE) -> int:
    """Return value as an int if it is a whole number in [minimum, maximum], else raise ShapeError.

    bool, float (even 3.0) and str are refused, as torch's layers refuse them.
    """
    name = _NAMES.get(field, field.replace("_", " "))
    if minimum is None:
        minimum = _MINIMUM.get(field, 1)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ShapeError(f"The {name} must be a whole number, like 3 (got {value!r}).", field)
    v = int(value)
    if v < minimum:
        why = _WHY_MINIMUM.get(field)
        least = "can't be negative" if minimum == 0 else f"must be at least {minimum}"
        raise ShapeError(f"The {name} {least} (got {v}){': ' + why if why else ''}.", field)
    if v > maximum:
        raise ShapeError(
            f"The {name} {v:,} is too large: this calculator accepts values up to {maximum:,}.", field
        )
    return v


_POWER = re.compile(r"^([+-]?\d+)\s*(?:\^|\*\*)\s*(\d+)$")


def parse_int(text: str, field: str, minimum: int | None = None, maximum: int = MAX_VALUE) -> int:
    """Read a whole number typed in a text box; ShapeError with a clear message otherwise.

    Accepts surrounding spaces, "+3", "1_000", "1,000" and powers like "10^12" or "2**5" (which
    are then checked against the range like any number).
    """
    name = _NAMES.get(field, field.replace("_", " "))
    s = str(text).strip().replace(",", "").replace("_", "")
    if not s:
        raise ShapeError(f"Type a whole number for the {name}.", field)
    m = _POWER.match(s)
    try:
        if m and int(m.group(2)) <= 64:
            value = int(m.group(1)) ** int(m.group(2))
        elif m:
            value = 10**100  # far too large either way
        else:
            value = int(s)
    except ValueError:
        try:
            f = float(s)
        except ValueError:
            raise ShapeError(
                f"The {name} must be a whole number, like 3 (got {text.strip()!r}).", field
            ) from None
        if math.isfinite(f) and f == int(f):
            value = int(f)  # "1e12" or "3.0": a whole number written as a decimal
        else:
            raise ShapeError(
                f"The {name} must be a whole number, like 3 (got {text.strip()!r}): pixels come whole.", field
            ) from None
    return check_int(value, field, minimum, maximum)


def _pair(value: object, field: str) -> tuple[object, object]:
    """An int (or anything) -> (value, value); a 2-sequence -> a tuple; refuse other lengths."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ShapeError(
                f"The {_NAMES.get(field, field)} must be one number or a (height, width) pair "
                f"(got {list(value)}).",
                field,
            )
        return value[0], value[1]
    return value, value


def _padding(value: object) -> int | str:
    if isinstance(value, str):
        if value not in PADDING_WORDS:
            raise ShapeError(f'Padding must be a whole number, "same" or "valid" (got {value!r}).', "padding")
        return value
    return check_int(value, "padding")


# ----------------------------------------------------------------------------------------------
# One dimension


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """The (before, after) padding torch uses for padding="same": d*(k-1) split, extra after."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def _conv_pads(size: int, kernel: int, stride: int, padding: int | str, dilation: int) -> tuple[int, int]:
    """Validate a conv's settings for one dimension; return the (before, after) padding."""
    if padding == "same":
        if stride != 1:
            raise ShapeError(
                f'padding="same" needs stride 1 (got stride {stride}): with a bigger stride the output '
                "can't keep the input's size, so PyTorch refuses it. Use a number for the padding.",
                "padding",
            )
        return same_padding(kernel, dilation)
    if padding == "valid":
        return 0, 0
    return padding, padding  # type: ignore[return-value]


def _px(n: int) -> str:
    return f"{n} pixel" if n == 1 else f"{n} pixels"


def _too_small_conv(size: int, kernel: int, dilation: int, before: int, after: int) -> ShapeError:
    span = dilation * (kernel - 1) + 1
    dil = f" (kernel {kernel} with dilation {dilation})" if dilation > 1 else ""
    pad = f" ({size} + {before + after} padding)" if before + after else ""
    return ShapeError(
        f"The kernel spans {_px(span)}{dil} but the padded input is only {_px(size + before + after)}"
        f"{pad}: the window doesn't fit even once. Use a smaller kernel or dilation, more "
        "padding, or a bigger input.",
        "kernel",
    )


def conv2d_output_size(
    size: int, kernel: int, stride: int = 1, padding: int | str = 0, dilation: int = 1
) -> int:
    """nn.Conv2d's output size along one dimension.

    out = floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1; padding may also be
    "same" (stride 1 only; the output keeps the input's size) or "valid" (no padding).
    """
    size = check_int(size, "size")
    kernel = check_int(kernel, "kernel")
    stride = check_int(stride, "stride")
    dilation = check_int(dilation, "dilation")
    padding = _padding(padding)
    before, after = _conv_pads(size, kernel, stride, padding, dilation)
    numerator = size + before + after - dilation * (kernel - 1) - 1
    if numerator < 0:
        raise _too_small_conv(size, kernel, dilation, before, after)
    return numerator // stride + 1


def _pool_raw(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool):
    """(out before the ceil-mode fix, out after it, whether the fix dropped a window)."""
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-numerator // stride) + 1
        dropped = (out - 1) * stride >= size + padding
        return out, out - 1 if dropped else out, dropped
    out = numerator // stride + 1
    return out, out, False


def _check_pool(kernel: int, stride: int | None, padding: int, dilation: int) -> tuple[int, int, int, int]:
    kernel = check_int(kernel, "kernel")
    stride = kernel if stride is None else check_int(stride, "stride")
    padding = check_int(padding, "padding")
    dilation = check_int(dilation, "dilation")
    if padding > kernel // 2:
        raise ShapeError(
            f"Pooling padding can be at most half the kernel: kernel {kernel} allows padding up to "
            f"{kernel // 2} (got {padding}). More and a window could sit entirely on padding, so "
            "PyTorch refuses it.",
            "padding",
        )
    return kernel, stride, padding, dilation


def pool2d_output_size(
    size: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """nn.MaxPool2d's (and, with dilation 1, nn.AvgPool2d's) output size along one dimension.

    stride None means stride = kernel (torch's default). With ceil_mode the division rounds up,
    but, as in torch, a last window that would start beyond the input and its left padding is
    dropped. Padding must be at most kernel // 2.
    """
    size = check_int(size, "size")
    kernel, stride, padding, dilation = _check_pool(kernel, stride, padding, dilation)
    if not isinstance(ceil_mode, bool):
        raise ShapeError(f"ceil_mode must be True or False (got {ceil_mode!r}).", "ceil_mode")
    _, out, _ = _pool_raw(size, kernel, stride, padding, dilation, ceil_mode)
    if out < 1:
        span = dilation * (kernel - 1) + 1
        raise ShapeError(
            f"The pooling window spans {_px(span)} but the padded input is only "
            f"{_px(size + 2 * padding)}: the output would have {_px(out)}. Use a smaller window "
            "or a bigger input.",
            "kernel",
        )
    return out


def _check_transpose(stride: int, padding: int, output_padding: int, dilation: int) -> None:
    if output_padding >= stride and output_padding >= dilation:
        raise ShapeError(
            f"Output padding must be smaller than the stride or the dilation (got output padding "
            f"{output_padding}, stride {stride}, dilation {dilation}): it only picks between output "
            "sizes that the stride makes ambiguous.",
            "output_padding",
        )


def conv_transpose2d_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> int:
    """nn.ConvTranspose2d's output size along one dimension.

    out = (size - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1, where
    output_padding must be smaller than the stride or the dilation.
    """
    size = check_int(size, "size")
    kernel = check_int(kernel, "kernel")
    stride = check_int(stride, "stride")
    if isinstance(padding, str):
        raise ShapeError('ConvTranspose2d takes a number for the padding, not "same" or "valid".', "padding")
    padding = check_int(padding, "padding")
    output_padding = check_int(output_padding, "output_padding")
    dilation = check_int(dilation, "dilation")
    _check_transpose(stride, padding, output_padding, dilation)
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise ShapeError(
            f"The padding {padding} crops more than the transposed convolution makes: the output "
            f"would have {_px(out)}. Use less padding (each unit of padding removes 2 pixels).",
            "padding",
        )
    return out


# ----------------------------------------------------------------------------------------------
# Height and width


def _per_dim(fn, args: dict[str, object]) -> tuple[int, int]:
    pairs = {
        k: _pair(v, k) if not (k == "padding" and isinstance(v, str)) else (v, v) for k, v in args.items()
    }
    h_args = {k: v[0] for k, v in pairs.items()}
    w_args = {k: v[1] for k, v in pairs.items()}
    try:
        h = fn(**h_args)
    except ShapeError as e:
        if h_args == w_args:
            raise
        raise ShapeError(f"Height: {e}", e.field) from None
    try:
        w = fn(**w_args)
    except ShapeError as e:
        raise ShapeError(f"Width: {e}", e.field) from None
    return h, w


IntPair = int | Sequence[int]


def conv2d_output_hw(
    size: IntPair, kernel: IntPair, stride: IntPair = 1, padding: IntPair | str = 0, dilation: IntPair = 1
) -> tuple[int, int]:
    """nn.Conv2d's output (height, width); each argument an int or an (h, w) pair."""
    args = {"size": size, "kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    return _per_dim(conv2d_output_size, args)


def pool2d_output_hw(
    size: IntPair,
    kernel: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
) -> tuple[int, int]:
    """nn.MaxPool2d's / nn.AvgPool2d's output (height, width); each argument an int or a pair."""
    args = {"size": size, "kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    return _per_dim(lambda **a: pool2d_output_size(**a, ceil_mode=ceil_mode), args)


def conv_transpose2d_output_hw(
    size: IntPair,
    kernel: IntPair,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    dilation: IntPair = 1,
) -> tuple[int, int]:
    """nn.ConvTranspose2d's output (height, width); each argument an int or a pair."""
    args = {
        "size": size,
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }
    return _per_dim(conv_transpose2d_output_size, args)


def layer_output_hw(kind: str, size: IntPair, **settings: object) -> tuple[int, int]:
    """Output (height, width) of a layer given by its type name and torch's argument names.

    kind: "Conv2d", "MaxPool2d", "AvgPool2d" or "ConvTranspose2d"; settings: kernel_size,
    stride, padding, dilation, output_padding, ceil_mode (as the layer's constructor takes them).
    """
    k = settings.get("kernel_size")
    if k is None:
        raise ShapeError(f"{kind} needs a kernel_size.", "kernel")
    if kind == "Conv2d":
        return conv2d_output_hw(
            size, k, settings.get("stride", 1), settings.get("padding", 0), settings.get("dilation", 1)
        )
    if kind in ("MaxPool2d", "AvgPool2d"):
        dilation = settings.get("dilation", 1) if kind == "MaxPool2d" else 1
        return pool2d_output_hw(
            size,
            k,
            settings.get("stride"),
            settings.get("padding", 0),
            dilation,
            bool(settings.get("ceil_mode", False)),
        )
    if kind == "ConvTranspose2d":
        return conv_transpose2d_output_hw(
            size,
            k,
            settings.get("stride", 1),
            settings.get("padding", 0),
            settings.get("output_padding", 0),
            settings.get("dilation", 1),
        )
    raise ShapeError(f"Unknown layer type {kind!r}: use one of {', '.join(LAYER_KINDS)}.")


# ----------------------------------------------------------------------------------------------
# Parameters


def conv2d_params(in_channels: int, out_channels: int, kernel: IntPair, bias: bool = True) -> int:
    """Learnable parameters of nn.Conv2d (groups=1): out*in*kh*kw weights + out biases."""
    cin = check_int(in_channels, "in_channels", 1)
    cout = check_int(out_channels, "out_channels", 1)
    kh, kw = (check_int(v, "kernel") for v in _pair(kernel, "kernel"))
    return cout * cin * kh * kw + (cout if bias else 0)


def conv_transpose2d_params(in_channels: int, out_channels: int, kernel: IntPair, bias: bool = True) -> int:
    """Learnable parameters of nn.ConvTranspose2d (groups=1): in*out*kh*kw weights + out biases."""
    return conv2d_params(in_channels, out_channels, kernel, bias)


def params_latex(in_channels: int, out_channels: int, kernel: IntPair, bias: bool = True) -> str:
    """The parameter count with the numbers put in, for st.latex."""
    kh, kw = _pair(kernel, "kernel")
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
    padding = _padding(padding)
    before, after = _conv_pads(size, kernel, stride, padding, dilation)
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
    kernel, stride, padding, dilation = _check_pool(kernel, stride, padding, dilation)
    return _conv_like_latex(size, kernel, stride, padding, padding, dilation, bool(ceil_mode), pool_fix=True)


def conv_transpose2d_formula_latex(
    size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> str:
    """nn.ConvTranspose2d's size formula for one dimension, step by step."""
    size, kernel = check_int(size, "size"), check_int(kernel, "kernel")
    stride, padding = check_int(stride, "stride"), check_int(padding, "padding")
    output_padding, dilation = check_int(output_padding, "output_padding"), check_int(dilation, "dilation")
    _check_transpose(stride, padding, output_padding, dilation)
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
# Which input pixels are never read


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
        before = int(padding)  # type: ignore[arg-type]
    else:
        out = conv2d_output_size(size, kernel, stride or 0, padding, dilation)
        before, _ = _conv_pads(size, kernel, int(stride or 0), _padding(padding), dilation)
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
        before = int(padding)  # type: ignore[arg-type]
    else:
        out = conv2d_output_size(size, kernel, stride or 0, padding, dilation)
        s = int(stride or 0)
        before, _ = _conv_pads(size, kernel, s, _padding(padding), dilation)
    span = dilation * (kernel - 1) + 1
    last = (out - 1) * s + span - 1 - before  # the input index the last window's last tap reads
    tail = [i for i in missed if i > last]
    inner = len(missed) - len(tail)
    reasons = []
    if inner:
        if s > span:
            reasons.append(
                f"the stride {s} is bigger than the window ({_px(span)} wide), so it jumps over "
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
        pads = (padding, padding) if isinstance(padding, str) else _pair(padding, "padding")
        per_dim = zip(
            _pair(size, "size"),
            _pair(kernel, "kernel"),
            _pair(stride, "stride") if stride is not None else (None, None),
            pads,
            _pair(dilation, "dilation"),
            _pair(output_padding, "output_padding"),
            strict=True,
        )
        found = []
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
                tex = conv2d_formula_latex(n, k, st, p, d)  # type: ignore[arg-type]
            elif kind == "ConvTranspose2d":
                tex = conv_transpose2d_formula_latex(n, k, st, p, op, d)  # type: ignore[arg-type]
            else:
                tex = pool2d_formula_latex(n, k, st, p, d if kind == "MaxPool2d" else 1, ceil_mode)  # type: ignore[arg-type]
            found.append((axis, tex))
    except ShapeError:
        return []
    shown = [(axis, tex) for axis, tex in found if tex is not None]
    if len(shown) == 2 and shown[0][1] == shown[1][1]:
        return [("Height and width", shown[0][1])]
    return shown


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

    if kind == "ConvTranspose2d":
        out = conv_transpose2d_output_size(size, kernel, stride or 1, padding, output_padding, dilation)  # type: ignore[arg-type]
        check_limit(out + dilation * (kernel - 1))
        s = int(stride or 1)
        cells: list[str] = []
        source: list[int | None] = []
        for i in range(size):
            if i:
                cells += ["zero"] * (s - 1)
                source += [None] * (s - 1)
            cells.append("input")
            source.append(i)
        q = dilation * (kernel - 1) - int(padding)
        left, right = q, q + output_padding
        cells = (
            ["pad"] * max(left, 0)
            + cells[max(-left, 0) : len(cells) - max(-right, 0)]
            + ["pad"] * max(right, 0)
        )
        source = (
            [None] * max(left, 0)
            + source[max(-left, 0) : len(source) - max(-right, 0)]
            + [None] * max(right, 0)
        )
        return SlidingAxis(tuple(cells), tuple(source), kernel, 1, dilation, out)
    if kind in ("MaxPool2d", "AvgPool2d"):
        out = pool2d_output_size(size, kernel, stride, padding, dilation, ceil_mode)  # type: ignore[arg-type]
        s = kernel if stride is None else int(stride)
        before = after = int(padding)  # type: ignore[arg-type]
    elif kind == "Conv2d":
        out = conv2d_output_size(size, kernel, stride or 0, padding, dilation)
        s = int(stride or 0)
        before, after = _conv_pads(size, kernel, s, _padding(padding), dilation)
    else:
        raise ShapeError(f"Unknown layer type {kind!r}: use one of {', '.join(LAYER_KINDS)}.")
    reach = (out - 1) * s + dilation * (kernel - 1) + 1  # cells the last window reaches
    check_limit(max(reach, before + size + after))
    cells = ["pad"] * before + ["input"] * size + ["pad"] * after
    source = [None] * before + list(range(size)) + [None] * after
    extra = max(0, reach - len(cells))
    return SlidingAxis(
        tuple(cells + ["off"] * extra), tuple(source + [None] * extra), kernel, s, dilation, out
    )


# ----------------------------------------------------------------------------------------------
# Receptive field


def receptive_field_step(
    rf: int, jump: int, kernel: int, stride: int = 1, dilation: int = 1
) -> tuple[int, int]:
    """Grow a receptive field through one layer.

    rf: receptive field (in input pixels) of one unit before the layer; jump: distance in input
    pixels between neighbouring units before the layer (the effective stride).
    Returns (rf, jump) after the layer: rf + (kernel - 1) * dilation * jump, jump * stride.
    """
    return rf + (kernel - 1) * dilation * jump, jump * stride


def receptive_field_stack(layers: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """(rf, jump) after each layer of a stack of (kernel, stride, dilation), starting at (1, 1)."""
    rf, jump, out = 1, 1, []
    for kernel, stride, dilation in layers:
        rf, jump = receptive_field_step(rf, jump, kernel, stride, dilation)
        out.append((rf, jump))
    return out


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
        params, p_latex = conv2d_params(cin, cout, kernel, bias), params_latex(cin, cout, kernel, bias)  # type: ignore[arg-type]
    elif kind == "ConvTranspose2d":
        hw = conv_transpose2d_output_hw(size, kernel, stride or 0, padding, output_padding, dilation)  # type: ignore[arg-type]
        cout = check_int(out_channels, "out_channels", 1)
        params, p_latex = (
            conv_transpose2d_params(cin, cout, kernel, bias),
            params_latex(cin, cout, kernel, bias),
        )  # type: ignore[arg-type]
    else:
        raise ShapeError(f"Unknown layer type {kind!r}: use one of {', '.join(LAYER_KINDS)}.")
    pad_pair = (padding, padding) if isinstance(padding, str) else _pair(padding, "padding")
    per_dim = list(
        zip(
            _pair(size, "size"),
            _pair(kernel, "kernel"),
            _pair(stride, "stride") if stride is not None else (None, None),
            pad_pair,
            _pair(dilation, "dilation"),
            _pair(output_padding, "output_padding"),
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
    hs, ws = _pair(size, "size")
    return LayerResult(
        kind=kind,
        input_shape=(cin, int(hs), int(ws)),  # type: ignore[call-overload]
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


# ----------------------------------------------------------------------------------------------
# A stack of layers (spec layer dicts)

SHAPE_KEEPING = {
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "GELU",
    "ELU",
    "SiLU",
    "Dropout",
    "Dropout2d",
    "Identity",
}


@dataclass
class StackRow:
    """One layer of a stack: its output shape, parameters and the receptive field after it.

    rf and jump are (height, width) in input pixels, or None where they stop being simple
    (after a transposed convolution, an uneven adaptive pool, or once the image is flattened).
    """

    index: int
    type: str
    label: str
    output_shape: tuple[int, ...]
    params: int
    rf: tuple[int, int] | None
    jump: tuple[int, int] | None


@dataclass
class StackResult:
    """Rows for the layers that worked, and the first layer's error (if any) with its index."""

    input_shape: tuple[int, ...]
    rows: list[StackRow] = field(default_factory=list)
    error: ShapeError | None = None
    error_type: str | None = None  # the refused layer's type


def _label(t: str, d: dict) -> str:
    def hw(v: object) -> str:
        a, b = _pair(v, "")
        return f"{a}" if a == b else f"{a}×{b}"

    if t in ("Conv2d", "ConvTranspose2d"):
        k = _pair(d.get("kernel_size", "?"), "")
        parts = [f"{k[0]}×{k[1]}", f"→ {d.get('out_channels', '?')} ch"]
        for key, short, default in (("stride", "s", 1), ("padding", "p", 0), ("dilation", "d", 1)):
            if d.get(key, default) != default:
                parts.append(f"{short}={hw(d[key])}")
        if t == "ConvTranspose2d" and d.get("output_padding", 0):
            parts.append(f"op={hw(d['output_padding'])}")
        return " ".join(parts)
    if t in ("MaxPool2d", "AvgPool2d"):
        k = _pair(d.get("kernel_size", "?"), "")
        parts = [f"{k[0]}×{k[1]}"]
        if d.get("stride") is not None:
            parts.append(f"s={hw(d['stride'])}")
        if d.get("padding", 0):
            parts.append(f"p={hw(d['padding'])}")
        if d.get("ceil_mode"):
            parts.append("ceil")
        return " ".join(parts)
    if t == "AdaptiveAvgPool2d":
        return f"→ {hw(d.get('output_size', '?'))}"
    if t == "Linear":
        return f"→ {d.get('out_features', '?')}"
    return ""


def _spatial(kind: str, shape: tuple[int, ...], i: int) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError(
            f"Layer {i + 1} ({kind}) needs an image shaped [C, H, W] but gets a flat vector of "
            f"{shape[0]:,} numbers: put it before the Flatten.",
            layer_index=i,
        )
    return shape  # type: ignore[return-value]


def _channels(kind: str, d: dict, key: str, have: int, i: int) -> None:
    want = d.get(key, "auto")
    if want not in ("auto", None) and want != have:
        raise ShapeError(
            f"Layer {i + 1} ({kind}) expects {want} channels/features ({key}) but receives {have}.",
            key,
            i,
        )


def stack_shapes(input_shape: Sequence[int], layers: Sequence[dict]) -> StackResult:
    """Shapes, parameters, receptive field and jump after each layer of a stack.

    input_shape: [C, H, W]; layers: spec layer dicts ({"type": "Conv2d", "out_channels": 16,
    "kernel_size": 3, ...}) with torch's argument names. Stops at the first layer torch would
    refuse (e.g. where a spatial size hits zero) and returns its ShapeError, .layer_index set.
    """
    if len(input_shape) != 3:
        raise ShapeError(f"The input shape must be [C, H, W] (got {list(input_shape)}).", "size")
    c = check_int(input_shape[0], "channels", 1)
    h, w = check_int(input_shape[1], "size"), check_int(input_shape[2], "size")
    result = StackResult(input_shape=(c, h, w))
    shape: tuple[int, ...] = (c, h, w)
    rf: tuple[int, int] | None = (1, 1)
    jump: tuple[int, int] | None = (1, 1)
    for i, d in enumerate(layers):
        t = str(d.get("type", "?"))
        params = 0
        try:
            if t in ("Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d"):
                c, h, w = _spatial(t, shape, i)
                settings = {k: v for k, v in d.items() if k != "type"}
                if t == "AvgPool2d":
                    settings.pop("dilation", None)
                oh, ow = layer_output_hw(t, (h, w), **settings)
                k = _pair(d["kernel_size"], "kernel")
                s = _pair(d.get("stride", 1 if "Conv" in t else None) or k, "stride")
                dil = _pair(d.get("dilation", 1) if t != "AvgPool2d" else 1, "dilation")
                if t in ("Conv2d", "ConvTranspose2d"):
                    _channels(t, d, "in_channels", c, i)
                    cout = check_int(d.get("out_channels"), "out_channels", 1)
                    params = conv2d_params(c, cout, k, bool(d.get("bias", True)))
                    c = cout
                if t == "ConvTranspose2d":
                    rf = jump = None
                elif rf is not None and jump is not None:
                    steps = [
                        receptive_field_step(rf[a], jump[a], int(k[a]), int(s[a]), int(dil[a]))
                        for a in (0, 1)
                    ]
                    rf, jump = (steps[0][0], steps[1][0]), (steps[0][1], steps[1][1])
                shape = (c, oh, ow)
            elif t == "AdaptiveAvgPool2d":
                c, h, w = _spatial(t, shape, i)
                o = _pair(d.get("output_size", 1), "size")
                oh, ow = (
                    (h if o[0] is None else check_int(o[0], "size")),
                    (w if o[1] is None else check_int(o[1], "size")),
                )
                if rf is not None and jump is not None:
                    new = []
                    for n, m, r, j in ((h, oh, rf[0], jump[0]), (w, ow, rf[1], jump[1])):
                        new.append(receptive_field_step(r, j, n // m, n // m) if n % m == 0 else None)
                    if None in new:
                        rf = jump = None
                    else:
                        rf, jump = (new[0][0], new[1][0]), (new[0][1], new[1][1])  # type: ignore[index]
                shape = (c, oh, ow)
            elif t == "BatchNorm2d":
                c, h, w = _spatial(t, shape, i)
                _channels(t, d, "num_features", c, i)
                params = 2 * c
            elif t == "Flatten":
                shape = (math.prod(shape),)
                rf = jump = None
            elif t == "Linear":
                if len(shape) != 1:
                    raise ShapeError(
                        f"Layer {i + 1} (Linear) needs a flat vector: add a Flatten before it "
                        f"(it gets shape {list(shape)}).",
                        layer_index=i,
                    )
                _channels(t, d, "in_features", shape[0], i)
                out = check_int(d.get("out_features"), "out_features", 1)
                params = shape[0] * out + (out if d.get("bias", True) else 0)
                shape = (out,)
            elif t in SHAPE_KEEPING:
                pass
            else:
                raise ShapeError(
                    f"Layer {i + 1}: the calculator doesn't know the layer type {t!r}.", layer_index=i
                )
        except ShapeError as e:
            msg = str(e)
            if not msg.startswith("Layer "):
                msg = f"Layer {i + 1} ({t}): {msg}"
            result.error, result.error_type = ShapeError(msg, e.field, i), t
            return result
        except (KeyError, TypeError) as e:
            result.error = ShapeError(f"Layer {i + 1} ({t}) is missing or has a bad setting: {e}.", None, i)
            result.error_type = t
            return result
        result.rows.append(StackRow(i, t, _label(t, d), shape, params, rf, jump))
    return result
