"""Hand-designed kernels and what one convolution layer does with them.

`apply_kernel` computes a feature map with `torch.nn.functional.conv2d`, exactly as an
`nn.Conv2d` layer would (cross-correlation: the kernel is not flipped). `explain_position`
computes one output pixel by hand, the way a student would on paper: which input pixels the
kernel covers (zero padding included), the element-wise products and their sum. The tests check
that the two always agree.

Images are 2-D float arrays [H, W] (values in [0, 1] for pictures); `apply_kernel` also takes a
stack of channels [C, H, W] and filters each channel separately with the same kernel.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib import shapes
from cnnlib.kernels.presets import KernelError, as_kernel

__all__ = [
    "resolve_padding",
    "feature_map_shape",
    "apply_kernel",
    "apply_multichannel_kernel",
    "patch_indices",
    "padding_mask",
    "ordinal",
    "explain_position",
    "strongest_pixel",
    "ConvSettings",
    "FeatureMap",
    "feature_map",
]


Padding = int | str  # an int >= 0, or "same" / "valid" as nn.Conv2d accepts

POOL_KINDS = ("none", "max", "avg")


# ----------------------------------------------------------------------------- validation


def as_image(image: np.ndarray) -> np.ndarray:
    """The image as float64 [H, W] or [C, H, W]; KernelError if it is not finite."""
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise KernelError(f"An image is a 2-D grid [H, W] (or channels [C, H, W]); got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        raise KernelError("The image has NaN or infinite pixels.")
    return arr


@contextmanager
def _as_kernel_error() -> Iterator[None]:
    """Re-raise the shape calculator's ShapeError (same words) as a KernelError."""
    try:
        yield
    except shapes.ShapeError as exc:
        raise KernelError(str(exc)) from None


def resolve_padding(
    kernel_shape: tuple[int, int], padding: Padding, stride: int = 1, dilation: int = 1
) -> tuple[int, int, int, int]:
    """Zero padding as (top, bottom, left, right), as nn.Conv2d applies it.

    An int pads every side by that much; "valid" pads nothing; "same" pads so that the output
    keeps the input's size: dilation * (k - 1) pixels per axis, the odd one at the bottom/right
    (PyTorch's rule). PyTorch refuses "same" with a stride above 1, and so does this.
    """
    with _as_kernel_error():
        stride = shapes.check_int(stride, "stride")
        dilation = shapes.check_int(dilation, "dilation")
        if isinstance(padding, str) and padding.strip().lower() in ("same", "valid"):
            mode = padding.strip().lower()
            if mode == "valid":
                return (0, 0, 0, 0)
            if stride != 1:
                raise KernelError(
                    f"Padding 'same' needs stride 1 (got stride {stride}): with a bigger stride the output "
                    "can't keep the input's size, so PyTorch refuses it. Use a number for the padding."
                )
            return shapes.same_padding(kernel_shape[0], dilation) + shapes.same_padding(
                kernel_shape[1], dilation
            )
        if isinstance(padding, str):
            raise KernelError(f"Padding must be a whole number, 'same' or 'valid' (got {padding!r}).")
        p = shapes.check_int(padding, "padding")
    return (p, p, p, p)


def feature_map_shape(
    image_shape: tuple[int, int],
    kernel_shape: tuple[int, int],
    stride: int = 1,
    padding: Padding = 0,
    dilation: int = 1,
) -> tuple[int, int]:
    """The feature map's (height, width); KernelError, saying why, if it would have no pixel."""
    pad = padding.strip().lower() if isinstance(padding, str) else padding
    resolve_padding(kernel_shape, pad, stride, dilation)  # the settings themselves
    with _as_kernel_error():
        return tuple(  # type: ignore[return-value]
            shapes.conv2d_output_size(int(n), int(k), stride, pad, dilation)
            for n, k in zip(image_shape[:2], kernel_shape, strict=True)
        )


# ----------------------------------------------------------------------------- computing


def apply_kernel(
    image: np.ndarray,
    kernel: np.ndarray,
    stride: int = 1,
    padding: Padding = 0,
    dilation: int = 1,
    bias: float = 0.0,
) -> np.ndarray:
    """Convolve like nn.Conv2d (cross-correlation, zero padding) with torch's conv2d.

    image [H, W] -> feature map [H', W']; image [C, H, W] -> [C, H', W'] (each channel filtered
    separately with the same kernel). Computed in float64.
    """
    img = as_image(image)
    ker = as_kernel(kernel)
    feature_map_shape(img.shape[-2:], ker.shape, stride, padding, dilation)  # clear error if empty
    pad = padding.strip().lower() if isinstance(padding, str) else int(padding)
    x = torch.from_numpy(img)
    x = x[None, None] if img.ndim == 2 else x[:, None]  # [N, 1, H, W] (N = channels)
    w = torch.from_numpy(ker)[None, None]  # [out=1, in=1, kh, kw]
    b = torch.tensor([float(bias)], dtype=torch.float64)  # [1]
    y = F.conv2d(x, w, b, stride=stride, padding=pad, dilation=dilation)  # [N, 1, H', W']
    y = y[0, 0] if img.ndim == 2 else y[:, 0]
    return y.numpy()


