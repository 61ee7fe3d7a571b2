"""The shape calculator's sliding window as a picture (numpy and Pillow, PNG bytes, no plotly.js).

`sliding_picture` draws, in the style of the conv_arithmetic animations, the (padded) input grid
with the kernel's taps on it (dilation shows as gaps between taps), the window's span dashed, an
arrow to the output pixel those taps make on the output grid, "0" written on padding and inserted
zeros, both grids titled, and a legend of the colours in use. Nobody hovers it (the legend names
every kind of cell), so it is a picture: the Shape calculator's first view loads no plotly.js.
`input_cells` says what each input cell is (CELLS: input, padding, inserted zero, beyond the
input, never read); `picture_fits` whether grids are small enough to draw (MAX_PICTURE_CELLS).
All numbers come from cnnlib.shapes' SlidingAxis (cnnlib.shapes.window.sliding_axis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from cnnlib.plots.pictures import centred_text, colour_rgb, font, to_png
from cnnlib.shapes import SlidingAxis

__all__ = ["MAX_PICTURE_CELLS", "picture_fits", "sliding_picture"]

MAX_PICTURE_CELLS = 40
"""Largest grid (cells a side, padding included) the sliding picture draws."""

# cell codes -> colour, legend name
CELLS = [
    ("input", "#9ecae1", "input pixel"),
    ("pad", "#f2f2f2", "padding"),
    ("zero", "#fff3c4", "zero inserted (stride of a transposed conv)"),
    ("off", "#d9cff0", "beyond the input (ceil_mode window)"),
    ("unread", "#fcae91", "never read by any window"),
    ("output", "#c7e9c0", "output pixel"),
]
CELL_CODE = {name: i for i, (name, _, _) in enumerate(CELLS)}
TAP_COLOUR = "rgba(8, 48, 107, 0.72)"
CURRENT_COLOUR = "#238b45"
GRID_GAP = 2.5  # cells between the input grid and the output grid

TEXT = (38, 39, 48)  # dark text: a light gray fades on a projector
WINDOW = (8, 48, 107)
ARROW = (0, 68, 27)
ZERO_INK = (119, 119, 119)

Legend = list[list[tuple[tuple[int, int, int], str]]]  # rows of (colour, name) entries


def picture_fits(rows: SlidingAxis | None, cols: SlidingAxis | None, limit: int = MAX_PICTURE_CELLS) -> bool:
    """Whether the grids are small enough to draw cell by cell (None: too big to even build)."""
    if rows is None or cols is None:
        return False
    return max(len(rows.cells), len(cols.cells), rows.out_size, cols.out_size) <= limit


def _cell_kind(r: str, c: str) -> str:
    for kind in ("off", "pad", "zero"):
        if kind in (r, c):
            return kind
    return "input"


def input_cells(
    rows: SlidingAxis, cols: SlidingAxis, unread_r: set[int], unread_c: set[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The input grid's cells: colour codes (CELL_CODE + 0.5), their text ("0" on padding and
    inserted zeros) and hover text, each [R, C]."""
    R, C = len(rows.cells), len(cols.cells)
    z_in = np.zeros((R, C))  # [R, C]
    text = np.full((R, C), "", dtype=object)  # [R, C]
    hover = np.full((R, C), "", dtype=object)  # [R, C]
    for i, rk in enumerate(rows.cells):
        for j, ck in enumerate(cols.cells):
            kind = _cell_kind(rk, ck)
            if kind == "input":
                sr, sc = rows.source[i], cols.source[j]
                if sr in unread_r or sc in unread_c:
                    kind = "unread"
                hover[i, j] = f"input row {sr}, column {sc}"
            else:
                hover[i, j] = dict((k, n) for k, _, n in CELLS)[kind]
            if kind in ("pad", "zero"):
                text[i, j] = "0"
            z_in[i, j] = CELL_CODE[kind] + 0.5
    return z_in, text, hover


