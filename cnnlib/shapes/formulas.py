"""Output-size formulas for conv and pool layers, and receptive-field arithmetic.

Everything here is plain integer arithmetic (no torch), written to agree with PyTorch's own
layers (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ConvTranspose2d) case for case: the sizes
they produce, and ShapeError exactly where they refuse. tests/test_shapes.py checks that
against torch over thousands of random cases.

Per dimension (one int each):
    conv2d_output_size, pool2d_output_size, conv_transpose2d_output_size
For (height, width) pairs (each argument an int or a pair):
    conv2d_output_hw, pool2d_output_hw, conv_transpose2d_output_hw (layer_output_hw, by the
    layer's type name, lives in cnnlib.shapes.settings with the other per-kind behaviour)
Also: conv2d_params / conv_transpose2d_params, receptive_field_step / receptive_field_stack,
same_padding. ShapeError and the checks of typed numbers live in cnnlib.shapes.checks.

The teaching helpers built on these live beside it: cnnlib.shapes.latex (the formulas' LaTeX
with the numbers put in), cnnlib.shapes.explain (single_layer: everything the single-layer
calculator shows),
cnnlib.shapes.window (which input pixels no window reads, the sliding picture's data) and
cnnlib.shapes.stack (a chain of layers with its receptive field).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cnnlib.shapes.checks import ShapeError, as_pair, check_int, normalize_padding

# ----------------------------------------------------------------------------------------------
# One dimension


__all__ = [
    "same_padding",
    "conv2d_output_size",
    "pool2d_output_size",
    "conv_transpose2d_output_size",
    "conv2d_output_hw",
    "pool2d_output_hw",
    "conv_transpose2d_output_hw",
    "conv2d_params",
    "conv_transpose2d_params",
    "receptive_field_step",
]


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """The (before, after) padding torch uses for padding="same": d*(k-1) split, extra after."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def conv_pads(size: int, kernel: int, stride: int, padding: int | str, dilation: int) -> tuple[int, int]:
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


def pixels_text(n: int) -> str:
    return f"{n} pixel" if n == 1 else f"{n} pixels"


def _too_small_conv(size: int, kernel: int, dilation: int, before: int, after: int) -> ShapeError:
    span = dilation * (kernel - 1) + 1
    dil = f" (kernel {kernel} with dilation {dilation})" if dilation > 1 else ""
    pad = f" ({size} + {before + after} padding)" if before + after else ""
    return ShapeError(
        f"The kernel spans {pixels_text(span)}{dil} but the padded input is only {pixels_text(size + before + after)}"
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
    padding = normalize_padding(padding)
    before, after = conv_pads(size, kernel, stride, padding, dilation)
    numerator = size + before + after - dilation * (kernel - 1) - 1
    if numerator < 0:
        raise _too_small_conv(size, kernel, dilation, before, after)
    return numerator // stride + 1


def pool_raw(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool):
    """(out before the ceil-mode fix, out after it, whether the fix dropped a window)."""
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-numerator // stride) + 1
        dropped = (out - 1) * stride >= size + padding
        return out, out - 1 if dropped else out, dropped
    out = numerator // stride + 1
    return out, out, False


def check_pool(kernel: int, stride: int | None, padding: int, dilation: int) -> tuple[int, int, int, int]:
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
    kernel, stride, padding, dilation = check_pool(kernel, stride, padding, dilation)
    if not isinstance(ceil_mode, bool):
        raise ShapeError(f"ceil_mode must be True or False (got {ceil_mode!r}).", "ceil_mode")
    _, out, _ = pool_raw(size, kernel, stride, padding, dilation, ceil_mode)
    if out < 1:
        span = dilation * (kernel - 1) + 1
        raise ShapeError(
            f"The pooling window spans {pixels_text(span)} but the padded input is only "
            f"{pixels_text(size + 2 * padding)}: the output would have {pixels_text(out)}. Use a smaller window "
            "or a bigger input.",
            "kernel",
        )
    return out


def check_transpose(stride: int, padding: int, output_padding: int, dilation: int) -> None:
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
    check_transpose(stride, padding, output_padding, dilation)
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise ShapeError(
            f"The padding {padding} crops more than the transposed convolution makes: the output "
            f"would have {pixels_text(out)}. Use less padding (each unit of padding removes 2 pixels).",
            "padding",
        )
    return out


# ----------------------------------------------------------------------------------------------
# Height and width


def _per_dim(fn: Callable[..., int], args: Mapping[str, Any]) -> tuple[int, int]:
    pairs = {
        k: as_pair(v, k) if not (k == "padding" and isinstance(v, str)) else (v, v) for k, v in args.items()
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


# ----------------------------------------------------------------------------------------------
# Parameters


def conv2d_params(in_channels: int, out_channels: int, kernel: IntPair, bias: bool = True) -> int:
    """Learnable parameters of nn.Conv2d (groups=1): out*in*kh*kw weights + out biases."""
    cin = check_int(in_channels, "in_channels", 1)
    cout = check_int(out_channels, "out_channels", 1)
    kh, kw = (check_int(v, "kernel") for v in as_pair(kernel, "kernel"))
    return cout * cin * kh * kw + (cout if bias else 0)


def conv_transpose2d_params(in_channels: int, out_channels: int, kernel: IntPair, bias: bool = True) -> int:
    """Learnable parameters of nn.ConvTranspose2d (groups=1): in*out*kh*kw weights + out biases."""
    return conv2d_params(in_channels, out_channels, kernel, bias)


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
