"""Reading an uploaded photo or scan of a digit: decode it safely, then make it white ink on black.

`read_image` turns the bytes of an upload into the grey array `cnnlib.inference.preprocess_drawing`
takes, as if the digit had been drawn on the canvas: dark ink on light paper is inverted, the
paper's uneven lighting (shadows included) is taken off by `flatten_paper`, 16-bit and float images
are rescaled, EXIF rotation is applied. Files that are not images, too big (decompression bombs
included), too small or blank raise `ImageInputError` with a message a student can act on.
"""

from __future__ import annotations

import io

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ImageInputError", "MAX_UPLOAD_BYTES", "read_image"]


class ImageInputError(ValueError):
    """An uploaded file is not a usable image (not an image, too big, empty)."""


MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_PIXELS = 25_000_000
MIN_UPLOAD_SIDE = 8  # fewer pixels than this on a side cannot hold a readable digit
WORK_SIDE = 560  # uploads are shrunk to at most this side before preprocessing


def _high_depth_to_8bit(img: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and float grey images stretched to 8-bit "L" by their own range.

    Pillow's convert("RGBA") clips such images at 255 (a 16-bit scan turns all white), so they are
    rescaled first; other modes are returned unchanged.
    """
    if img.mode not in ("I", "F") and not img.mode.startswith("I;"):
        return img
    arr = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)  # [H, W]
    lo, hi = float(arr.min()), float(arr.max())
    scaled = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
    return Image.fromarray(scaled.round().astype(np.uint8))  # mode "L"


def opening(a: np.ndarray, k: int) -> np.ndarray:
    """Grey-level opening of a 2-D array with a k x k square: min filter, then max filter. -> a's shape

    Separable sliding windows (fast in numpy). The input is padded by repeating its edge pixels
    k - 1 deep, so a lighting gradient that runs into the border is kept exactly, up to the edge.
    """
    x = np.pad(a, k - 1, mode="edge")  # [h + 2k - 2, w + 2k - 2]
    for axis in (0, 1):
        x = sliding_window_view(x, k, axis=axis).min(axis=-1)  # -> [h + k - 1, w + k - 1]
    for axis in (0, 1):
        x = sliding_window_view(x, k, axis=axis).max(axis=-1)  # -> [h, w]
    return np.ascontiguousarray(x)


def flatten_paper(grey: np.ndarray, on_paper: bool = False) -> np.ndarray:
    """Remove the paper's slowly varying brightness (shadows, uneven light) from ink-is-bright grey.

    The background is a grey-level opening (min filter, then max filter) with a window a quarter
    of the shorter side, wider than any pen stroke, so it keeps the lighting and drops the ink;
    computed on a copy about 64 px high and enlarged bilinearly. Light ink on dark: the background
    is subtracted, and so are 3 robust standard deviations of the paper's grain (noise stays black). `on_paper=True` (dark ink on light paper, `grey` = 1 - brightness): ink darkens
    the light falling on it by a factor, so each pixel is compared with the local paper
    brightness instead (a flat-field correction), and a shadowed stroke stays as strong as a lit
    one. [H, W] in [0, 1] -> same.
    """
    h, w = grey.shape
    f = min(1.0, 64 / min(h, w))
    sh, sw = max(1, round(h * f)), max(1, round(w * f))
    small = Image.fromarray(np.ascontiguousarray(grey, dtype=np.float32)).resize(
        (sw, sh), Image.Resampling.BOX
    )
    k = 2 * (min(sh, sw) // 8) + 1  # odd window, about a quarter of the shorter side
    if k < 3:
        return grey
    opened = Image.fromarray(opening(np.asarray(small, dtype=np.float32), k))  # [sh, sw]
    background = np.asarray(opened.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)  # [H, W]
    ink = grey - background  # [H, W]: ink above the paper, plus the paper's grain and sensor noise
    # Grain stays black: take off 3 robust standard deviations of it (the median absolute deviation
    # is the paper's as long as ink covers less than half of the image).
    ink = ink - 3 * 1.4826 * float(np.median(np.abs(ink - np.median(ink))))
    if on_paper:
        ink = ink / np.maximum(1.0 - background, 0.05)  # / the local paper brightness
    return np.clip(ink, 0.0, 1.0)


def read_image(
    data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_UPLOAD_PIXELS
) -> np.ndarray:
    """Decode an uploaded image into a white-ink-on-black grey array [H, W] uint8 for `preprocess_drawing`.

    Dark ink on light paper (the usual photo or scan) is inverted; the paper's brightness,
    shadows included, is subtracted so lighting does not count as ink. 16-bit and float images
    are rescaled, transparency counts as paper, EXIF rotation is applied, an animation gives its
    first frame. Raises ImageInputError with a message for the student: not an image, too many
    bytes or pixels (decompression bombs included), too small, a blank image.
    """
    if not data:
        raise ImageInputError("The file is empty.")
    if len(data) > max_bytes:
        raise ImageInputError(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. Use a smaller image."
        )
    too_big = f"the limit is {max_pixels / 1e6:.0f} megapixels. Crop or shrink it first."
    img: Image.Image  # Image.open's ImageFile, then the plain Images made from it
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > max_pixels:
                raise ImageInputError(f"The image is {img.width}×{img.height} pixels, too big; {too_big}")
            if min(img.width, img.height) < MIN_UPLOAD_SIDE:
                raise ImageInputError(
                    f"The image is only {img.width}×{img.height} pixels, too small to show a digit. "
                    "Upload a bigger one: 28×28 pixels or more."
                )
            img.seek(0)  # first frame of an animation
            img.draft(img.mode, (WORK_SIDE, WORK_SIDE))  # JPEG: decode at 1/2 to 1/8 scale (fast)
            img = ImageOps.exif_transpose(img)
            if img.mode.startswith("I;"):
                img = img.convert("I")  # 16-bit grey: a mode Pillow can resize
            img.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.LANCZOS)
            rgba = np.asarray(_high_depth_to_8bit(img).convert("RGBA"))  # [H, W, 4]
    except ImageInputError:
        raise
    except Image.DecompressionBombError as err:
        raise ImageInputError(f"The image has far too many pixels to open safely; {too_big}") from err
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as err:
        raise ImageInputError(
            "That file could not be read as an image: upload a PNG or JPEG of a digit."
        ) from err
    # Transparent pixels become black paper for light-ink images, white paper for dark-ink ones.
    rgb = rgba[:, :, :3].astype(np.float32) / 255.0
    alpha = rgba[:, :, 3:].astype(np.float32) / 255.0
    luma = 0.299 * rgb[:, :, 0] + 0.587 * rgb[:, :, 1] + 0.114 * rgb[:, :, 2]
    border = np.concatenate([luma[0], luma[-1], luma[:, 0], luma[:, -1]])
    alpha_border = np.concatenate([alpha[0, :, 0], alpha[-1, :, 0], alpha[:, 0, 0], alpha[:, -1, 0]])
    if float(alpha_border.mean()) < 0.5:  # transparent background: the opaque strokes are the ink
        opaque = alpha[:, :, 0] > 0.5
        ink_luma = float(np.median(luma[opaque])) if opaque.any() else 1.0
        grey = (luma if ink_luma >= 0.5 else 1.0 - luma) * alpha[:, :, 0]
        grey = flatten_paper(grey)
    elif float(np.median(border)) > 0.5:
        grey = flatten_paper(1.0 - luma, on_paper=True)  # dark ink on light paper
    else:
        grey = flatten_paper(luma)  # light ink on dark: paper ~0 everywhere, shadows or not
    paper = float(np.median(grey))
    peak = float(np.percentile(grey, 99.9))
    if peak - paper < 0.15:
        raise ImageInputError("The image looks blank: no digit stands out from the background.")
    grey = np.clip((grey - paper) / (peak - paper), 0.0, 1.0)
    return (grey * 255).round().astype(np.uint8)  # [H, W]
