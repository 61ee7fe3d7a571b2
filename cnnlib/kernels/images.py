"""Images for the kernels page: safe loading of uploads, bundled samples, generated test patterns.

`load_image(data)` reads an upload (PNG, JPEG, BMP, GIF's first frame, WebP) with Pillow and
refuses, with a message a student can act on, anything that is not an image, is truncated or
corrupt, is huge (a decompression bomb: the size is checked from the header before decoding)
or is too small to convolve. Alpha, 16-bit depth, palettes and CMYK are converted. Large images
are downscaled (longest side `MAX_SIDE`) and the `notes` say so.

Pixels are float32 in [0, 1], shaped [H, W, C] with C = 1 (grayscale) or 3 (RGB).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from cnnlib.data import PALETTE_NOTE, load_dataset, to_plane_image

__all__ = [
    "UPLOAD_TYPES",
    "CHANNEL_VIEWS",
    "ImageError",
    "LoadedImage",
    "load_image",
    "DATASET_SAMPLES",
    "SAMPLE_NAMES",
    "dataset_sample_count",
    "load_sample",
]


MAX_SIDE = 256  # longest side used for display and computation
MIN_SIDE = 8  # shortest side accepted (a 3x3 kernel needs room to slide)
MAX_PIXELS = 16_000_000  # refused before decoding above this (after JPEG's cheap draft scaling)
MAX_FILE_BYTES = 20 * 1024 * 1024
ALLOWED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "BMP": "BMP", "GIF": "GIF", "WEBP": "WebP"}
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]

# Grayscale weights of ITU-R BT.601, as Pillow's "L" mode and torchvision's rgb_to_grayscale use.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
CHANNEL_VIEWS = ("Grayscale", "Red", "Green", "Blue")


PALETTE_GRAY_NOTE = "Palette image: its colours are all grays, so it is used as a grayscale image."


class ImageError(ValueError):
    """An upload that cannot be used, with a message that says why and what to do."""


@dataclass
class LoadedImage:
    """An image ready for convolution: pixels [H, W, C] float32 in [0, 1], C = 1 or 3."""

    pixels: np.ndarray
    name: str
    original_size: tuple[int, int]  # (width, height) of the file before any downscaling
    notes: list[str] = field(default_factory=list)

    @property
    def is_colour(self) -> bool:
        return self.pixels.shape[2] == 3

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) as used."""
        return self.pixels.shape[1], self.pixels.shape[0]

    def view(self, channel: str = "Grayscale") -> np.ndarray:
        """One 2-D plane [H, W]: "Grayscale", or "Red"/"Green"/"Blue" of a colour image."""
        if channel not in CHANNEL_VIEWS:
            raise ImageError(f"Channel must be one of {CHANNEL_VIEWS}; got {channel!r}.")
        if not self.is_colour or channel == "Grayscale":
            return to_grayscale(self.pixels)
        return self.pixels[:, :, CHANNEL_VIEWS.index(channel) - 1].copy()


def to_grayscale(pixels: np.ndarray) -> np.ndarray:
    """[H, W, 3] RGB (or [H, W, 1], or [H, W]) in [0, 1] -> [H, W] float32 by BT.601 luma."""
    arr = np.asarray(pixels, dtype=np.float32)
    if arr.ndim == 2:
        return arr.copy()
    if arr.shape[2] == 1:
        return arr[:, :, 0].copy()
    return np.clip(arr[:, :, :3] @ LUMA, 0.0, 1.0)


# ----------------------------------------------------------------------------- uploads


def _fmt_px(n: int) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.1f} billion"
    return f"{n / 1e6:.1f} million" if n >= 1e6 else f"{n:,}"


