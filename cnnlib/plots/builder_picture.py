"""The model builder's diagram as a picture (PNG bytes): the blocks of cnnlib.plots.builder, drawn
with Pillow, so the page loads no plotly.js for a figure nobody needs to hover.

The geometry, colours and labels are network_diagram_dict's (the same blocks, the same label rows
and fonts, laid out for a plot REF_WIDTH_PX wide); this module only maps its plot units to pixels
and paints the faces and the labels. What the figure's hover said (each block's layers and
parameters) is in the summary table beside it.

    spec_picture(spec_json, height=420, scale=1.25) -> PNG bytes
    diagram_image(figure_dict, scale)               -> a Pillow image of any such dict
"""

from __future__ import annotations

import re

from PIL import Image, ImageDraw

from cnnlib.plots.builder import LINE_EM, REF_WIDTH_PX, network_diagram_dict
from cnnlib.plots.pictures import colour_rgb, font, to_png
from cnnlib.spec import ModelSpec, summarize_partial

__all__ = ["diagram_image", "spec_picture"]

_TAG = re.compile(r"</?b>")
WHITE = (255, 255, 255)


def _rgb_on_white(colour: str) -> tuple[int, int, int]:
    """A colour (an "rgba(...)" one blended over white, as the figure shows it) as (r, g, b)."""
    r, g, b = colour_rgb(colour)
    if colour.strip().startswith("rgba"):
        alpha = float(colour[colour.index("(") + 1 : colour.rindex(")")].split(",")[3])
        r, g, b = (int(round(alpha * v + (1 - alpha) * 255)) for v in (r, g, b))
    return r, g, b


def _text_line(
    draw: ImageDraw.ImageDraw, cx: float, cy: float, text: str, fill: tuple, size: int, bold: bool
) -> None:
    """One line centred on (cx, cy); "×" drawn as two strokes (the bundled font has none), bold by a
    stroke of the text's own colour."""
    f = font(size)
    parts = text.split("×")
    sign = 0.62 * size
    total = sum(f.getlength(p) for p in parts) + sign * (len(parts) - 1)
    x = cx - total / 2
    stroke = 1 if bold and size >= 12 else 0
    for n, part in enumerate(parts):
        if part:
            draw.text((x, cy), part, fill=fill, font=f, anchor="lm", stroke_width=stroke, stroke_fill=fill)
            x += f.getlength(part)
        if n < len(parts) - 1:
            r, mid = 0.2 * size, x + sign / 2
            width = max(1, size // 8 + (1 if bold else 0))
            draw.line((mid - r, cy - r, mid + r, cy + r), fill=fill, width=width)
            draw.line((mid - r, cy + r, mid + r, cy - r), fill=fill, width=width)
            x += sign


def _cross(draw: ImageDraw.ImageDraw, cx: float, cy: float, size: float, fill: tuple) -> None:
    """The error marker's ✖ (not in the bundled font)."""
    r = 0.3 * size
    w = max(2, int(size / 6))
    draw.line((cx - r, cy - r, cx + r, cy + r), fill=fill, width=w)
    draw.line((cx - r, cy + r, cx + r, cy - r), fill=fill, width=w)


def _dashed(
    draw: ImageDraw.ImageDraw, points: list[tuple[float, float]], fill: tuple, width: int, dash: float
) -> None:
    """A closed polyline drawn in dashes `dash` px long."""
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        length = max(1e-9, ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)
        steps = int(length // dash)
        for k in range(0, steps + 1, 2):
            a, b = k * dash / length, min(1.0, (k + 1) * dash / length)
            draw.line((x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, x0 + (x1 - x0) * b, y0 + (y1 - y0) * b),
                      fill=fill, width=width)  # fmt: skip


def diagram_image(fig: dict, scale: float = 1.0) -> Image.Image:
    """A figure dict of filled polygons and text annotations (network_diagram_dict's) as an image:
    its height times `scale` px tall, its plot REF_WIDTH_PX times `scale` wide plus the margins."""
    layout = fig["layout"]
    m = layout["margin"]
    plot_w, height = REF_WIDTH_PX * scale, layout["height"] * scale
    width = plot_w + (m["l"] + m["r"]) * scale
    (x0, x1), (y0, y1) = layout["xaxis"]["range"], layout["yaxis"]["range"]
    plot_h = height - (m["t"] + m["b"]) * scale

    def px(x: float, y: float) -> tuple[float, float]:
        return m["l"] * scale + (x - x0) / (x1 - x0) * plot_w, m["t"] * scale + (y1 - y) / (y1 - y0) * plot_h

    img = Image.new("RGB", (int(round(width)), int(round(height))), WHITE)
    draw = ImageDraw.Draw(img)
    for trace in fig["data"]:
        points = [px(x, y) for x, y in zip(trace["x"], trace["y"], strict=True)]
        line = trace.get("line", {})
        outline = _rgb_on_white(line.get("color", "white")) if line.get("color") != "white" else WHITE
        draw.polygon(points, fill=_rgb_on_white(trace.get("fillcolor", "white")))
        if line.get("dash"):
            _dashed(draw, points, outline, max(1, int(line.get("width", 1) * scale)), 6 * scale)
        else:
            draw.line(points, fill=outline, width=max(1, int(line.get("width", 1) * scale)))
    for a in layout.get("annotations", []):
        size = int(round(a["font"]["size"] * scale))
        fill = colour_rgb(a["font"]["color"])
        cx, cy = px(a["x"], a["y"])
        if a["text"] == "<b>✖</b>":
            _cross(draw, cx, cy, size, fill)
            continue
        lines = a["text"].split("<br>")
        line_h = size * LINE_EM
        cy -= a.get("yshift", 0) * scale  # plotly: a positive shift moves up
        block = line_h * len(lines)
        top = {"bottom": cy - block, "top": cy, "middle": cy - block / 2}[a.get("yanchor", "middle")]
        for k, text in enumerate(lines):
            _text_line(draw, cx, top + (k + 0.5) * line_h, _TAG.sub("", text), fill, size, "<b>" in text)
    return img


def spec_picture(spec_json: str, height: int = 420, scale: float = 1.25) -> bytes:
    """The diagram of a spec given as JSON text, as PNG bytes: its layers up to the first broken one,
    with the red marker there (what spec_diagram shows, without the hover)."""
    spec = ModelSpec.from_json(spec_json)
    rows, err = summarize_partial(spec)
    fig = network_diagram_dict(
        spec.input_shape,
        rows,
        err.layer_index if err is not None else None,
        err.layer_type if err is not None else None,
        height,
    )
    return to_png(diagram_image(fig, scale))
