"""The Training page's chart before its first run, as a picture: three empty panels over the epochs.

Before anything has trained there is nothing to hover or zoom, so the page shows this PNG (numpy and
Pillow, no plotly.js) where the live chart will be: the same three panels as
`cnnlib.plots.training.live_figure_dict` (loss, accuracy, learning rate), their x axes already
spanning the planned epochs, and "Press Train". The live chart (Plotly, redrawn in place) takes
its place when a run starts.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from cnnlib.plots.pictures import TEXT, font, to_png
from cnnlib.plots.training import epoch_ticks

__all__ = ["PANELS", "empty_live_picture"]

PANELS = (("Loss", 0.0, 0.40), ("Accuracy", 0.47, 0.75), ("Learning rate", 0.85, 1.0))  # as the live chart
AXIS = (150, 155, 165)
GRID = (232, 234, 238)
NOTE = (90, 96, 110)


def empty_live_picture(epochs: int, width: int = 1200, height: int = 380) -> bytes:
    """Three empty panels titled as the live chart's, each x axis from 0 to `epochs` (a little room
    past it, as the live chart leaves) with epoch ticks, accuracy from 0% to 100%, and "Press Train:
    the curves appear here" on the loss panel; PNG bytes, `width` x `height` px."""
    x_max = max(1.0, float(epochs)) * 1.03
    step = epoch_ticks(x_max)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    left, right, top, bottom = 56, 14, 44, 58  # px around the panels: tick labels, titles, "epoch"
    span = width - left - right
    y0, y1 = top, height - bottom
    small, title = font(15), font(19)
    for name, lo, hi in PANELS:
        x0, x1 = left + lo * span, left + hi * span
        draw.text(((x0 + x1) / 2, top / 2), name, fill=TEXT, font=title, anchor="mm")
        if name == "Accuracy":  # 0% to 100%, as the live chart's fixed axis
            for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
                y = y1 - frac / 1.02 * (y1 - y0)
                draw.line((x0, y, x1, y), fill=GRID, width=1)
                draw.text((x0 - 6, y), f"{frac:.0%}", fill=TEXT, font=small, anchor="rm")
        tick = 0.0
        while tick <= x_max + 1e-9:
            x = x0 + tick / x_max * (x1 - x0)
            draw.line((x, y0, x, y1), fill=GRID, width=1)
            draw.text((x, y1 + 6), f"{tick:g}", fill=TEXT, font=small, anchor="mt")
            tick += step
        draw.line((x0, y1, x1, y1), fill=AXIS, width=2)  # the x axis
        draw.line((x0, y0, x0, y1), fill=AXIS, width=2)  # the y axis
        draw.text(((x0 + x1) / 2, height - 14), "epoch", fill=TEXT, font=small, anchor="mb")
    lo, hi = PANELS[0][1:]
    draw.multiline_text(
        (left + (lo + hi) / 2 * span, (y0 + y1) / 2),
        "Press Train:\nthe curves appear here",
        fill=NOTE,
        font=font(20),
        anchor="mm",
        align="center",
    )
    return to_png(img)
