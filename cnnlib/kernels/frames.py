"""The sliding window, frame by frame: what a convolution or pooling layer reads for each output pixel.

`window_frames` works out, for every output pixel of a convolution (in row-major order), the
input rows and columns the kernel's taps land on (the stride's jumps, the padded border as
indices below 0 or past the edge, the dilation's gaps), the patch under the kernel (0 in the zero
padding), the element-wise products, each channel's sum and the output (sum plus bias), as
`nn.Conv2d` with `in_channels=C, out_channels=1` computes it. `pool_frames` does the same for a
max or average pooling window (`nn.MaxPool2d` / `nn.AvgPool2d`, ceil_mode included). The tests
check every frame against torch (`F.conv2d`, `F.max_pool2d`, `F.avg_pool2d`, `F.unfold`).

`frames_payload` packs the frames for the browser's player (`pages/ui/window_player.py`) as
numbers, not pictures: the layer's geometry, the input's values, the kernel and each output; the
player derives every frame's taps, patch and products from them with the same rules as here
(a test decodes the payload in numpy and compares it with the frames).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from cnnlib import shapes
from cnnlib.kernels.convolution import Padding, apply_multichannel_kernel, as_image
from cnnlib.kernels.presets import KernelError

__all__ = ["window_frames", "pool_frames", "payload_json", "demo_input", "demo_kernel"]


IntPair = int | tuple[int, int]
MAX_ANIMATED_SIDE = 96  # the player's input is at most this many pixels a side (the Text sample: 48 x 96)
PAYLOAD_DIGITS = 4  # decimals of the values the player receives (it shows fewer)
OPS = ("conv", "max", "avg")


@dataclass(frozen=True)
class WindowFrames:
    """Every position of the window, in the order the output is written (row by row)."""

    op: str  # "conv", "max" or "avg"
    image: np.ndarray  # [C, H, W] the input (float64)
    kernel: np.ndarray | None  # [C, kh, kw] the weights (conv), None for pooling
    bias: float
    kernel_size: tuple[int, int]  # (kh, kw)
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]  # zero padding (top, bottom, left, right)
    dilation: tuple[int, int]
    out_shape: tuple[int, int]  # (H', W')
    rows: np.ndarray  # [N, kh] input row under each kernel row (< 0 or >= H: in the padding)
    cols: np.ndarray  # [N, kw] input column under each kernel column
    inside: np.ndarray  # [N, kh, kw] True where the tap lands on the image (not the padding)
    patches: np.ndarray  # [N, C, kh, kw] the values under the window (0 in the padding)
    products: np.ndarray | None  # [N, C, kh, kw] patch * kernel (conv only)
    channel_sums: np.ndarray  # [N, C] conv: each channel's sum of products; pooling: C = 1, the output
    divisors: np.ndarray | None  # [N] avg pooling: how many cells the mean divides by
    outputs: np.ndarray  # [N] the output pixel: sum of channel sums + bias, the max, or the mean

    @property
    def count(self) -> int:
        return int(self.outputs.shape[0])

    def pixel(self, index: int) -> tuple[int, int]:
        """The output pixel (row, col) of frame `index`."""
        return divmod(int(index), self.out_shape[1])


def _pair(value: IntPair, field: str, minimum: int = 1) -> tuple[int, int]:
    pair = value if isinstance(value, tuple | list) else (value, value)
    if len(pair) != 2:
        raise KernelError(f"{field} is one number or a (height, width) pair; got {value!r}.")
    try:
        return tuple(shapes.check_int(v, field, minimum) for v in pair)  # type: ignore[return-value]
    except shapes.ShapeError as exc:
        raise KernelError(str(exc)) from None


def conv_pads(
    kernel_size: tuple[int, int], padding: Padding | tuple[int, int], stride: tuple[int, int],
    dilation: tuple[int, int],
) -> tuple[int, int, int, int]:  # fmt: skip
    """(top, bottom, left, right) zero padding as nn.Conv2d applies it (an int, a pair, "same", "valid")."""
    if isinstance(padding, str):
        mode = padding.strip().lower()
        if mode == "valid":
            return (0, 0, 0, 0)
        if mode != "same":
            raise KernelError(f"Padding must be a whole number, 'same' or 'valid' (got {padding!r}).")
        if stride != (1, 1):
            raise KernelError("Padding 'same' needs stride 1: PyTorch refuses it with a bigger stride.")
        return shapes.same_padding(kernel_size[0], dilation[0]) + shapes.same_padding(
            kernel_size[1], dilation[1]
        )
    ph, pw = _pair(padding, "padding", 0)
    return (ph, ph, pw, pw)


def _check_size(image: np.ndarray) -> None:
    h, w = image.shape[-2:]
    if max(h, w) > MAX_ANIMATED_SIDE:
        raise KernelError(
            f"The animation plays on images up to {MAX_ANIMATED_SIDE} pixels a side; this one is {h} x {w}."
        )


def _taps(
    out_shape: tuple[int, int], kernel_size: tuple[int, int], stride: tuple[int, int],
    pads: tuple[int, int, int, int], dilation: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """rows [N, kh], cols [N, kw]: row = out_row * stride - pad_top + i * dilation (columns alike)."""
    n = out_shape[0] * out_shape[1]
    out_row, out_col = np.divmod(np.arange(n), out_shape[1])  # [N], [N]
    rows = out_row[:, None] * stride[0] - pads[0] + np.arange(kernel_size[0])[None, :] * dilation[0]
    cols = out_col[:, None] * stride[1] - pads[2] + np.arange(kernel_size[1])[None, :] * dilation[1]
    return rows, cols


def _gather(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(patches [N, C, kh, kw] with 0 in the padding, inside [N, kh, kw])."""
    _, h, w = image.shape
    row_in = (rows >= 0) & (rows < h)  # [N, kh]
    col_in = (cols >= 0) & (cols < w)  # [N, kw]
    inside = row_in[:, :, None] & col_in[:, None, :]  # [N, kh, kw]
    r = np.clip(rows, 0, h - 1)[:, :, None]  # [N, kh, 1]
    c = np.clip(cols, 0, w - 1)[:, None, :]  # [N, 1, kw]
    patches = image[:, r, c]  # [C, N, kh, kw]
    patches = np.moveaxis(patches, 0, 1) * inside[:, None]  # [N, C, kh, kw]
    return patches, inside