def apply_multichannel_kernel(
    image: np.ndarray,
    kernel: np.ndarray,
    bias: float = 0.0,
    stride: int | tuple[int, int] = 1,
    padding: Padding | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """One output channel of a layer over all input channels, as nn.Conv2d(in_channels=C, out_channels=1).

    image [C, H, W] and kernel [C, kh, kw] (one slice per input channel) -> [H', W']: each channel
    is cross-correlated with its own slice, the C results are added up, then the bias. Computed in
    float64 with torch's conv2d. KernelError if the channels differ or the output would be empty.
    """
    img = as_image(image)
    img = img[None] if img.ndim == 2 else img  # [C, H, W]
    ker = np.asarray(kernel, dtype=np.float64)
    ker = ker[None] if ker.ndim == 2 else ker  # [C, kh, kw]
    if ker.ndim != 3 or ker.shape[0] != img.shape[0]:
        raise KernelError(
            f"A {img.shape[0]}-channel image needs a kernel of {img.shape[0]} slices [C, k, k]; got {ker.shape}."
        )
    for plane in ker:
        as_kernel(plane)  # finite, 2-D, at most MAX_KERNEL_SIZE
    if not math.isfinite(float(bias)):
        raise KernelError("The bias must be an ordinary number.")
    pad = padding.strip().lower() if isinstance(padding, str) else padding
    pairs = [v if isinstance(v, tuple | list) else (v, v) for v in (stride, dilation)]
    if not isinstance(pad, str):
        pairs.append(pad if isinstance(pad, tuple | list) else (pad, pad))
    with _as_kernel_error():
        for axis in (0, 1):
            p = pad if isinstance(pad, str) else pairs[2][axis]
            shapes.conv2d_output_size(
                img.shape[1 + axis], ker.shape[1 + axis], pairs[0][axis], p, pairs[1][axis]
            )
    x = torch.from_numpy(img)[None]  # [1, C, H, W]
    w = torch.from_numpy(ker)[None]  # [out=1, in=C, kh, kw]
    b = torch.tensor([float(bias)], dtype=torch.float64)  # [1]
    pad_arg = pad if isinstance(pad, str) else tuple(pairs[2])
    y = F.conv2d(x, w, b, stride=tuple(pairs[0]), padding=pad_arg, dilation=tuple(pairs[1]))  # [1, 1, H', W']
    return y[0, 0].numpy()


def patch_indices(
    row: int,
    col: int,
    kernel_shape: tuple[int, int],
    stride: int = 1,
    padding: Padding = 0,
    dilation: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Input rows and columns that kernel entry (i, j) meets for output pixel (row, col).

    rows[i] = row * stride - pad_top + i * dilation (and the same for columns). An index below 0
    or past the image's edge falls in the zero padding.
    """
    top, _, left, _ = resolve_padding(kernel_shape, padding, stride, dilation)
    rows = np.array([row * stride - top + i * dilation for i in range(kernel_shape[0])])
    cols = np.array([col * stride - left + j * dilation for j in range(kernel_shape[1])])
    return rows, cols


def padding_mask(image_shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """[len(rows), len(cols)] bools: True where kernel entry (i, j) lands in the zero padding.

    rows, cols: the input indices from patch_indices; an index below 0 or past the image's edge
    is padding.
    """
    r, c = np.asarray(rows), np.asarray(cols)
    height, width = int(image_shape[0]), int(image_shape[1])
    return ((r < 0) | (r >= height))[:, None] | ((c < 0) | (c >= width))[None, :]


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, ... (for "every 3rd pixel")."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def explain_position(
    image: np.ndarray,
    kernel: np.ndarray,
    row: int,
    col: int,
    stride: int = 1,
    padding: Padding = 0,
    dilation: int = 1,
    bias: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """One output pixel by hand: (patch, products, total).

    patch: the input values under the kernel [kh, kw] (0 where the kernel hangs over the zero
    padding); products: patch * kernel entry by entry; total: the products' sum plus the bias,
    which equals apply_kernel(...)[row, col].
    """
    img = as_image(image)
    if img.ndim != 2:
        raise KernelError("explain_position takes one channel [H, W].")
    ker = as_kernel(kernel)
    out_h, out_w = feature_map_shape(img.shape, ker.shape, stride, padding, dilation)
    if not (0 <= row < out_h and 0 <= col < out_w):
        raise KernelError(f"Output pixel ({row}, {col}) is outside the {out_h}x{out_w} feature map.")
    rows, cols = patch_indices(row, col, ker.shape, stride, padding, dilation)
    height, width = img.shape
    patch = np.zeros(ker.shape)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            if 0 <= r < height and 0 <= c < width:  # outside the image: zero padding
                patch[i, j] = img[r, c]
    products = patch * ker
    total = 0.0
    for value in products.flat:
        total += float(value)
    return patch, products, total + float(bias)


def strongest_pixel(feature_map: np.ndarray) -> tuple[int, int]:
    """(row, col) of the largest |value| of a [H', W'] map (the first one on a tie)."""
    arr = np.asarray(feature_map, dtype=np.float64)
    row, col = np.unravel_index(int(np.argmax(np.abs(arr))), arr.shape)
    return int(row), int(col)


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x) element by element, with torch.relu."""
    return torch.relu(torch.from_numpy(np.asarray(x, dtype=np.float64))).numpy()


def pool_output_shape(shape: tuple[int, int], size: int, stride: int | None = None) -> tuple[int, int]:
    """(height, width) after size x size pooling (stride defaults to size, as in nn.MaxPool2d)."""
    h, w = int(shape[0]), int(shape[1])
    if isinstance(size, int) and size > min(h, w):
        raise KernelError(
            f"The {h}x{w} feature map is smaller than the {size}x{size} pooling window: nothing to "
            "pool. Turn pooling off, or keep the feature map bigger (less stride or dilation)."
        )
    with _as_kernel_error():
        return tuple(shapes.pool2d_output_size(n, size, stride) for n in (h, w))  # type: ignore[return-value]


def pool(x: np.ndarray, kind: str, size: int = 2, stride: int | None = None) -> np.ndarray:
    """Max or average pooling of a [H, W] map with torch (no padding, floor mode)."""
    if kind not in ("max", "avg"):
        raise KernelError(f"Pooling is 'max' or 'avg'; got {kind!r}.")
    arr = np.asarray(x, dtype=np.float64)
    pool_output_shape(arr.shape, size, stride)
    t = torch.from_numpy(arr)[None, None]  # [1, 1, H, W]
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    return fn(t, kernel_size=size, stride=stride or size)[0, 0].numpy()  # [H', W']


@dataclass(frozen=True)
class ConvSettings:
    """One convolution layer's settings, then optional ReLU and pooling (stride = window)."""

    stride: int = 1
    padding: Padding = 0
    dilation: int = 1
    bias: float = 0.0
    relu: bool = False
    pool: str = "none"  # "none", "max" or "avg"
    pool_size: int = 2

    def check(self, image_shape: tuple[int, int], kernel_shape: tuple[int, int]) -> tuple[int, int]:
        """The final output's (height, width); KernelError, saying why, if these settings cannot work."""
        if not math.isfinite(float(self.bias)):
            raise KernelError("The bias must be an ordinary number.")
        if self.pool not in POOL_KINDS:
            raise KernelError(f"Pooling is one of {POOL_KINDS}; got {self.pool!r}.")
        shape = feature_map_shape(image_shape, kernel_shape, self.stride, self.padding, self.dilation)
        return shape if self.pool == "none" else pool_output_shape(shape, self.pool_size)


@dataclass(frozen=True)
class FeatureMap:
    """A convolution layer's steps: conv (+bias), then ReLU, then pooling (each optional)."""

    conv: np.ndarray  # [H', W'] the convolution plus bias
    activated: np.ndarray  # [H', W'] after ReLU (the same array as conv without ReLU)
    pooled: np.ndarray | None  # [H'', W''] after pooling, None without pooling

    @property
    def output(self) -> np.ndarray:
        return self.activated if self.pooled is None else self.pooled


def feature_map(image: np.ndarray, kernel: np.ndarray, settings: ConvSettings | None = None) -> FeatureMap:
    """Run conv -> (ReLU) -> (pool) on a [H, W] image; KernelError for settings that cannot work."""
    s = settings or ConvSettings()
    s.check(np.shape(image)[-2:], np.shape(kernel))
    conv = apply_kernel(image, kernel, s.stride, s.padding, s.dilation, s.bias)
    activated = relu(conv) if s.relu else conv
    pooled = None if s.pool == "none" else pool(activated, s.pool, s.pool_size)
    return FeatureMap(conv, activated, pooled)
