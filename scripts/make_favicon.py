"""Make static/favicon.png: the app's page icon, served by the app itself (a `:material/` page icon
makes every browser fetch the favicon from a Google host: offline it fails, and each student's
address leaves the school).

A 3x3 kernel on the theme's blue, drawn with Pillow at 4x and scaled down (smooth edges).

    .venv/bin/python scripts/make_favicon.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BLUE = (31, 95, 191, 255)  # the theme's primaryColor (#1F5FBF)
SIZE, SCALE = 64, 4
OUT = Path(__file__).resolve().parents[1] / "static" / "favicon.png"


def favicon() -> Image.Image:
    big = SIZE * SCALE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=12 * SCALE, fill=BLUE)
    cell, gap, start = 14 * SCALE, 3 * SCALE, 8 * SCALE
    shades = [255, 150, 255, 150, 255, 150, 255, 150, 255]  # a checker of weights
    for i, shade in enumerate(shades):
        r, c = divmod(i, 3)
        x, y = start + c * (cell + gap), start + r * (cell + gap)
        draw.rounded_rectangle((x, y, x + cell, y + cell), radius=2 * SCALE, fill=(255, 255, 255, shade))
    return img.resize((SIZE, SIZE), Image.LANCZOS)


if __name__ == "__main__":
    favicon().save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
