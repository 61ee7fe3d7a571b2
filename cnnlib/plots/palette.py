"""The app's one palette: every heat map on every page takes its colours from here.

Three scales, each from a named colour-blind-safe set, written out as explicit stops so that the
browser's plotly.js and Python's plotly draw exactly the same colours:

    SIGNED     values that can be negative (kernels, weights, gradients, products, signed feature
               maps): ColorBrewer's RdBu, reversed, blue for negative, white at 0, red for positive.
               Always centred on 0 (`signed_range`: zmid = 0, zmin = -zmax), so white means 0 on
               every page and the same shade means the same size either side.
    MAGNITUDE  values that are never negative (activations after ReLU, Grad-CAM, a share of a
               confusion matrix's row): viridis, dark purple for 0 or little, yellow for the most.
               Never a rainbow (Jet): its blue reads as "negative" and its bright bands invent
               edges that are not in the data.
    IMAGE      pictures (the input image, an input patch, a preprocessed digit): grey, black 0.

`categories` builds a step scale for maps of kinds rather than values (the Shape calculator's
input / padding / output cells, a "pad" cell); it interpolates nothing.

Deuteranopia and protanopia keep SIGNED's two ends apart (tests/plots/test_palette.py simulates
both with the Machado et al. (2009) matrices and measures the distance in CIELAB).
`legend(kind)` is the sentence a page prints under a figure drawn with that scale.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "legend",
    "is_signed",
    "signed_range",
    "magnitude_range",
    "value_range",
    "image_range",
    "categories",
]


# ColorBrewer RdBu (11 classes), reversed: index 0 is the most negative value.
_RDBU_R = [
    "rgb(5,48,97)",
    "rgb(33,102,172)",
    "rgb(67,147,195)",
    "rgb(146,197,222)",
    "rgb(209,229,240)",
    "rgb(247,247,247)",
    "rgb(253,219,199)",
    "rgb(244,165,130)",
    "rgb(214,96,77)",
    "rgb(178,24,43)",
    "rgb(103,0,31)",
]
# viridis (matplotlib's, 10 stops as plotly ships it)
_VIRIDIS = [
    "#440154",
    "#482878",
    "#3e4989",
    "#31688e",
    "#26828e",
    "#1f9e89",
    "#35b779",
    "#6ece58",
    "#b5de2b",
    "#fde725",
]


def _stops(colours: Sequence[str]) -> list[list]:
    n = len(colours) - 1
    return [[round(i / n, 4), c] for i, c in enumerate(colours)]


SIGNED: list[list] = _stops(_RDBU_R)
"""Diverging, for signed values: blue negative, white 0, red positive (ColorBrewer RdBu)."""
MAGNITUDE: list[list] = _stops(_VIRIDIS)
"""Sequential, for magnitudes: dark purple low, yellow high (viridis)."""
IMAGE: list[list] = [[0.0, "rgb(0,0,0)"], [1.0, "rgb(255,255,255)"]]
"""Grey, for images: black 0, white 1."""
SCALES: dict[str, list[list]] = {"signed": SIGNED, "magnitude": MAGNITUDE, "image": IMAGE}

LEGENDS = {
    "signed": "Red = positive, blue = negative, white = 0.",
    "magnitude": "Dark purple = 0 or little, yellow = the most.",
    "image": "Grey levels: black 0, white 1.",
}


def legend(kind: str) -> str:
    """The sentence under a figure drawn with the scale `kind` ("signed", "magnitude" or "image")."""
    return LEGENDS[kind]


def is_signed(values: np.ndarray) -> bool:
    """True when the values go below zero (then the signed scale, centred on 0, is used)."""
    return bool(np.nanmin(values) < 0) if np.size(values) and not np.all(np.isnan(values)) else False


def signed_range(values: np.ndarray | float) -> dict:
    """Heat-map colour arguments for signed values: SIGNED with its range centred on 0.

    values: the data (or its largest absolute value); the range is [-m, m] with m = max |value|
    (1 when every value is 0 or missing), so 0 is always white.
    """
    a = np.abs(np.asarray(values, dtype=np.float64))
    m = float(np.nanmax(a)) if a.size and not np.all(np.isnan(a)) else 0.0
    m = m if np.isfinite(m) and m > 0 else 1.0
    return {"colorscale": SIGNED, "zmid": 0.0, "zmin": -m, "zmax": m}


def magnitude_range(values: np.ndarray | None = None, top: float | None = None) -> dict:
    """Heat-map colour arguments for magnitudes: MAGNITUDE from 0 to the largest value (or `top`)."""
    if top is None:
        v = np.asarray(values if values is not None else [], dtype=np.float64)
        top = float(np.nanmax(v)) if v.size and not np.all(np.isnan(v)) else 1.0
    top = top if np.isfinite(top) and top > 0 else 1.0
    return {"colorscale": MAGNITUDE, "zmin": 0.0, "zmax": float(top)}


def value_range(values: np.ndarray) -> dict:
    """SIGNED centred on 0 when any value is negative, else MAGNITUDE from 0."""
    return signed_range(values) if is_signed(values) else magnitude_range(values)


def image_range(top: float = 1.0) -> dict:
    """Heat-map colour arguments for a grey image with values in [0, top]."""
    return {"colorscale": IMAGE, "zmin": 0.0, "zmax": float(top)}


def categories(colours: Sequence[str]) -> list[list]:
    """A step scale for a map of kinds coded 0.5, 1.5, ... (zmin 0, zmax len(colours)): each kind
    one flat colour, nothing interpolated between them."""
    n = len(colours)
    scale: list[list] = []
    for i, colour in enumerate(colours):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    return scale


def is_categories(scale: Sequence[Sequence]) -> bool:
    """Whether a colour scale is a step scale as `categories` builds it (flat colours only)."""
    pairs = [(float(p), str(c)) for p, c in scale]
    if len(pairs) < 2 or len(pairs) % 2:
        return False
    return all(pairs[i][1] == pairs[i + 1][1] for i in range(0, len(pairs), 2))