def window_frames(
    image: np.ndarray,
    kernel: np.ndarray,
    bias: float = 0.0,
    stride: IntPair = 1,
    padding: Padding | tuple[int, int] = 0,
    dilation: IntPair = 1,
) -> WindowFrames:
    """Every output pixel of a convolution: its taps, patch, products and sum, as nn.Conv2d computes it.

    image [C, H, W] with kernel [C, kh, kw] (in_channels=C, out_channels=1), or image [H, W] with
    kernel [kh, kw] (one channel). KernelError if the settings cannot work or the image is bigger
    than MAX_ANIMATED_SIDE.
    """
    img = as_image(image)
    img = img[None] if img.ndim == 2 else img  # [C, H, W]
    ker = np.asarray(kernel, dtype=np.float64)
    ker = ker[None] if ker.ndim == 2 else ker  # [C, kh, kw]
    _check_size(img)
    s, d = _pair(stride, "stride"), _pair(dilation, "dilation")
    k = (int(ker.shape[1]), int(ker.shape[2]))
    pads = conv_pads(k, padding, s, d)
    pad_arg = padding if isinstance(padding, str) else (pads[0], pads[2])
    # the oracle's numbers: torch computes each output pixel (and checks the shapes, the same words)
    conv = apply_multichannel_kernel(img, ker, bias, s, pad_arg, d)  # [H', W']
    rows, cols = _taps(conv.shape, k, s, pads, d)
    patches, inside = _gather(img, rows, cols)  # [N, C, kh, kw], [N, kh, kw]
    products = patches * ker[None]  # [N, C, kh, kw]
    channel_sums = products.sum(axis=(2, 3))  # [N, C]
    outputs = channel_sums.sum(axis=1) + float(bias)  # [N]
    return WindowFrames("conv", img, ker, float(bias), k, s, pads, d, conv.shape, rows, cols, inside,
                        patches, products, channel_sums, None, outputs)  # fmt: skip


