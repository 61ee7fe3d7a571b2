"""The shape calculator's sliding window as a picture (numpy and Pillow, PNG bytes, no plotly.js).

`sliding_picture` draws what `cnnlib.plots.shapes.sliding_figure` draws, in the style of the
conv_arithmetic animations: the (padded) input grid with the kernel's taps on it (dilation shows as
gaps between taps), the window's span dashed, an arrow to the output pixel those taps make on the
output grid, "0" written on padding and inserted zeros, both grids titled, and a legend of the
colours in use. Nobody hovers it (the legend names every kind of cell), so it is a picture: the
Shape calculator's first view then loads no plotly.js at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from cnnlib.plots.pictures import centred_text, colour_rgb, font, to_png
from cnnlib.plots.shapes import CELL_CODE, CELLS, CURRENT_COLOUR, GRID_GAP, TAP_COLOUR, input_cells
from cnnlib.shapes import SlidingAxis

__all__ = ["sliding_picture"]

TEXT = (38, 39, 48)  # as the figure's dark text
WINDOW = (8, 48, 107)
ARROW = (0, 68, 27)
ZERO_INK = (119, 119, 119)


def _dashed_rect(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], dash: float = 8) -> None:
    x0, y0, x1, y1 = box
    for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
        n = max(1, int(math.hypot(b[0] - a[0], b[1] - a[1]) // dash))
        for k in range(0, n, 2):
            t0, t1 = k / n, min(1.0, (k + 1) / n)
            draw.line(
                (a[0] + (b[0] - a[0]) * t0, a[1] + (b[1] - a[1]) * t0, a[0] + (b[0] - a[0]) * t1,
                 a[1] + (b[1] - a[1]) * t1),
                fill=WINDOW, width=3,
            )  # fmt: skip


def _arrow(
    draw: ImageDraw.ImageDraw, start: tuple[float, float], end: tuple[float, float], head: float
) -> None:
    draw.line((*start, *end), fill=ARROW, width=3)
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    left = (end[0] - head * math.cos(angle - 0.45), end[1] - head * math.sin(angle - 0.45))
    right = (end[0] - head * math.cos(angle + 0.45), end[1] - head * math.sin(angle + 0.45))
    draw.polygon((end, left, right), fill=ARROW)


def sliding_picture(
    rows: SlidingAxis,
    cols: SlidingAxis,
    out_row: int,
    out_col: int,
    uncovered_rows: Sequence[int] = (),
    uncovered_cols: Sequence[int] = (),
    input_label: str = "Input",
    transposed: bool = False,
    width_px: int = 760,
) -> bytes:
    """The window for output pixel (out_row, out_col) on the input grid, next to the output grid;
    PNG bytes about `width_px` wide (cells square, 12 to 50 px).

    rows, cols: the layer's SlidingAxis for height and width (cnnlib.shapes.window.sliding_axis).
    uncovered_rows/cols: input rows/cols that no window reads, shaded as such.
    """
    R, C = len(rows.cells), len(cols.cells)
    OH, OW = rows.out_size, cols.out_size
    kinds, text, _ = input_cells(rows, cols, set(uncovered_rows), set(uncovered_cols))  # [R, C] each
    x_span = C + GRID_GAP + OW
    cell = max(12, min(50, 640 // max(R, OH, 1), int((width_px - 20) / x_span)))
    gap = 2 if cell >= 16 else 1
    title_h, note_h = 34, (24 if transposed else 0)
    left, top = 10, title_h + 6
    grids_h = max(R, OH) * cell
    out_x = left + (C + GRID_GAP) * cell  # where the output grid starts

    # The legend: one entry per colour in use, then the window and the output pixel, wrapped in rows.
    used = {int(v) for v in np.unique(kinds)} | {CELL_CODE["output"]}
    entries = [(colour_rgb(colour), name) for i, (_, colour, name) in enumerate(CELLS) if i in used]
    entries += [
        (colour_rgb(TAP_COLOUR), "kernel taps (the window)"),
        (colour_rgb(CURRENT_COLOUR), "the output pixel they make"),
    ]
    width = int(max(left + x_span * cell + 10, 320))
    small = font(15)
    lines: list[list[tuple[tuple[int, int, int], str]]] = [[]]
    x: float = left
    for colour, name in entries:
        w = 26 + small.getlength(name) + 18
        if lines[-1] and x + w > width - 10:
            lines.append([])
            x = left
        lines[-1].append((colour, name))
        x += w
    legend_top = top + grids_h + note_h + 12
    height = legend_top + 26 * len(lines) + 6

    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    colours = [colour_rgb(c) for _, c, _ in CELLS]
    zero_font = font(max(9, min(14, cell // 2)))
    x0: float  # the output grid starts GRID_GAP (a fraction of) cells after the input grid
    for i in range(R):
        for j in range(C):
            x0, y0 = left + j * cell, top + i * cell
            draw.rectangle((x0, y0, x0 + cell - 1 - gap, y0 + cell - 1 - gap), fill=colours[int(kinds[i, j])])
            if text[i, j]:
                draw.text((x0 + (cell - gap) / 2, y0 + (cell - gap) / 2), text[i, j], fill=ZERO_INK,
                          font=zero_font, anchor="mm")  # fmt: skip
    for i in range(OH):
        for j in range(OW):
            x0, y0 = out_x + j * cell, top + i * cell
            draw.rectangle(
                (x0, y0, x0 + cell - 1 - gap, y0 + cell - 1 - gap), fill=colours[CELL_CODE["output"]]
            )

    taps_r, taps_c = rows.taps(out_row), cols.taps(out_col)
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    odraw = ImageDraw.Draw(overlay)
    m = (cell - gap) * 0.08  # the taps are a little smaller than their cells, as in the figure
    tap = (*colour_rgb(TAP_COLOUR), int(0.72 * 255))
    for r in taps_r:
        for c in taps_c:
            x0, y0 = left + c * cell, top + r * cell
            odraw.rectangle((x0 + m, y0 + m, x0 + cell - 1 - gap - m, y0 + cell - 1 - gap - m), fill=tap)
    img.paste(Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB"))
    draw = ImageDraw.Draw(img)
    span = (left + taps_c[0] * cell - 2, top + taps_r[0] * cell - 2,
            left + (taps_c[-1] + 1) * cell - gap + 1, top + (taps_r[-1] + 1) * cell - gap + 1)  # fmt: skip
    _dashed_rect(draw, span)
    px, py = out_x + out_col * cell, top + out_row * cell
    draw.rectangle((px + 1, py + 1, px + cell - 2 - gap, py + cell - 2 - gap), fill=colour_rgb(CURRENT_COLOUR),
                   outline=ARROW, width=2)  # fmt: skip
    centre = ((span[0] + span[2]) / 2, (span[1] + span[3]) / 2)
    _arrow(draw, centre, (px + (cell - gap) / 2, py + (cell - gap) / 2), head=max(8, cell / 3))

    centred_text(draw, (left + C * cell / 2, title_h / 2 + 4), input_label, TEXT, 19)
    centred_text(draw, (out_x + OW * cell / 2, title_h / 2 + 4), f"Output {OH}×{OW}", TEXT, 19)
    if transposed:
        draw.text((left, top + grids_h + 4), "drawn as a stride-1 convolution over the stretched input "
                  "(kernel flipped)", fill=(85, 85, 85), font=font(13))  # fmt: skip
    for n, line in enumerate(lines):
        x, y = left, legend_top + 26 * n
        for colour, name in line:
            draw.rectangle((x, y + 2, x + 16, y + 18), fill=colour, outline=(153, 153, 153))
            draw.text((x + 24, y + 10), name, fill=TEXT, font=small, anchor="lm")
            x += 26 + small.getlength(name) + 18
    return to_png(img)