@dataclass(frozen=True)
class _Frame:
    """Where the picture's parts go, in pixels: grids of R x C input and OH x OW output cells."""

    R: int
    C: int
    OH: int
    OW: int
    cell: int  # a cell's pitch, 12 to 50 px
    gap: int  # the white between cells
    width: int
    left: int
    top: int  # the grids' top, under their titles
    title_h: int
    note_h: int  # the transposed convolution's note under the grids
    grids_h: int
    out_x: float  # where the output grid starts


def _frame(R: int, C: int, OH: int, OW: int, transposed: bool, width_px: int) -> _Frame:
    """Square cells sized to fit `width_px` across both grids (and 640 px down)."""
    x_span = C + GRID_GAP + OW
    cell = max(12, min(50, 640 // max(R, OH, 1), int((width_px - 20) / x_span)))
    gap = 2 if cell >= 16 else 1
    title_h, note_h = 34, (24 if transposed else 0)
    left, top = 10, title_h + 6
    width = int(max(left + x_span * cell + 10, 320))
    out_x = left + (C + GRID_GAP) * cell
    return _Frame(R, C, OH, OW, cell, gap, width, left, top, title_h, note_h, max(R, OH) * cell, out_x)


def _entry_width(name: str) -> float:
    """A legend entry's width: its swatch, its name and the space after it."""
    return 26 + font(15).getlength(name) + 18


def _legend(kinds: np.ndarray, f: _Frame) -> Legend:
    """One entry per colour in use (kinds: [R, C] codes), then the window and the output pixel,
    wrapped in rows that fit the picture's width."""
    used = {int(v) for v in np.unique(kinds)} | {CELL_CODE["output"]}
    entries = [(colour_rgb(colour), name) for i, (_, colour, name) in enumerate(CELLS) if i in used]
    entries += [
        (colour_rgb(TAP_COLOUR), "kernel taps (the window)"),
        (colour_rgb(CURRENT_COLOUR), "the output pixel they make"),
    ]
    lines: Legend = [[]]
    x: float = f.left
    for colour, name in entries:
        w = _entry_width(name)
        if lines[-1] and x + w > f.width - 10:
            lines.append([])
            x = f.left
        lines[-1].append((colour, name))
        x += w
    return lines


def _draw_cells(
    draw: ImageDraw.ImageDraw, kinds: np.ndarray, text: np.ndarray, f: _Frame, output: bool = True
) -> None:
    """The input grid's cells (kinds, text: [R, C]) with their "0"s, and the output grid's (unless
    `output` is False: the answer to a question the class is working out)."""
    colours = [colour_rgb(c) for _, c, _ in CELLS]
    cell, gap = f.cell, f.gap
    zero_font = font(max(9, min(14, cell // 2)))
    x0: float  # the output grid starts GRID_GAP (a fraction of) cells after the input grid
    for i in range(f.R):
        for j in range(f.C):
            x0, y0 = f.left + j * cell, f.top + i * cell
            draw.rectangle((x0, y0, x0 + cell - 1 - gap, y0 + cell - 1 - gap), fill=colours[int(kinds[i, j])])
            if text[i, j]:
                draw.text((x0 + (cell - gap) / 2, y0 + (cell - gap) / 2), text[i, j], fill=ZERO_INK,
                          font=zero_font, anchor="mm")  # fmt: skip
    for i in range(f.OH if output else 0):
        for j in range(f.OW):
            x0, y0 = f.out_x + j * cell, f.top + i * cell
            draw.rectangle(
                (x0, y0, x0 + cell - 1 - gap, y0 + cell - 1 - gap), fill=colours[CELL_CODE["output"]]
            )


def _draw_taps(img: Image.Image, taps_r: list[int], taps_c: list[int], f: _Frame) -> None:
    """The kernel's taps, see-through over their cells (a little smaller, as in the figure)."""
    cell, gap = f.cell, f.gap
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    odraw = ImageDraw.Draw(overlay)
    m = (cell - gap) * 0.08
    tap = (*colour_rgb(TAP_COLOUR), int(0.72 * 255))
    for r in taps_r:
        for c in taps_c:
            x0, y0 = f.left + c * cell, f.top + r * cell
            odraw.rectangle((x0 + m, y0 + m, x0 + cell - 1 - gap - m, y0 + cell - 1 - gap - m), fill=tap)
    img.paste(Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB"))


def _draw_window(
    draw: ImageDraw.ImageDraw,
    taps_r: list[int],
    taps_c: list[int],
    out_row: int,
    out_col: int,
    f: _Frame,
    output: bool = True,
) -> None:
    """The window's span dashed, the output pixel (out_row, out_col) it makes, an arrow between (the
    span alone when `output` is False)."""
    cell, gap, left, top = f.cell, f.gap, f.left, f.top
    span = (left + taps_c[0] * cell - 2, top + taps_r[0] * cell - 2,
            left + (taps_c[-1] + 1) * cell - gap + 1, top + (taps_r[-1] + 1) * cell - gap + 1)  # fmt: skip
    _dashed_rect(draw, span)
    if not output:
        return
    px, py = f.out_x + out_col * cell, top + out_row * cell
    draw.rectangle((px + 1, py + 1, px + cell - 2 - gap, py + cell - 2 - gap), fill=colour_rgb(CURRENT_COLOUR),
                   outline=ARROW, width=2)  # fmt: skip
    centre = ((span[0] + span[2]) / 2, (span[1] + span[3]) / 2)
    _arrow(draw, centre, (px + (cell - gap) / 2, py + (cell - gap) / 2), head=max(8, cell / 3))


def _draw_words(
    draw: ImageDraw.ImageDraw,
    input_label: str,
    transposed: bool,
    lines: Legend,
    legend_top: int,
    f: _Frame,
    output: bool = True,
) -> None:
    """Both grids' titles, the transposed convolution's note, and the legend's rows from legend_top."""
    left, cell = f.left, f.cell
    centred_text(draw, (left + f.C * cell / 2, f.title_h / 2 + 4), input_label, TEXT, 19)
    out_title = f"Output {f.OH}×{f.OW}" if output else "Output: how big?"
    centred_text(draw, (f.out_x + f.OW * cell / 2, f.title_h / 2 + 4), out_title, TEXT, 19)
    if transposed:
        draw.text((left, f.top + f.grids_h + 4), "drawn as a stride-1 convolution over the stretched input "
                  "(kernel flipped)", fill=(85, 85, 85), font=font(13))  # fmt: skip
    small = font(15)
    x: float
    for n, line in enumerate(lines):
        x, y = left, legend_top + 26 * n
        for colour, name in line:
            draw.rectangle((x, y + 2, x + 16, y + 18), fill=colour, outline=(153, 153, 153))
            draw.text((x + 24, y + 10), name, fill=TEXT, font=small, anchor="lm")
            x += _entry_width(name)


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
    show_output: bool = True,
) -> bytes:
    """The window for output pixel (out_row, out_col) on the input grid, next to the output grid;
    PNG bytes about `width_px` wide (cells square, 12 to 50 px).

    rows, cols: the layer's SlidingAxis for height and width (cnnlib.shapes.window.sliding_axis).
    uncovered_rows/cols: input rows/cols that no window reads, shaded as such.
    show_output=False: the window at its place on the input only, no output grid, no arrow and no
    unread cells (a class asked for the output size sees the window, not the answer).
    """
    if not show_output:
        uncovered_rows = uncovered_cols = ()
    f = _frame(len(rows.cells), len(cols.cells), rows.out_size, cols.out_size, transposed, width_px)
    kinds, text, _ = input_cells(rows, cols, set(uncovered_rows), set(uncovered_cols))  # [R, C] each
    lines = _legend(kinds, f)
    legend_top = f.top + f.grids_h + f.note_h + 12
    img = Image.new("RGB", (f.width, legend_top + 26 * len(lines) + 6), "white")
    _draw_cells(ImageDraw.Draw(img), kinds, text, f, show_output)
    taps_r, taps_c = rows.taps(out_row), cols.taps(out_col)
    _draw_taps(img, taps_r, taps_c, f)
    draw = ImageDraw.Draw(img)
    _draw_window(draw, taps_r, taps_c, out_row, out_col, f, show_output)
    _draw_words(draw, input_label, transposed, lines, legend_top, f, show_output)
    return to_png(img)
