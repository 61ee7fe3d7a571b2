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
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib import shapes

Padding = int | str  # an int >= 0, or "same" / "valid" as nn.Conv2d accepts

KERNEL_SIZES = (3, 5, 7)
MAX_KERNEL_SIZE = 7
MAX_WEIGHT = 1000.0  # a typed weight larger than this is refused (the numbers stop meaning anything)
POOL_KINDS = ("none", "max", "avg")


class KernelError(ValueError):
    """A kernel or a convolution setting that cannot be used, explained for a student."""


def _k(rows: list[list[float]], scale: float = 1.0) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64) * scale


_BINOMIAL5 = np.array([1.0, 4.0, 6.0, 4.0, 1.0])

# Preset kernels, as in the usual tutorials (Sobel/Prewitt x respond to changes along x, i.e.
# to vertical edges; the "edge" pair is Andrew Ng's from the deeplearning.ai course).
KERNELS: dict[str, np.ndarray] = {
    "Identity": _k([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "Box blur": _k([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 1 / 9),
    "Gaussian blur": _k([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
    "Gaussian blur 5x5": np.outer(_BINOMIAL5, _BINOMIAL5) / 256.0,
    "Sharpen": _k([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "Sobel x": _k([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "Sobel y": _k([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "Prewitt x": _k([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
    "Prewitt y": _k([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
    "Laplacian": _k([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "Outline": _k([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "Emboss": _k([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    "Horizontal edge": _k([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
    "Vertical edge": _k([[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
}

# One line per preset: what it does, in words a student can check against the feature map.
KERNEL_NOTES: dict[str, str] = {
    "Identity": "A single 1 in the centre copies each pixel: the output is the input.",
    "Box blur": "Every output pixel is the plain average of its 3x3 neighbourhood: a blur.",
    "Gaussian blur": "A weighted average that trusts the centre most: a softer, rounder blur.",
    "Gaussian blur 5x5": "A wider Gaussian (binomial) blur over 5x5 neighbours: smoother still.",
    "Sharpen": "Five times the centre minus its four neighbours: boosts local contrast.",
    "Sobel x": "Right minus left, centre row weighted double: lights up vertical edges (signed).",
    "Sobel y": "Below minus above, centre column weighted double: lights up horizontal edges.",
    "Prewitt x": "Right column minus left column: vertical edges, without Sobel's extra weight.",
    "Prewitt y": "Bottom row minus top row: horizontal edges, without Sobel's extra weight.",
    "Laplacian": "Four neighbours minus four times the centre: zero on flat areas, edges in every direction.",
    "Outline": "Eight times the centre minus all eight neighbours: outlines edges in every direction.",
    "Emboss": "Bottom-right minus top-left: a raised, lit-from-one-side relief.",
    "Horizontal edge": "Top row minus bottom row: positive where bright sits above dark.",
    "Vertical edge": "Left column minus right column: positive where bright sits left of dark.",
}

# For "predict, then reveal": what each preset does, as one of a few choices.
EFFECT_CHOICES: tuple[str, ...] = (
    "Leaves the image unchanged",
    "Blurs it",
    "Sharpens it",
    "Finds vertical edges",
    "Finds horizontal edges",
    "Finds edges in every direction",
    "Embosses it (3-D relief)",
)
KERNEL_EFFECTS: dict[str, str] = {
    "Identity": EFFECT_CHOICES[0],
    "Box blur": EFFECT_CHOICES[1],
    "Gaussian blur": EFFECT_CHOICES[1],
    "Gaussian blur 5x5": EFFECT_CHOICES[1],
    "Sharpen": EFFECT_CHOICES[2],
    "Sobel x": EFFECT_CHOICES[3],
    "Prewitt x": EFFECT_CHOICES[3],
    "Vertical edge": EFFECT_CHOICES[3],
    "Sobel y": EFFECT_CHOICES[4],
    "Prewitt y": EFFECT_CHOICES[4],
    "Horizontal edge": EFFECT_CHOICES[4],
    "Laplacian": EFFECT_CHOICES[5],
    "Outline": EFFECT_CHOICES[5],
    "Emboss": EFFECT_CHOICES[6],
}


# ----------------------------------------------------------------------------- validation


def as_kernel(kernel: np.ndarray | list) -> np.ndarray:
    """The kernel as a float64 array [kh, kw]; KernelError if it is not a finite 2-D grid."""
    arr = np.asarray(kernel, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0:
        raise KernelError(f"A kernel is a 2-D grid of numbers; this one has shape {arr.shape}.")
    if max(arr.shape) > MAX_KERNEL_SIZE:
        raise KernelError(
            f"Kernels here are at most {MAX_KERNEL_SIZE}x{MAX_KERNEL_SIZE}; this one is {arr.shape}."
        )
    if not np.isfinite(arr).all():
        raise KernelError("The kernel has a NaN or infinite weight; every weight must be an ordinary number.")
    return arr


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


def output_shape(
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
    output_shape(img.shape[-2:], ker.shape, stride, padding, dilation)  # clear error if empty
    pad = padding.strip().lower() if isinstance(padding, str) else int(padding)
    x = torch.from_numpy(img)
    x = x[None, None] if img.ndim == 2 else x[:, None]  # [N, 1, H, W] (N = channels)
    w = torch.from_numpy(ker)[None, None]  # [out=1, in=1, kh, kw]
    b = torch.tensor([float(bias)], dtype=torch.float64)  # [1]
    y = F.conv2d(x, w, b, stride=stride, padding=pad, dilation=dilation)  # [N, 1, H', W']
    y = y[0, 0] if img.ndim == 2 else y[:, 0]
    return y.numpy()


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
    out_h, out_w = output_shape(img.shape, ker.shape, stride, padding, dilation)
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
        shape = output_shape(image_shape, kernel_shape, self.stride, self.padding, self.dilation)
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


# ----------------------------------------------------------------------------- editing


def kernel_sum(kernel: np.ndarray) -> float:
    """The sum of the weights (1 keeps brightness, 0 means flat areas go to zero)."""
    return float(np.sum(as_kernel(kernel)))


def needs_normalising(kernel: np.ndarray) -> bool:
    """True when the weights add up to something other than 0 or 1."""
    s = kernel_sum(kernel)
    return not (math.isclose(s, 0.0, abs_tol=1e-9) or math.isclose(s, 1.0, abs_tol=1e-9))


def normalise_kernel(kernel: np.ndarray) -> np.ndarray:
    """Divide by the sum so the weights add up to 1 (brightness kept).

    A kernel whose weights add up to 0 (an edge detector) or already to 1 comes back unchanged.
    """
    ker = as_kernel(kernel)
    return ker / ker.sum() if needs_normalising(ker) else ker.copy()


def parse_weight(text: object, where: str = "") -> float:
    """One typed weight: a number like 2, -0.5, 1e-2, or a fraction like 1/9 or -1/16."""
    at = f" in {where}" if where else ""
    if text is None:
        raise KernelError(f"The cell{at} is empty: type a number (0 if unsure).")
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        value = float(text)
    else:
        s = str(text).strip().replace("−", "-").replace(",", ".")
        if not s:
            raise KernelError(f"The cell{at} is empty: type a number (0 if unsure).")
        try:
            value = float(s)
        except ValueError:
            try:
                value = float(Fraction(s))
            except (ValueError, ZeroDivisionError) as exc:
                hint = (
                    "a fraction cannot divide by 0" if isinstance(exc, ZeroDivisionError) else "not a number"
                )
                raise KernelError(
                    f"The cell{at} holds {str(text)!r}: {hint}. Type a number like 2, -0.5 or 1/9."
                ) from None
    if math.isnan(value):
        raise KernelError(f"The cell{at} is NaN (not a number): type an ordinary number.")
    if math.isinf(value):
        raise KernelError(f"The cell{at} is infinite: type an ordinary number.")
    if abs(value) > MAX_WEIGHT:
        raise KernelError(
            f"The cell{at} holds {value:g}: keep weights between -{MAX_WEIGHT:g} and {MAX_WEIGHT:g}."
        )
    return value


def parse_kernel_grid(cells: list[list[object]]) -> np.ndarray:
    """Typed cells (strings or numbers, row by row) -> a kernel [k, k]; KernelError names the cell."""
    rows = [list(r) for r in cells]
    if not rows or not rows[0]:
        raise KernelError("The kernel grid is empty.")
    size = len(rows)
    if any(len(r) != len(rows[0]) for r in rows):
        raise KernelError("Every row of the kernel needs the same number of cells.")
    if size > MAX_KERNEL_SIZE or len(rows[0]) > MAX_KERNEL_SIZE:
        raise KernelError(f"Kernels here are at most {MAX_KERNEL_SIZE}x{MAX_KERNEL_SIZE}.")
    return np.array(
        [
            [parse_weight(v, f"row {i + 1}, column {j + 1}") for j, v in enumerate(r)]
            for i, r in enumerate(rows)
        ],
        dtype=np.float64,
    )


def format_weight(value: float) -> str:
    """A weight as a student would type it: 2, -0.5, 1/9, 3/256 (fractions with small denominators)."""
    v = float(value)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    frac = Fraction(v).limit_denominator(256)
    if frac.denominator > 1 and math.isclose(float(frac), v, rel_tol=1e-12, abs_tol=1e-15):
        return f"{frac.numerator}/{frac.denominator}"
    return f"{v:.6g}"


def resize_kernel(kernel: np.ndarray, size: int) -> np.ndarray:
    """Centre the kernel in a size x size grid: zeros added around it, or the border cropped off."""
    ker = as_kernel(kernel)
    if size < 1 or size > MAX_KERNEL_SIZE:
        raise KernelError(f"Kernel size must be 1 to {MAX_KERNEL_SIZE}; got {size}.")
    out = np.zeros((size, size))
    kh, kw = ker.shape
    # rows/cols copied: the overlap of the two centred grids
    src_r, dst_r = max(0, (kh - size) // 2), max(0, (size - kh) // 2)
    src_c, dst_c = max(0, (kw - size) // 2), max(0, (size - kw) // 2)
    n_r, n_c = min(kh, size), min(kw, size)
    out[dst_r : dst_r + n_r, dst_c : dst_c + n_c] = ker[src_r : src_r + n_r, src_c : src_c + n_c]
    return out
