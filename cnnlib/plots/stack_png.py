"""The Shape calculator's stack chart as a picture (PNG bytes), drawn with Pillow: no plotly.js.

The same series as cnnlib.plots.shapes.stack_figure (stack_series): per layer, the feature map's
spatial size as bars (height, and width beside it when they differ), and what one unit sees of the
input, its receptive field and jump, as lines; all in input pixels on one axis. Every number the
figure showed on hover is written on the picture: the bars' sizes above them, the receptive field
and the jump beside their markers. A layer torch refuses gets a red cross and "refused".

    stack_picture(stack, width=760, height=380) -> PNG bytes
    nice_ticks(top)                             -> the y axis' ticks, 0 to at least `top`
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from cnnlib.plots.pictures import TEXT, fitting_font, font, to_png
from cnnlib.plots.shapes import stack_series
from cnnlib.shapes import StackResult

__all__ = ["STACK_COLOURS", "nice_ticks", "stack_picture"]

STACK_COLOURS = {  # the figure's colours
    "height": (107, 174, 214),
    "width": (198, 219, 239),
    "rf": (230, 85, 13),
    "jump": (117, 107, 177),
    "refused": (203, 24, 29),
    "grid": (232, 232, 232),
}


def nice_ticks(top: float, most: int = 6) -> list[int]:
    """Whole-number ticks from 0 in steps of 1, 2 or 5 times a power of ten, the last >= `top`."""
    top = max(1.0, float(top))
    for power in range(0, 12):
        for base in (1, 2, 5):
            step = base * 10**power
            if math.ceil(top / step) <= most:
                return [step * k for k in range(math.ceil(top / step) + 1)]
    return [0, int(math.ceil(top))]


def _legend(draw: ImageDraw.ImageDraw, x: float, y: float, entries: list[tuple[str, str]], size: int) -> None:
    """A row of legend entries: (kind, text), kind "bar:<colour>", "line", "dash" or "cross"."""
    f = font(size)
    for kind, text in entries:
        if kind.startswith("bar:"):
            draw.rectangle((x, y - size / 2, x + size, y + size / 2), fill=STACK_COLOURS[kind[4:]])
        elif kind == "cross":
            r = size / 2.5
            draw.line(
                (x + size / 2 - r, y - r, x + size / 2 + r, y + r), fill=STACK_COLOURS["refused"], width=3
            )
            draw.line(
                (x + size / 2 - r, y + r, x + size / 2 + r, y - r), fill=STACK_COLOURS["refused"], width=3
            )
        else:
            colour = STACK_COLOURS["rf" if kind == "line" else "jump"]
            _polyline(draw, [(x, y), (x + 2 * size, y)], colour, 4 if kind == "line" else 3, kind == "dash")
            x += size
        draw.text((x + size + 6, y), text, fill=TEXT, font=f, anchor="lm")
        x += size + 6 + f.getlength(text) + 22


def _polyline(
    draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], colour: tuple, width: int, dash: bool
) -> None:
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        if not dash:
            draw.line((x0, y0, x1, y1), fill=colour, width=width)
            continue
        length = max(1e-9, math.hypot(x1 - x0, y1 - y0))
        for k in range(0, int(length // 8) + 1, 2):
            a, b = k * 8 / length, min(1.0, (k + 1) * 8 / length)
            draw.line((x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, x0 + (x1 - x0) * b, y0 + (y1 - y0) * b),
                      fill=colour, width=width)  # fmt: skip


def _runs(xs: list[float], values: list) -> list[list[tuple[float, float]]]:
    """The (x, value) points of a line, split where a value is missing (no line across a gap)."""
    out: list[list[tuple[float, float]]] = [[]]
    for x, v in zip(xs, values, strict=False):  # xs: one more when a refused layer is marked
        if v is None:
            out.append([])
        else:
            out[-1].append((x, float(v)))
    return [run for run in out if run]


SHORT = {  # layer types as the x axis writes them under a narrow slot
    "Conv2d": "Conv",
    "ConvTranspose2d": "ConvT",
    "MaxPool2d": "MaxPool",
    "AvgPool2d": "AvgPool",
    "AdaptiveAvgPool2d": "AdaptPool",
    "BatchNorm2d": "BN",
    "LeakyReLU": "LReLU",
    "Dropout": "Drop",
    "Dropout2d": "Drop2d",
}

TINY = {
    "MaxPool2d": "Max",
    "AvgPool2d": "Avg",
    "AdaptiveAvgPool2d": "Adapt",
    "Flatten": "Flat",
    "ConvTranspose2d": "ConvT",
}


def _x_label(draw: ImageDraw.ImageDraw, cx: float, y: float, name: str, slot: float, size: int) -> None:
    """ "3. MaxPool2d" under its slot as two lines ("3" and "MaxPool"; the full name where it fits),
    smaller if it is too wide."""
    head, _, rest = name.partition(" ")
    full = rest
    for names in (SHORT, TINY):  # shorter names where the full one does not fit
        if rest and font(size).getlength(rest) > slot - 4:
            rest = names.get(full, rest)
    lines = [head.rstrip("."), rest] if rest else [head]
    for k, text in enumerate(lines):
        f = fitting_font(text, size, slot - 4)
        draw.text((cx, y + k * (size + 3)), text, fill=TEXT, font=f, anchor="mt")


def stack_picture(stack: StackResult, width: int = 760, height: int = 380) -> bytes:
    """The stack chart as PNG bytes (see the module's docstring)."""
    names, heights, widths, rf, jump = stack_series(stack)
    square = widths == heights
    bad = stack.error.layer_index if stack.error is not None else None
    refused = bad is not None
    if bad is not None:
        names = names + [f"{bad + 1}. {stack.error_type or 'refused'}"]
    n = len(names)
    size = 15
    left, right, top, bottom = 64, 14, 44, 2 * size + 16
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for series in (heights, widths, rf, jump) for v in series if v is not None]
    ticks = nice_ticks(max(values, default=1) * 1.12)  # room for the numbers above the bars
    y_top = ticks[-1]
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)

    def y_px(v: float) -> float:
        return top + plot_h * (1 - v / y_top)

    f = font(14)
    for t in ticks:
        draw.line((left, y_px(t), width - right, y_px(t)), fill=STACK_COLOURS["grid"], width=1)
        draw.text((left - 6, y_px(t)), f"{t:,}", fill=TEXT, font=f, anchor="rm")
    axis = Image.new("RGBA", (plot_h, 20), (255, 255, 255, 0))  # the y title, turned a quarter
    ImageDraw.Draw(axis).text((plot_h / 2, 10), "input pixels", fill=TEXT, font=font(15), anchor="mm")
    img.paste(axis.rotate(90, expand=True), (2, top), axis.rotate(90, expand=True))
    slot = plot_w / n
    xs = [left + slot * (i + 0.5) for i in range(n)]
    bar_w = slot * (0.7 if square else 0.38)
    series = [("height", heights)] if square else [("height", heights), ("width", widths)]
    for k, (colour, vals) in enumerate(series):
        shift = 0.0 if square else (k - 0.5) * bar_w
        for x, v in zip(xs, vals, strict=False):
            if v is None:
                continue
            x0 = x + shift - bar_w / 2
            draw.rectangle((x0, y_px(v), x0 + bar_w, y_px(0)), fill=STACK_COLOURS[colour])
            label_font = fitting_font(f"{v:,}", size, bar_w + 6)
            draw.text((x0 + bar_w / 2, y_px(v) - 3), f"{v:,}", fill=TEXT, font=label_font, anchor="mb")
    for name, vals, dash, mark in (("rf", rf, False, "circle"), ("jump", jump, True, "diamond")):
        ink = STACK_COLOURS[name]
        for run in _runs(xs, vals):
            pts = [(x, y_px(v)) for x, v in run]
            _polyline(draw, pts, ink, 4 if name == "rf" else 3, dash)
            for (x, y), (_, v) in zip(pts, run, strict=True):
                r = 6 if mark == "circle" else 5
                shape = [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]
                if mark == "circle":
                    draw.ellipse((x - r, y - r, x + r, y + r), fill=ink)
                else:
                    draw.polygon(shape, fill=ink)
                draw.text((x + r + 3, y - (2 if name == "rf" else -2)), f"{v:g}", fill=ink, font=font(13),
                          anchor="lb" if name == "rf" else "lt", stroke_width=2, stroke_fill=(255, 255, 255))  # fmt: skip
    if refused:
        x, y, r = xs[-1], y_px(0) - 12, 10
        draw.line((x - r, y - r, x + r, y + r), fill=STACK_COLOURS["refused"], width=4)
        draw.line((x - r, y + r, x + r, y - r), fill=STACK_COLOURS["refused"], width=4)
        draw.text((x, y - r - 4), "refused", fill=STACK_COLOURS["refused"], font=font(16), anchor="mb")
    draw.line((left, y_px(0), width - right, y_px(0)), fill=(120, 120, 120), width=1)
    for x, name in zip(xs, names, strict=True):
        _x_label(draw, x, y_px(0) + 6, name, slot, 14)
    suffix = "" if square else " (height)"
    entries = [("bar:height", "feature map size" if square else "height")]
    entries += [] if square else [("bar:width", "width")]
    entries += [("line", "receptive field" + suffix), ("dash", "jump (effective stride)" + suffix)]
    entries += [("cross", "layer PyTorch refuses")] if refused else []
    _legend(draw, left, top / 2, entries, 14)
    return to_png(img)