def pool_frames(
    image: np.ndarray,
    kind: str,
    kernel_size: IntPair = 2,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
) -> WindowFrames:
    """Every output pixel of max or average pooling of a [H, W] image, as nn.MaxPool2d / nn.AvgPool2d
    compute it (the max of the taps on the image; the mean with the zero padding counted in)."""
    if kind not in ("max", "avg"):
        raise KernelError(f"Pooling is 'max' or 'avg'; got {kind!r}.")
    img = as_image(image)
    if img.ndim != 2:
        raise KernelError("The pooling player takes one channel [H, W].")
    _check_size(img)
    k = _pair(kernel_size, "kernel size")
    s = k if stride is None else _pair(stride, "stride")
    p, d = _pair(padding, "padding", 0), _pair(dilation, "dilation")
    if kind == "avg" and d != (1, 1):
        raise KernelError("Average pooling has no dilation.")
    try:
        out_shape = tuple(
            shapes.pool2d_output_size(n, k[a], s[a], p[a], d[a], bool(ceil_mode))
            for a, n in enumerate(img.shape)
        )
    except shapes.ShapeError as exc:
        raise KernelError(str(exc)) from None
    pads = (p[0], p[0], p[1], p[1])
    rows, cols = _taps(out_shape, k, s, pads, d)  # type: ignore[arg-type]
    patches, inside = _gather(img[None], rows, cols)  # [N, 1, kh, kw], [N, kh, kw]
    divisors = None
    if kind == "max":  # the padding never wins: torch pads max pooling with -inf
        outputs = np.where(inside[:, None], patches, -np.inf).max(axis=(1, 2, 3))  # [N]
    else:  # the zeros of the padding count; a ceil-mode window is cut at the padded edge
        h_end = np.minimum(rows[:, 0] + k[0], img.shape[0] + p[0])  # [N]
        w_end = np.minimum(cols[:, 0] + k[1], img.shape[1] + p[1])  # [N]
        divisors = (h_end - rows[:, 0]) * (w_end - cols[:, 0])  # [N]
        outputs = patches.sum(axis=(1, 2, 3)) / divisors  # [N]
    return WindowFrames(kind, img[None], None, 0.0, k, s, pads, d, out_shape, rows, cols, inside,  # type: ignore[arg-type]
                        patches, None, outputs[:, None], divisors, outputs)  # fmt: skip


# ----------------------------------------------------------------------------- the browser's payload


def _numbers(values: np.ndarray, digits: int = PAYLOAD_DIGITS) -> list[float | int]:
    """Rounded, whole numbers as ints ("3", not "3.0"): fewer bytes for the same values."""
    rounded = np.round(np.asarray(values, dtype=np.float64).ravel(), digits) + 0.0  # no -0.0
    return [int(v) if v.is_integer() else v for v in rounded.tolist()]


def frames_payload(frames: WindowFrames, digits: int = PAYLOAD_DIGITS) -> dict:
    """The frames as the player receives them: geometry and numbers, from which it derives each
    frame's taps (rows = out_row * stride - pad_top + i * dilation), patch (the input there, 0 in the
    padding), products (patch * kernel) and shows the output computed here.

    Keys: op, C, H, W, oh, ow, k [kh, kw], s, p [top, bottom, left, right], d, image (C*H*W, row
    major), out (N); conv adds kernel (C*kh*kw) and bias; avg adds div (N).
    """
    c, h, w = frames.image.shape
    data: dict = {
        "op": frames.op,
        "C": c,
        "H": h,
        "W": w,
        "oh": frames.out_shape[0],
        "ow": frames.out_shape[1],
        "k": list(frames.kernel_size),
        "s": list(frames.stride),
        "p": list(frames.pads),
        "d": list(frames.dilation),
        "image": _numbers(frames.image, digits),
        "out": _numbers(frames.outputs, digits),
    }
    if frames.kernel is not None:
        data["kernel"] = _numbers(frames.kernel, 6)
        data["bias"] = _numbers(np.array([frames.bias]), 6)[0]
    if frames.divisors is not None:
        data["div"] = [int(v) for v in frames.divisors]
    return data


def payload_json(frames: WindowFrames, digits: int = PAYLOAD_DIGITS) -> str:
    """frames_payload as compact JSON text (what goes over the websocket)."""
    return json.dumps(frames_payload(frames, digits), separators=(",", ":"))


def demo_input(height: int, width: int, channels: int = 0) -> np.ndarray:
    """Small whole numbers 0..9 in a fixed pattern, easy to multiply in one's head: [H, W], or
    [C, H, W] for channels >= 1 (each channel's pattern shifted)."""
    c, i, j = np.meshgrid(np.arange(max(channels, 1)), np.arange(height), np.arange(width), indexing="ij")
    values = ((3 * i + 7 * j + i * j + 4 * c) % 10).astype(np.float64)  # [C, H, W]
    return values if channels else values[0]


def demo_kernel(height: int, width: int, channels: int = 0) -> np.ndarray:
    """Weights -1, 0, 1 in a fixed pattern (never all zero): [kh, kw], or [C, kh, kw] for channels >= 1."""
    c, i, j = np.meshgrid(np.arange(max(channels, 1)), np.arange(height), np.arange(width), indexing="ij")
    values = ((i + 2 * j + c) % 3 - 1).astype(np.float64)  # [C, kh, kw]
    return values if channels else values[0]
