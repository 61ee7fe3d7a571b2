"""cnnlib.kernels.images: uploads (good, odd and hostile files made here with Pillow or by hand) and samples."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cnnlib import kernels as I
from cnnlib.data import PALETTE_NOTE
from cnnlib.kernels import ImageError
from cnnlib.kernels.images import (
    MAX_FILE_BYTES,
    MIN_SIDE,
    PALETTE_GRAY_NOTE,
    PATTERNS,
    checkerboard,
    text_image,
)


def _save(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _noise(h: int, w: int, channels: int = 3, seed: int = 0) -> Image.Image:
    arr = (np.random.default_rng(seed).random((h, w, channels)) * 255).astype(np.uint8)
    return Image.fromarray(arr[:, :, 0] if channels == 1 else arr)


def _png(width: int, height: int, bit_depth: int, colour_type: int, raw: bytes) -> bytes:
    """A PNG written by hand, so its header can claim anything."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


# ----------------------------------------------------------------------------- good files


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF", "WEBP"])
def test_each_format_loads(fmt):
    data = _save(_noise(40, 30), fmt)
    img = I.load_image(data, f"x.{fmt.lower()}")
    assert img.pixels.dtype == np.float32 and img.pixels.shape[:2] == (40, 30)
    assert 0.0 <= img.pixels.min() and img.pixels.max() <= 1.0
    assert img.original_size == (30, 40) and img.size == (30, 40)


def test_png_pixels_are_exact():
    arr = (np.arange(12 * 10) % 256).astype(np.uint8).reshape(12, 10)
    img = I.load_image(_save(Image.fromarray(arr), "PNG"))
    assert img.pixels.shape == (12, 10, 1) and not img.is_colour
    np.testing.assert_allclose(img.view(), arr / 255.0, atol=1e-7)


def test_colour_image_views_and_grayscale_match_pillow():
    noise = _noise(20, 24)
    img = I.load_image(_save(noise, "PNG"))
    assert img.is_colour and img.pixels.shape == (20, 24, 3)
    np.testing.assert_array_equal(img.view("Green"), img.pixels[:, :, 1])
    expected = np.asarray(noise.convert("L"), dtype=np.float32) / 255.0  # Pillow rounds to 8 bits
    np.testing.assert_allclose(img.view("Grayscale"), expected, atol=0.5 / 255 + 1e-6)
    with pytest.raises(ImageError):
        img.view("Purple")


def test_rgb_file_with_equal_channels_counts_as_grayscale():
    gray = _noise(16, 16, 1)
    img = I.load_image(_save(gray.convert("RGB"), "PNG"))
    assert not img.is_colour and img.view("Red").shape == (16, 16)


def test_alpha_is_flattened_on_white_with_a_note():
    arr = np.zeros((16, 16, 4), np.uint8)
    arr[:8, :, 3] = 255  # top half opaque black, bottom half fully transparent
    img = I.load_image(_save(Image.fromarray(arr, "RGBA"), "PNG"))
    assert img.view()[0, 0] == 0.0 and img.view()[15, 0] == 1.0
    assert any("alpha" in n for n in img.notes)
    la = Image.fromarray(arr[:, :, [0, 3]], "LA")
    img = I.load_image(_save(la, "PNG"))
    assert not img.is_colour and img.view()[15, 0] == 1.0


