"""Pictures nobody hovers, drawn with numpy and Pillow and handed to the page as PNG bytes.

A Plotly figure costs every student's browser plotly.js (1.5 MB to parse and run) and its drawing;
a picture costs a PNG. The pictures use the same palettes as the figures (cnnlib.plots.palette) and
write their numbers in the cells when a grid is small, so nothing a student could read is lost.

    colourize(values, colorscale, zmin, zmax)  values -> [H, W, 3] uint8 through a palette
    font(size)                                 Pillow's bundled font at a pixel size (kept)
    fitting_font(text, size, width)            that font, smaller until the text fits
    ink_for(rgb)                               dark or light text, whichever reads on that colour
    draw_grid(draw, x, y, colours, labels, cell, ...)  cells with their numbers written in
    centred_text(draw, xy, text, fill, size)   a line of text centred, its × drawn (the font has none)
    to_png(image)                              PNG bytes (what st.image shows)
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "centred_text",
    "colour_rgb",
    "colourize",
    "draw_grid",
    "fitting_font",
    "font",
    "ink_for",
    "to_png",
]

TEXT = (17, 24, 39)  # the app's text colour (.streamlit/config.toml)
LIGHT_TEXT = (255, 255, 255)


def colour_rgb(colour: str) -> tuple[int, int, int]:
    """A colour, "#rrggbb", "rgb(r,g,b)" or "rgba(r,g,b,a)" as an (r, g, b) tuple (alpha dropped)."""
    c = colour.strip()
    if c.startswith("#") and len(c) == 7:
        return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)
    if c.startswith("rgb"):
        parts = c[c.index("(") + 1 : c.rindex(")")].split(",")
        r, g, b = (int(round(float(p))) for p in parts[:3])
        return r, g, b
    raise ValueError(f"not a colour: {colour!r}")


def colourize(values: np.ndarray, colorscale: Sequence[Sequence], zmin: float, zmax: float) -> np.ndarray:
    """Each value's colour on a Plotly-style colour scale ([[0, c0], ..., [1, cn]]), linear between
    stops, as a heatmap with that zmin/zmax draws it: [H, W] -> [H, W, 3] uint8. NaN is white."""
    v = np.asarray(values, dtype=np.float64)  # [H, W]
    span = zmax - zmin if zmax > zmin else 1.0
    t = np.clip((v - zmin) / span, 0.0, 1.0)  # [H, W]
    pos = np.array([float(s[0]) for s in colorscale])  # [S]
    rgb = np.array([colour_rgb(str(s[1])) for s in colorscale], dtype=np.float64)  # [S, 3]
    out = np.stack([np.interp(np.nan_to_num(t), pos, rgb[:, k]) for k in range(3)], axis=-1)  # [H, W, 3]
    out[np.isnan(v)] = 255.0
    return np.round(out).astype(np.uint8)


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at `size` pixels (kept: loading it costs a millisecond)."""
    return ImageFont.load_default(size=size)


def fitting_font(
    text: str, size: int, width: float, smallest: int = 9
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The font at `size` px, or smaller (not below `smallest`) until `text` fits in `width` px."""
    while size > smallest and font(size).getlength(text) > width:
        size -= 1
    return font(size)


def ink_for(rgb: Sequence[int]) -> tuple[int, int, int]:
    """Dark text on a light cell, white text on a dark one (by the cell's luminance)."""
    r, g, b = (float(x) for x in rgb[:3])
    return TEXT if 0.299 * r + 0.587 * g + 0.114 * b > 140 else LIGHT_TEXT


def draw_grid(
    draw: ImageDraw.ImageDraw,
    x: int,
    y: int,
    colours: np.ndarray,
    labels: Sequence[Sequence[str]] | None,
    cell: int,
    gap: int = 2,
    font_size: int | None = None,
    ink: Sequence[Sequence[tuple[int, int, int] | None]] | None = None,
) -> None:
    """Cells of `colours` ([R, C, 3] uint8) from (x, y), `cell` px each with `gap` px between them,
    each with its label (if any) centred in it, in `ink` or whichever of dark and light reads; a
    label too wide for its cell is written smaller (down to 9 px)."""
    rows, cols = colours.shape[:2]
    size = font_size or max(9, cell // 3)
    for i in range(rows):
        for j in range(cols):
            x0, y0 = x + j * (cell + gap), y + i * (cell + gap)
            rgb = tuple(int(c) for c in colours[i, j])
            draw.rectangle((x0, y0, x0 + cell - 1, y0 + cell - 1), fill=rgb)
            text = labels[i][j] if labels is not None else ""
            if text:
                colour = ink[i][j] if ink is not None and ink[i][j] is not None else ink_for(rgb)
                f = fitting_font(text, size, cell - 4)
                draw.text((x0 + cell / 2, y0 + cell / 2), text, fill=colour, font=f, anchor="mm")


def centred_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    fill: Sequence[int],
    size: int,
) -> None:
    """`text` centred on `xy`, its "×" signs drawn as two short strokes (Pillow's bundled font has
    no ×, and a DejaVu font may not be installed where the app runs)."""
    f = font(size)
    parts = text.split("×")
    sign = 0.62 * size  # the width a × takes
    total = sum(f.getlength(p) for p in parts) + sign * (len(parts) - 1)
    x, y = xy[0] - total / 2, xy[1]
    colour = tuple(fill)
    for n, part in enumerate(parts):
        if part:
            draw.text((x, y), part, fill=colour, font=f, anchor="lm")
            x += f.getlength(part)
        if n < len(parts) - 1:
            r, cx = 0.2 * size, x + sign / 2
            width = max(1, size // 9)
            draw.line((cx - r, y - r, cx + r, y + r), fill=colour, width=width)
            draw.line((cx - r, y + r, cx + r, y - r), fill=colour, width=width)
            x += sign


def to_png(image: Image.Image) -> bytes:
    """The picture as PNG bytes."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()
