"""Draw & predict, the invariance section: each class's probability along one slider, as a PNG.

`sweep_picture(values, probs, classes, current, axis)` draws what `cnnlib.inference.sweep` computed:
a strip on top with the network's answer at every value (so the place where the answer flips is
read at a glance), and below it one line per class that reaches `SHOWN_FROM` somewhere on the
range (the others stay flat near 0 and would only hide the ones that matter), each named where it
peaks, with the slider's current value marked (a dashed line, its answer cell outlined). Pillow and numpy only: no chart library in the
student's browser, and the picture is rebuilt only when the drawing or a slider changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from cnnlib.plots.pictures import TEXT, font, ink_for, to_png

__all__ = ["CLASS_COLOURS", "SHOWN_FROM", "sweep_picture", "shown_classes"]

# Tableau 10 (distinct hues, readable on white; its grey made slate so no class looks switched
# off); class k takes colour k mod 10, on every chart.
CLASS_COLOURS = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (55, 65, 81),
    (188, 189, 34),
    (23, 190, 207),
]
SHOWN_FROM = 0.05  # a class gets a line when its probability reaches this somewhere on the range
GRID = (229, 231, 235)
MUTED = (75, 85, 99)
MARK = (17, 24, 39)


def shown_classes(probs: np.ndarray, least: float = SHOWN_FROM) -> list[int]:
    """The classes whose probability reaches `least` at some value ([N, K] -> indices, highest peak
    first); the top class at every value is always among them."""
    p = np.asarray(probs, dtype=np.float64)
    peaks = p.max(axis=0)  # [K]
    keep = set(np.flatnonzero(peaks >= least).tolist()) | set(p.argmax(axis=1).tolist())
    return sorted(keep, key=lambda k: (-peaks[k], k))


def _value_text(v: float) -> str:
    return f"{v:g}"


def sweep_picture(
    values: Sequence[float],
    probs: np.ndarray,
    classes: Sequence[str],
    current: float | None,
    axis: str,
    width: int = 680,
    height: int = 320,
) -> bytes:
    """values [N] along one slider, probs [N, K] -> PNG bytes: the answer strip, one line per class
    that matters (see `shown_classes`), the current value marked, the x axis titled `axis`."""
    p = np.asarray(probs, dtype=np.float64)
    vals = [float(v) for v in values]
    n = len(vals)
    if p.ndim != 2 or p.shape[0] != n or p.shape[1] != len(classes) or n < 2:
        raise ValueError(f"probabilities {list(p.shape)} for {n} values and {len(classes)} classes")
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    left, right, top, strip = 66, width - 24, 8, 30
    plot_top, plot_bottom = top + strip + 18, height - 52
    span = vals[-1] - vals[0] or 1.0

    def x_of(v: float) -> float:
        return left + (v - vals[0]) / span * (right - left)

    def y_of(q: float) -> float:
        return plot_bottom - q * (plot_bottom - plot_top)

    # The answer at every value: a strip of cells, each in its class's colour, its label written in.
    tops = p.argmax(axis=1)  # [N]
    draw.text((left - 8, top + strip / 2), "Answer", fill=MUTED, font=font(15), anchor="rm")
    edges = [left] + [(x_of(a) + x_of(b)) / 2 for a, b in zip(vals, vals[1:], strict=False)] + [right]
    for i, k in enumerate(tops.tolist()):
        colour = CLASS_COLOURS[k % len(CLASS_COLOURS)]
        draw.rectangle((edges[i], top, edges[i + 1] - 1, top + strip), fill=colour)
        if edges[i + 1] - edges[i] >= 12:
            draw.text(((edges[i] + edges[i + 1]) / 2, top + strip / 2), str(classes[k]), fill=ink_for(colour),
                      font=font(16), anchor="mm")  # fmt: skip

    # Axes: 0, 50, 100 % across, a tick under every other value.
    for q in (0.0, 0.5, 1.0):
        draw.line((left, y_of(q), right, y_of(q)), fill=GRID, width=1)
        draw.text((left - 8, y_of(q)), f"{q:.0%}", fill=MUTED, font=font(15), anchor="rm")
    every = max(1, int(np.ceil(n / 11)))
    for i, v in enumerate(vals):
        if i % every == 0 or i == n - 1:
            draw.line((x_of(v), plot_bottom, x_of(v), plot_bottom + 4), fill=MUTED, width=1)
            draw.text((x_of(v), plot_bottom + 7), _value_text(v), fill=MUTED, font=font(15), anchor="mt")
    draw.text(((left + right) / 2, height - 6), axis, fill=TEXT, font=font(17), anchor="mb")

    if current is not None and vals[0] <= current <= vals[-1]:
        xc = x_of(float(current))
        for dash in range(int(plot_top) - 4, int(plot_bottom), 8):
            draw.line((xc, dash, xc, min(dash + 4, plot_bottom)), fill=MARK, width=2)
        i = int(np.argmin([abs(v - float(current)) for v in vals]))  # its cell in the answer strip
        draw.rectangle((edges[i] - 2, top - 3, edges[i + 1] + 1, top + strip + 3), outline=MARK, width=3)
        draw.rectangle((edges[i] + 1, top, edges[i + 1] - 2, top + strip), outline=(255, 255, 255), width=2)

    # One line per class that matters, the strongest drawn last (on top), named at its peak.
    shown = shown_classes(p)
    placed: list[tuple[float, float]] = []  # labels written so far: the next one steps clear of them
    for k in reversed(shown):
        colour = CLASS_COLOURS[k % len(CLASS_COLOURS)]
        pts = [(x_of(v), y_of(q)) for v, q in zip(vals, p[:, k].tolist(), strict=True)]
        draw.line(pts, fill=colour, width=3, joint="curve")
        peak = int(p[:, k].argmax())
        x, y = pts[peak]
        draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=colour)
        anchor = "lb" if x < (left + right) / 2 else "rb"
        step = -18 if y - 18 * len(placed) > plot_top + 18 else 18  # up, unless near the top
        for _ in range(len(placed)):  # at most one step per label already there
            if not any(abs(x - a) < 30 and abs(y - b) < 18 for a, b in placed):
                break
            y += step
        placed.append((x, y))
        draw.text((x + (6 if anchor == "lb" else -6), y - 3), str(classes[k]), fill=colour, font=font(18),
                  anchor=anchor, stroke_width=2, stroke_fill=(255, 255, 255))  # fmt: skip
    # 64 colours (the lines, their antialiased edges, the text): a tenth of the RGB PNG's encoding
    # time (about 3 ms against 45 ms here) and two thirds of its bytes.
    return to_png(img.quantize(colors=64, method=Image.Quantize.FASTOCTREE))