def _open(data: bytes) -> Image.Image:
    """Image.open with Pillow's bomb warning turned into an error, every failure an ImageError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(
            "This file is not an image we can read. Upload a PNG, JPEG, BMP, GIF or WebP picture."
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))  # Pillow: "Image size (N pixels) exceeds ..."
        claim = (
            f"claims {_fmt_px(int(found.group(1)))} pixels" if found else "claims more pixels than we decode"
        )
        raise ImageError(
            f"This image is far too large: its header {claim}, so it was not decoded (it may be a "
            f"'decompression bomb'). Upload a picture under {_fmt_px(MAX_PIXELS)} pixels."
        ) from None
    except Exception as exc:  # noqa: BLE001 - any other decoder failure is a broken file
        raise ImageError(
            f"This image file is damaged or truncated and cannot be opened ({type(exc).__name__}). "
            "Save it again and re-upload it."
        ) from None


def load_image(data: bytes, name: str = "upload", max_side: int = MAX_SIDE) -> LoadedImage:
    """Decode an uploaded file into a LoadedImage, or raise ImageError saying what is wrong."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError("Expected the bytes of an image file.")
    data = bytes(data)
    if not data:
        raise ImageError("The file is empty (0 bytes).")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(
            f"The file is {len(data) / 2**20:.0f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB. Upload a smaller picture."
        )
    im = _open(data)
    fmt = ALLOWED_FORMATS.get(im.format or "")
    if fmt is None:
        raise ImageError(
            f"{im.format or 'This'} images are not supported here. Upload a PNG, JPEG, BMP, GIF or WebP."
        )
    width, height = im.size
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageError(
            f"This image is only {width} x {height} pixels: too small for a kernel to slide over. "
            f"Upload one at least {MIN_SIDE} x {MIN_SIDE}."
        )
    notes: list[str] = []
    if fmt == "JPEG":
        # Ask the JPEG decoder for a cheap 1/2, 1/4 or 1/8 scale that is still >= max_side.
        im.draft(im.mode if im.mode in ("L", "RGB") else "RGB", (max_side, max_side))
    if im.size[0] * im.size[1] > MAX_PIXELS:
        raise ImageError(
            f"This image is {width} x {height} = {_fmt_px(width * height)} pixels; the limit is "
            f"{_fmt_px(MAX_PIXELS)}. Shrink it first or pick a smaller picture."
        )
    if fmt == "GIF" and getattr(im, "n_frames", 1) > 1:
        notes.append("Animated GIF: only its first frame is used.")
    try:
        im.seek(0)
        im.load()
    except Exception as exc:  # noqa: BLE001 - truncated data, bad chunks, decoder errors
        raise ImageError(
            f"This {fmt} file is truncated or corrupt: it could not be decoded ({str(exc)[:80] or type(exc).__name__})."
            " Save it again and re-upload it."
        ) from None
    try:
        im = ImageOps.exif_transpose(im) or im
    except Exception:  # noqa: BLE001 - a broken EXIF block is not worth refusing the image
        pass
    plane = to_plane_image(im, notes)
    if max(plane.size) > max_side:
        scale = max_side / max(plane.size)
        new = (max(1, round(plane.size[0] * scale)), max(1, round(plane.size[1] * scale)))
        if min(new) < MIN_SIDE:
            raise ImageError(
                f"This image is {width} x {height}: too long and thin. Scaled to fit {max_side} pixels it "
                f"would be {new[0]} x {new[1]}. Crop it closer to a square."
            )
        plane = plane.resize(new, Image.Resampling.LANCZOS)
        notes.append(
            f"Downscaled from {width} x {height} to {new[0]} x {new[1]} pixels to keep the page fast."
        )
    arr = np.asarray(plane, dtype=np.float32)
    if plane.mode != "F":
        arr = arr / 255.0
    arr = np.clip(arr, 0.0, 1.0)
    if arr.ndim == 2:
        arr = arr[:, :, None]  # [H, W, 1]
    elif np.array_equal(arr[:, :, 0], arr[:, :, 1]) and np.array_equal(arr[:, :, 1], arr[:, :, 2]):
        arr = arr[:, :, :1].copy()  # an RGB file whose channels are all equal is grayscale
        notes = [PALETTE_GRAY_NOTE if n == PALETTE_NOTE else n for n in notes]
    return LoadedImage(np.ascontiguousarray(arr), name, (width, height), notes)


# ----------------------------------------------------------------------------- test patterns


def checkerboard(size: int = 64, square: int = 8) -> np.ndarray:
    """Black and white squares [size, size]: sharp edges in both directions."""
    idx = np.arange(size) // square
    return ((idx[:, None] + idx[None, :]) % 2).astype(np.float32)


