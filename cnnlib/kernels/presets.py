"""The kernels themselves: the preset grids with their notes, and a kernel typed or edited by hand.

A kernel is a float64 grid [kh, kw], at most MAX_KERNEL_SIZE on a side, every weight finite.
`KERNELS` holds the presets of the usual tutorials (blur, sharpen, Sobel, Prewitt, Laplacian,
emboss, edges); `KERNEL_NOTES` says what each one does and `KERNEL_EFFECTS` which effect a
"predict first" question expects. Typed weights (a cell, a grid of cells, or a whole kernel as
text, `parse_kernel_text`) accept numbers and fractions ("1/9"), and every refusal is a
`KernelError` naming the row or the cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

__all__ = [
    "KERNEL_SIZES",
    "KernelError",
    "KERNELS",
    "KERNEL_NOTES",
    "EFFECT_CHOICES",
    "KERNEL_EFFECTS",
    "kernel_sum",
    "needs_normalising",
    "normalise_kernel",
    "parse_kernel_text",
    "align_kernel_text",
    "resize_kernel_text",
    "longest_row",
    "format_kernel_text",
    "format_weight",
    "resize_kernel",
]


KERNEL_SIZES = (3, 5, 7)
MAX_KERNEL_SIZE = 7
MAX_WEIGHT = 1000.0  # a typed weight larger than this is refused (the numbers stop meaning anything)
MAX_KERNEL_TEXT = 2000  # characters: 7 rows of 7 long numbers fit several times over
_ROW_END = re.compile(r"[\n;]")  # a line break or a ';' (MATLAB) ends a row
_BRACKET_ROW_END = re.compile(r"[;\]]")  # pasted lists: a ']' ends a row (numpy wraps long rows)
_EDGES = " \t\r\n\v\f,"  # stripped from each row's ends
_BETWEEN = re.compile(r"[\s,]+")  # values are split by spaces, tabs or commas


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


def parse_kernel_grid(cells: Sequence[Sequence[object]]) -> np.ndarray:
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


def parse_kernel_text(text: str) -> np.ndarray:
    """Typed weights -> a square kernel [k, k] (1x1, or a size in KERNEL_SIZES); KernelError says what
    to fix, naming the row or the cell.

    One row per line (or rows split by ';'), values split by spaces, tabs or commas; numbers or
    fractions (1/9). A kernel pasted as numpy or a Python list prints it reads as typed: with
    brackets, each ']' ends a row ("[[1, 0, -1], [2, 0, -2], [1, 0, -1]]", or numpy's wrapped rows).
    Decimals take a point: in this text a comma splits values.
    """
    if not isinstance(text, str) or not text.strip():
        raise KernelError("The kernel is empty: type its rows, one per line, e.g. 1 0 -1.")
    if len(text) > MAX_KERNEL_TEXT:
        raise KernelError(
            f"That is {len(text):,} characters: a kernel here is at most {MAX_KERNEL_SIZE} rows of "
            f"{MAX_KERNEL_SIZE} numbers."
        )
    rows = _typed_rows(text)
    if not rows:
        raise KernelError("The kernel is empty: type its rows, one per line, e.g. 1 0 -1.")
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(rows[0]):
            raise KernelError(
                f"Row {i} has {_count(len(row))} but row 1 has {len(rows[0])}: a kernel here is a square "
                "grid, every row as long as the others."
            )
    size = len(rows)
    if len(rows[0]) != size:
        raise KernelError(
            f"{size} row{'s' * (size != 1)} of {_count(len(rows[0]))}: a kernel here is square, as many "
            "numbers in each row as there are rows."
        )
    if size != 1 and size not in KERNEL_SIZES:
        sizes = ", ".join(f"{k}x{k}" for k in KERNEL_SIZES)
        raise KernelError(f"A {size}x{size} kernel: the page offers 1x1, {sizes} (odd, so it has a centre).")
    return parse_kernel_grid(rows)


def _typed_rows(text: str) -> list[list[str]]:
    """The typed values, row by row, each as typed ("2/16", "-0.50")."""
    rows = []
    for line in (_BRACKET_ROW_END if "[" in text else _ROW_END).split(text):
        line = line.replace("[", " ").strip(_EDGES)
        if line:
            rows.append(_BETWEEN.split(line))
    return rows


def align_kernel_text(text: str) -> str:
    """Typed weights lined up as a grid (one row per line, columns right-aligned), every value kept
    as the teacher typed it: 2/16 stays 2/16 (its value is 1/8, the text is theirs). Raises
    KernelError as parse_kernel_text does."""
    parse_kernel_text(text)
    cells = _typed_rows(text)
    width = max(len(c) for row in cells for c in row)
    return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)


def resize_kernel_text(text: str, size: int) -> str:
    """The typed weights centred in a size x size grid as resize_kernel does (zeros around them, or
    the border cropped off), each kept value as typed; lined up. Raises KernelError."""
    parse_kernel_text(text)
    if size < 1 or size > MAX_KERNEL_SIZE:
        raise KernelError(f"Kernel size must be 1 to {MAX_KERNEL_SIZE}; got {size}.")
    cells = np.array(_typed_rows(text), dtype=object)  # [k, k] of typed strings
    out = np.full((size, size), "0", dtype=object)
    k = cells.shape[0]
    src, dst, n = max(0, (k - size) // 2), max(0, (size - k) // 2), min(k, size)
    out[dst : dst + n, dst : dst + n] = cells[src : src + n, src : src + n]
    return align_kernel_text("\n".join(" ".join(row) for row in out))


def longest_row(text: str) -> int:
    """Characters in the longest line of the weights box's text (how wide the box must be)."""
    return max((len(line) for line in str(text).splitlines()), default=0)


def _count(n: int) -> str:
    return f"{n} number{'s' * (n != 1)}"


def format_kernel_text(kernel: np.ndarray) -> str:
    """A kernel as the text parse_kernel_text reads: one row per line, columns right-aligned."""
    cells = [[format_weight(v) for v in row] for row in as_kernel(kernel)]
    width = max(len(c) for row in cells for c in row)
    return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)


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
