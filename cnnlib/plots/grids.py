"""Small grids with every number written in, as pictures: the Kernels page's step-through.

`step_picture` draws what `cnnlib.plots.kernels.step_figure` drew with Plotly (the input patch,
× the kernel, = their products, side by side, titled) as one PNG: nobody hovers it (every value is
written in its cell), so it costs the browser a picture instead of plotly.js. Colours from
cnnlib.plots.palette: the patch grey from 0 to at least 1, the kernel and the products on SIGNED
centred on 0; cells in the zero padding in their own colour, written "pad".
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from cnnlib.kernels import format_weight
from cnnlib.plots.kernels import PAD_CELL
from cnnlib.plots.palette import image_range, signed_range
from cnnlib.plots.pictures import TEXT, colour_rgb, colourize, draw_grid, font, to_png

__all__ = ["grid_labels", "step_picture"]

PAD_INK = (93, 64, 55)
TITLES = ("Input patch", "Kernel", "Products")  # with × and = drawn between the grids (the font has no ×)


def grid_labels(
    values: np.ndarray, padded: np.ndarray | None = None, fractions: bool = False
) -> list[list[str]]:
    """Each cell's text: "pad" in the zero padding, a weight as typed (1/9) with `fractions`, else the
    value to 2 decimals without trailing zeros (3 significant digits from 1000 up); never "-0"."""
    z = np.asarray(values, dtype=np.float64)  # [k, k]

    def label(i: int, j: int) -> str:
        if padded is not None and padded[i, j]:
            return "pad"
        v = float(z[i, j]) + 0.0  # no "-0"
        if fractions:
            return format_weight(v)
        text = f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:.3g}"
        return "0" if text in ("-0", "") else text

    return [[label(i, j) for j in range(z.shape[1])] for i in range(z.shape[0])]


def _colours(values: np.ndarray, signed: bool, padded: np.ndarray | None) -> np.ndarray:
    z = np.asarray(values, dtype=np.float64)  # [k, k]
    scale = signed_range(z) if signed else image_range(max(1.0, float(np.nanmax(z)) if z.size else 1.0))
    rgb = colourize(z, scale["colorscale"], scale["zmin"], scale["zmax"])  # [k, k, 3]
    if padded is not None and np.any(padded):
        rgb[np.asarray(padded, dtype=bool)] = colour_rgb(PAD_CELL)
    return rgb


def _operator(draw: ImageDraw.ImageDraw, cx: float, cy: float, which: str, r: float = 8) -> None:
    """A multiplication sign or an equals sign centred on (cx, cy), drawn with lines."""
    if which == "times":
        draw.line((cx - r, cy - r, cx + r, cy + r), fill=TEXT, width=3)
        draw.line((cx - r, cy + r, cx + r, cy - r), fill=TEXT, width=3)
    else:
        draw.line((cx - r, cy - 4, cx + r, cy - 4), fill=TEXT, width=3)
        draw.line((cx - r, cy + 4, cx + r, cy + 4), fill=TEXT, width=3)


def step_picture(
    patch: np.ndarray,
    kernel: np.ndarray,
    products: np.ndarray,
    padded: np.ndarray | None = None,
    scale: float = 1.0,
) -> bytes:
    """The input patch, × the kernel, = their products: three titled grids side by side, each number
    written in its cell (patch and products [kh, kw], `padded` a boolean mask of the patch's cells in
    the zero padding); PNG bytes. `scale` makes every size bigger (the projector's type: 1.375)."""
    kh, kw = np.shape(kernel)
    cell = 64 if max(kh, kw) <= 3 else 54 if max(kh, kw) <= 5 else max(34, 320 // max(kh, kw))
    cell = int(round(cell * scale))
    gap, between, title_h = 2, int(round(36 * scale)), int(round(34 * scale))
    size_px = int(round(max(11, min(20, cell / scale // 3)) * scale))  # readable from the back of a room
    grid_w, grid_h = kw * (cell + gap) - gap, kh * (cell + gap) - gap
    width, height = 3 * grid_w + 2 * between + 8, title_h + grid_h + 4
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    parts = (
        (_colours(patch, False, padded), grid_labels(patch, padded)),
        (_colours(kernel, True, None), grid_labels(kernel, fractions=True)),
        (_colours(products, True, None), grid_labels(products)),
    )
    for n, ((rgb, labels), title) in enumerate(zip(parts, TITLES, strict=True)):
        x = 4 + n * (grid_w + between)
        draw.text(
            (x + grid_w / 2, title_h / 2), title, fill=TEXT, font=font(int(round(20 * scale))), anchor="mm"
        )
        pad_mask = padded if n == 0 else None
        ink = (
            [
                [PAD_INK if pad_mask is not None and pad_mask[i, j] else None for j in range(kw)]
                for i in range(kh)
            ]
            if pad_mask is not None
            else None
        )
        draw_grid(draw, x, title_h, rgb, labels, cell, gap, font_size=size_px, ink=ink)
        if n:  # the operator before this grid: × before the kernel, = before the products
            _operator(draw, x - between / 2, title_h + grid_h / 2, "times" if n == 1 else "equals", 8 * scale)
    return to_png(img)