def gradient(size: int = 64) -> np.ndarray:
    """A left-to-right ramp from 0 to 1 with a bright square on it [size, size]."""
    img = np.tile(np.linspace(0.0, 1.0, size, dtype=np.float32), (size, 1))
    q = size // 4
    img[q : 2 * q, q : 2 * q] = 1.0
    return img


def circle(size: int = 64) -> np.ndarray:
    """A white disc on black [size, size]: edges at every angle."""
    im = Image.new("L", (size, size), 0)
    m = size // 5
    ImageDraw.Draw(im).ellipse((m, m, size - 1 - m, size - 1 - m), fill=255)
    return np.asarray(im, dtype=np.float32) / 255.0


def text_image(text: str = "CNN", width: int = 96, height: int = 48) -> np.ndarray:
    """White text on black in Pillow's default font [height, width]."""
    im = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=int(height * 0.6))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    xy = ((width - (right - left)) / 2 - left, (height - (bottom - top)) / 2 - top)
    draw.text(xy, text, fill=255, font=font)
    return np.asarray(im, dtype=np.float32) / 255.0


def colour_shapes(size: int = 64) -> np.ndarray:
    """A red square, a green disc and a blue triangle on black [size, size, 3]: one per channel."""
    im = Image.new("RGB", (size, size), (0, 0, 0))
    d = ImageDraw.Draw(im)
    s = size
    d.rectangle((s * 0.08, s * 0.08, s * 0.45, s * 0.45), fill=(230, 40, 40))
    d.ellipse((s * 0.52, s * 0.1, s * 0.92, s * 0.5), fill=(40, 200, 60))
    d.polygon([(s * 0.5, s * 0.55), (s * 0.1, s * 0.92), (s * 0.9, s * 0.92)], fill=(50, 80, 240))
    return np.asarray(im, dtype=np.float32) / 255.0


PATTERNS: dict[str, Callable[[], np.ndarray]] = {
    "Checkerboard": checkerboard,
    "Gradient": gradient,
    "Circle": circle,
    "Text": text_image,
    "Colour shapes": colour_shapes,
}
# Sample name -> (dataset name, load_dataset keyword arguments): a few dozen shapes are plenty here.
DATASET_SAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "MNIST digit": ("mnist-sample", {}),
    "Synthetic shape": ("shapes", {"train_size": 4, "test_size": 48}),
}
SAMPLE_NAMES: tuple[str, ...] = tuple(DATASET_SAMPLES) + tuple(PATTERNS)


@lru_cache(maxsize=4)
def sample_dataset(sample: str):
    """The dataset behind a sample, loaded once per process (never mutated)."""
    name, kwargs = DATASET_SAMPLES[sample]
    return load_dataset(name, **kwargs)


def dataset_sample_count(sample: str) -> int:
    """How many images a dataset sample offers (its test split); 0 when the dataset is unavailable."""
    try:
        return int(sample_dataset(sample).test_images.shape[0])
    except Exception:  # noqa: BLE001 - the dataset failed to load: the sample is just absent
        return 0


def load_sample(name: str, index: int = 0) -> LoadedImage:
    """A bundled sample: a generated pattern, or image `index` of a dataset's test split."""
    if name in PATTERNS:
        arr = PATTERNS[name]()
        arr = arr[:, :, None] if arr.ndim == 2 else arr  # [H, W, C]
        return LoadedImage(arr.astype(np.float32), name, (arr.shape[1], arr.shape[0]))
    if name not in DATASET_SAMPLES:
        raise ImageError(f"Unknown sample {name!r}; choose one of {', '.join(SAMPLE_NAMES)}.")
    try:
        bundle = sample_dataset(name)
    except Exception as exc:  # noqa: BLE001
        raise ImageError(f"The {name} sample is not available here ({exc}).") from None
    images = bundle.test_images  # [N, C, H, W] uint8
    n = int(images.shape[0])
    if not 0 <= index < n:
        raise ImageError(f"{name} has images 0 to {n - 1}; got {index}.")
    x = np.asarray(images[index]).astype(np.float32) / 255.0  # [C, H, W]
    x = np.transpose(x, (1, 2, 0))  # [H, W, C]
    label = bundle.classes[int(bundle.test_labels[index])]
    return LoadedImage(np.ascontiguousarray(x), f"{name} #{index} (label: {label})", (x.shape[1], x.shape[0]))
