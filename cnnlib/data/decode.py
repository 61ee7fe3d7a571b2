"""Decoded images of any mode brought to the three this app computes on: "L", "RGB" or "F".

Shared by the Kernels page's uploads (cnnlib.kernels) and zipped datasets (cnnlib.data.uploads):
16-bit and float pictures are scaled to 0..1 rather than clipped, palettes and transparency are
resolved as an image viewer shows them, and each conversion leaves a note a student can read.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from PIL import Image

__all__ = ["PALETTE_NOTE", "to_plane_image"]


PALETTE_NOTE = "Palette image: converted to RGB."


def to_plane_image(im: Image.Image, notes: list[str]) -> Image.Image:
    """Convert any decoded mode to "L", "RGB" or "F" (16/32-bit grayscale scaled to [0, 1])."""
    mode = im.mode
    if mode in ("L", "RGB"):
        return im
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I;16") or mode == "I":
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        notes.append("16-bit image: its pixel values were scaled to 0…1.")
        return Image.fromarray(np.clip(arr / top, 0.0, 1.0).astype(np.float32), mode="F")
    if mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        finite = arr[np.isfinite(arr)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        if lo < 0 or hi > 1:
            arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
            notes.append("Floating-point image: rescaled to 0…1.")
        return Image.fromarray(np.nan_to_num(arr).astype(np.float32), mode="F")
    if mode == "P":
        notes.append(PALETTE_NOTE)
        im = im.convert("RGBA" if im.has_transparency_data else "RGB")
        mode = im.mode
        if mode == "RGB":
            return im
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        rgba = im.convert("RGBA")
        if cast(tuple[int, int], rgba.getchannel("A").getextrema())[0] < 255:  # one band: (min, max)
            notes.append("Transparent areas are shown on white (the alpha channel was flattened).")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(white, rgba)
        return flat.convert("L" if mode in ("LA", "La") else "RGB")
    if mode == "CMYK":
        notes.append("CMYK image: converted to RGB.")
    return im.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, ...