def test_sixteen_bit_grayscale_is_scaled_with_a_note():
    arr = np.full((10, 10), 65535, np.uint16)
    arr[:5] = 32768
    data = _save(Image.fromarray(arr), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    img = I.load_image(data)
    assert img.view()[9, 0] == pytest.approx(1.0) and img.view()[0, 0] == pytest.approx(0.5, abs=1e-4)
    assert any("16-bit" in n for n in img.notes)


def test_sixteen_bit_rgb_and_gray_alpha_png_written_by_hand():
    w = h = 16
    rgb = b"".join(
        b"\x00" + b"".join(struct.pack(">HHH", 65535 * x // 15, 0, 65535) for x in range(w)) for _ in range(h)
    )
    img = I.load_image(_png(w, h, 16, 2, rgb))
    assert img.is_colour and img.pixels[0, 15].tolist() == [1.0, 0.0, 1.0]
    la = b"".join(
        b"\x00" + b"".join(struct.pack(">HH", 65535 * x // 15, 65535) for x in range(w)) for _ in range(h)
    )
    img = I.load_image(_png(w, h, 16, 4, la))
    assert not img.is_colour and img.view()[0, 15] == 1.0


def test_palette_with_transparency_and_animated_gif():
    frames = [Image.new("P", (20, 20), i) for i in range(3)]
    for f in frames:
        f.putpalette([0, 0, 0, 255, 255, 255, 255, 0, 0] + [0] * 759)
    data = _save(frames[1], "GIF", save_all=True, append_images=[frames[2], frames[0]], transparency=0)
    img = I.load_image(data)
    assert any("first frame" in n for n in img.notes)
    np.testing.assert_allclose(img.view(), 1.0)  # frame 1 is white (palette index 1)


def test_gray_palette_image_is_grayscale_and_says_so():
    im = Image.new("P", (20, 20), 1)
    im.putpalette([0, 0, 0, 128, 128, 128] + [0] * 762)
    img = I.load_image(_save(im, "PNG"))
    assert not img.is_colour and img.notes == [PALETTE_GRAY_NOTE]
    colour = Image.new("RGB", (20, 20), (255, 0, 0)).convert("P")
    img = I.load_image(_save(colour, "GIF"))
    assert img.is_colour and img.notes == [PALETTE_NOTE]


def test_cmyk_jpeg_is_converted():
    img = I.load_image(_save(Image.new("CMYK", (20, 20), (0, 255, 255, 0)), "JPEG"))
    assert img.is_colour and any("CMYK" in n for n in img.notes)
    r, g, b = img.pixels[10, 10]
    assert r > 0.9 and g < 0.1 and b < 0.1  # 0 cyan, full magenta + yellow: red


def test_large_images_are_downscaled_with_a_note():
    img = I.load_image(_save(Image.linear_gradient("L").resize((1000, 500)), "PNG"))
    assert img.size == (256, 128) and img.original_size == (1000, 500)
    assert any("Downscaled from 1000 x 500 to 256 x 128" in n for n in img.notes)
    img = I.load_image(_save(Image.new("RGB", (3000, 2000), (200, 90, 30)), "JPEG"))  # JPEG draft scaling
    assert max(img.size) == 256 and img.original_size == (3000, 2000)
    assert any("3000 x 2000" in n for n in img.notes)


def test_exif_orientation_is_applied():
    im = _noise(20, 40)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees
    img = I.load_image(_save(im, "JPEG", exif=exif))
    assert img.size == (20, 40)


# ----------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"hello, this is a text file\n" * 20, "not an image"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "not an image"),
        (bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)), "not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "not an image|damaged"),
    ],
)
def test_non_images_are_refused(data, message):
    with pytest.raises(ImageError, match=message):
        I.load_image(data)


def test_truncated_files_are_refused():
    for fmt in ("PNG", "JPEG", "WEBP", "BMP", "GIF"):
        data = _save(_noise(64, 64), fmt)
        with pytest.raises(ImageError, match="truncated|corrupt|damaged|not an image"):
            I.load_image(data[: len(data) // 2])


def test_corrupt_png_data_is_refused():
    data = bytearray(_save(_noise(64, 64), "PNG"))
    start = data.index(b"IDAT") + 40
    data[start : start + 200] = bytes(200)  # zero out compressed data: CRC and zlib both break
    with pytest.raises(ImageError, match="truncated or corrupt"):
        I.load_image(bytes(data))


def test_huge_headers_are_refused_before_decoding():
    with pytest.raises(ImageError, match="decompression bomb") as info:
        I.load_image(_png(50_000, 50_000, 8, 0, b"\x00" * 100))  # 2.5 billion pixels claimed
    assert "header claims 2.5 billion pixels" in str(info.value) and "under 16.0 million" in str(info.value)
    with pytest.raises(ImageError, match="claims 100.0 million pixels.*decompression bomb"):
        I.load_image(_png(10_000, 10_000, 8, 0, b"\x00" * 100))  # over Pillow's warning limit
    with pytest.raises(ImageError, match="limit is 16.0 million"):
        I.load_image(_png(5_000, 5_000, 8, 0, b"\x00" * 100))  # over ours


def test_a_real_decompression_bomb_is_refused():
    width = height = 6000  # 36 million pixels in a few tens of kilobytes
    comp = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    raw = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    data = _png(width, height, 8, 0, b"")
    # replace the empty IDAT with the real compressed stream
    idat = (
        struct.pack(">I", len(raw))
        + b"IDAT"
        + raw
        + struct.pack(">I", zlib.crc32(b"IDAT" + raw) & 0xFFFFFFFF)
    )
    empty = data.index(b"IDAT") - 4
    end = data.index(b"IEND") - 4
    data = data[:empty] + idat + data[end:]
    assert len(data) < 100_000
    with pytest.raises(ImageError, match="36.0 million"):
        I.load_image(data)


@pytest.mark.parametrize("size", [(1, 1), (3, 100), (100, 7)])
def test_tiny_images_are_refused(size):
    with pytest.raises(ImageError, match=r"only \d+ x \d+ pixels"):
        I.load_image(_save(Image.new("L", size), "PNG"))


def test_long_thin_images_are_refused():
    with pytest.raises(ImageError, match="long and thin"):
        I.load_image(_save(Image.new("L", (3000, 10)), "PNG"))


def test_unsupported_format_and_oversized_file():
    with pytest.raises(ImageError, match="TIFF images are not supported"):
        I.load_image(_save(_noise(20, 20), "TIFF"))
    with pytest.raises(ImageError, match="limit is 20 MB"):
        I.load_image(b"\x00" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ImageError, match="bytes"):
        I.load_image("not bytes")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- samples


def test_patterns_are_in_range_and_named():
    for name in PATTERNS:
        img = I.load_sample(name)
        assert img.pixels.dtype == np.float32 and img.pixels.ndim == 3
        assert img.pixels.min() >= 0.0 and img.pixels.max() <= 1.0 and img.pixels.max() > 0.5
        assert min(img.size) >= MIN_SIDE
    assert I.load_sample("Colour shapes").is_colour
    cb = checkerboard(16, 4)
    assert cb[0, 0] == 0 and cb[0, 4] == 1 and cb[4, 4] == 0
    assert text_image("CNN").sum() > 50  # the text is drawn


def test_dataset_samples_load_or_fail_clearly():
    for name in I.DATASET_SAMPLES:
        n = I.dataset_sample_count(name)
        if n == 0:
            with pytest.raises(ImageError, match="not available"):
                I.load_sample(name)
            continue
        img = I.load_sample(name, n - 1)
        assert img.pixels.dtype == np.float32 and 0.0 <= img.pixels.min() and img.pixels.max() <= 1.0
        assert name in img.name
        with pytest.raises(ImageError, match="has images 0 to"):
            I.load_sample(name, n)
    with pytest.raises(ImageError, match="Unknown sample"):
        I.load_sample("Mona Lisa")
