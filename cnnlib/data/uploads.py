"""Uploaded zips of class folders (torchvision's ImageFolder layout), read with safety checks.

`load_image_folder_zip(data)` turns the bytes of a zip such as `cats/1.jpg, dogs/2.png, ...` into
a DatasetBundle. A classroom server has little memory and two cores, and one process serves the
whole class, so each limit below is checked before the work it guards: entries, images, bytes per
file and in all (as read, never as the zip's headers claim), paths that would escape the folder,
and two prices computed before any image is decoded: the dataset's memory (N x C x H x W bytes of
uint8, from the zip's directory) and the pixels to decode (width x height of every image, read
from its header; JPEGs counted at the reduced size Pillow's draft mode decodes). Past a budget the
upload is refused with what to change (fewer images, a smaller image size, grayscale). A
`should_stop` callable is asked before every image, so a page can drop the work when its session
is gone. The limits are read at call time from here, so a test that lowers one patches
`cnnlib.data.uploads`, not `cnnlib.data`; the two budgets are also arguments.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable, Sequence

import numpy as np
import torch

from cnnlib.data.bundle import DatasetBundle, DatasetError, make_bundle, stratified_split
from cnnlib.data.decode import to_plane_image
from cnnlib.data.upload_report import classes_and_notes

__all__ = ["MIN_IMAGE_SIDE", "MAX_IMAGE_SIDE", "load_image_folder_zip"]


# Limits for uploaded zips: a classroom server has little memory and two cores.
MAX_UPLOAD_IMAGES = 5_000
MAX_ZIP_ENTRIES = 20_000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024  # all members together, as read
MAX_FILE_BYTES = 20 * 1024 * 1024  # one image file
MAX_IMAGE_PIXELS = 25_000_000  # one decoded image (e.g. 5000 x 5000)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".pbm", ".bmp", ".tif", ".tiff", ".webp", ".gif")
MIN_IMAGE_SIDE, MAX_IMAGE_SIDE = 8, 256
# Budgets priced before decoding (the issue "One student cannot take the class down").
MAX_DATASET_BYTES = 150_000_000  # the decoded dataset kept for the session: N x C x H x W uint8
MAX_DECODED_PIXELS = 500_000_000  # source pixels decoded over all images (~10-15 s of one core)
HEADER_READ_BYTES = 256 * 1024  # an image header is read from at most this much of its member


class UploadStopped(DatasetError):
    """The caller's `should_stop` said to stop (the session is gone, or a new file was chosen)."""


def _safe_member_path(name: str) -> list[str] | None:
    """The member's path parts, or None for entries to ignore (folders, hidden, __MACOSX).

    Raises DatasetError for a path that escapes the folder (absolute, drive letter, '..').
    """
    path = name.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise DatasetError(f"The zip contains an absolute path ({name!r}); it is not a safe upload.")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise DatasetError(
            f"The zip contains a path that escapes its folder ({name!r}); it is not a safe upload."
        )
    if name.endswith("/") or not parts:
        return None
    if (
        parts[0] == "__MACOSX"
        or any(p.startswith(".") for p in parts)
        or parts[-1] in ("Thumbs.db", "desktop.ini")
    ):
        return None
    return parts


def _decode_image(raw: bytes, size_hw: tuple[int, int], grayscale: bool) -> np.ndarray:
    """Decode and resize one image with Pillow: uint8 [H, W] (grayscale) or [H, W, 3]."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(raw)) as opened:
        w, h = opened.size
        if w * h > MAX_IMAGE_PIXELS:
            raise DatasetError(f"{w}x{h} pixels is too large (limit {MAX_IMAGE_PIXELS:,} pixels)")
        opened.draft("L" if grayscale else "RGB", (size_hw[1], size_hw[0]))  # fast JPEG downscale
        img = ImageOps.exif_transpose(opened)  # phone photos: upright, as a viewer shows them
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            # Flatten transparency onto white, as an image viewer shows it.
            img = img.convert("RGBA")
            background = Image.new("RGBA", img.size, (255, 255, 255, 255))
            img = Image.alpha_composite(background, img)
        if img.mode.startswith("I"):
            # 16/32-bit: scaled to 0..255 as the Kernels page does (a bare convert("L") would clip
            # every value above 255 to white), but resized first, as 4-byte floats: a 25-megapixel
            # 16-bit PNG costs ~0.3 s and 150 MB this way instead of ~2.6 s and 350 MB.
            wide = img.mode.startswith("I;16")
            if not wide:
                hi = img.getextrema()[1]  # one band: a number
                wide = isinstance(hi, (int, float)) and hi > 255
            top = 65535.0 if wide else 255.0
            plane_f = img.convert("F") if img.mode in ("I", "I;16") else img.convert("I").convert("F")
            plane_f = plane_f.resize((size_hw[1], size_hw[0]), Image.Resampling.BILINEAR)
            plane = np.clip(np.asarray(plane_f, dtype=np.float32) / top, 0.0, 1.0)  # [H, W]
            img = Image.fromarray(np.round(plane * 255).astype(np.uint8), mode="L")
        elif img.mode == "F":
            plane = np.asarray(to_plane_image(img, []), dtype=np.float32)  # [H, W] in 0..1
            img = Image.fromarray(np.round(np.clip(plane, 0, 1) * 255).astype(np.uint8), mode="L")
        img = img.convert("L" if grayscale else "RGB")
        img = img.resize((size_hw[1], size_hw[0]), Image.Resampling.BILINEAR)
        return np.asarray(img, dtype=np.uint8)


def _decoded_pixels(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, size_hw: tuple[int, int], grayscale: bool
) -> int:
    """The pixels Pillow will decode for this member, from its header alone (nothing is decoded).

    A JPEG is counted at the size draft mode decodes it (1/2 to 1/8 of each side). Raises
    DatasetError for an image over MAX_IMAGE_PIXELS; anything Pillow cannot open raises its own
    error (the caller skips the file as unreadable).
    """
    from PIL import Image

    with zf.open(info) as fh:
        head = fh.read(HEADER_READ_BYTES)
    try:
        img = Image.open(io.BytesIO(head))
    except Exception:  # a header past the first bytes (TIFF's directory at the end): open it all
        if info.file_size > MAX_FILE_BYTES:
            raise
        with zf.open(info) as fh:
            img = Image.open(io.BytesIO(fh.read(MAX_FILE_BYTES + 1)))
    with img:
        w, h = img.size
        if w * h > MAX_IMAGE_PIXELS:
            raise DatasetError(f"{w}x{h} pixels is too large (limit {MAX_IMAGE_PIXELS:,} pixels)")
        img.draft("L" if grayscale else "RGB", (size_hw[1], size_hw[0]))  # changes .size for a JPEG
        dw, dh = img.size
    return int(dw) * int(dh)


def dataset_price(n: int, image_size: Sequence[int] | int, grayscale: bool) -> int:
    """Bytes that `n` images take once decoded and stored (uint8 [N, C, H, W])."""
    h, w = _check_image_size(image_size)
    return n * (1 if grayscale else 3) * h * w


def _too_big_message(n: int, h: int, w: int, grayscale: bool, budget: int) -> str:
    """Why an upload is refused for its decoded size, and the three ways to make it fit."""
    c = 1 if grayscale else 3
    need = n * c * h * w
    fit_n = budget // (c * h * w)
    side = MIN_IMAGE_SIDE
    while n * c * (side + 1) * (side + 1) <= budget and side < MAX_IMAGE_SIDE:
        side += 1
    ways = [f"fewer images (at most {fit_n:,} at {h}x{w})"]
    if n * c * MIN_IMAGE_SIDE * MIN_IMAGE_SIDE <= budget:
        ways.append(f"a smaller image size ({side} px or less for {n:,} images)")
    if not grayscale and n * h * w <= budget:
        ways.append("grayscale (a third of the memory)")
    return (
        f"{n:,} images at {h}x{w} in {'grayscale' if grayscale else 'colour'} would take "
        f"{need / 1e6:,.0f} MB of the server's memory; an upload may take at most {budget / 1e6:,.0f} MB "
        f"(the whole class shares one server). To fit, choose {', or '.join(ways)}."
    )


def _check_image_size(image_size: Sequence[int] | int) -> tuple[int, int]:
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    try:
        if isinstance(image_size, int):  # True/False: not a size (a plain int is a pair by now)
            raise TypeError
        h, w = (int(s) for s in image_size)
        ok = all(float(s) == int(s) and not isinstance(s, bool) for s in image_size)
    except (TypeError, ValueError):
        ok = False
    if not ok or not (MIN_IMAGE_SIDE <= h <= MAX_IMAGE_SIDE and MIN_IMAGE_SIDE <= w <= MAX_IMAGE_SIDE):
        raise DatasetError(
            f"Image size must be two whole numbers from {MIN_IMAGE_SIDE} to {MAX_IMAGE_SIDE} "
            f"(height, width), got {image_size!r}."
        )
    return h, w


Member = tuple[list[str], zipfile.ZipInfo]  # (path parts: [class, ..., file], the zip entry)


def _open_zip(data: bytes) -> zipfile.ZipFile:
    """The upload as a ZipFile; DatasetError when it is not a zip archive."""
    try:
        return zipfile.ZipFile(io.BytesIO(bytes(data)))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise DatasetError(
            "This file is not a zip archive. Zip a folder that holds one sub-folder of images per class."
        ) from None


def _image_members(zf: zipfile.ZipFile, max_images: int) -> tuple[list[Member], int, int]:
    """The image files inside class folders, from the zip's directory alone (nothing is read):
    (members, files outside the class folders, files that are not images).

    Raises DatasetError for too many entries or images, an unsafe path, no files, no class
    folders or no images.
    """
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise DatasetError(
            f"The zip has {len(infos):,} entries; the limit is {MAX_ZIP_ENTRIES:,} files "
            f"({max_images:,} images). Use a smaller sample of your images."
        )
    members: list[Member] = []
    for info in infos:
        parts = _safe_member_path(info.filename)
        if parts is not None and not info.is_dir():
            members.append((parts, info))
    if not members:
        raise DatasetError("The zip is empty: it needs one folder of images per class.")

    # Strip one common top folder ("dataset/cats/1.jpg" -> "cats/1.jpg") when everything is in it.
    while all(len(p) >= 3 for p, _ in members) and len({p[0] for p, _ in members}) == 1:
        members = [(p[1:], i) for p, i in members]
    skipped_loose = sum(1 for p, _ in members if len(p) < 2)
    members = [(p, i) for p, i in members if len(p) >= 2]  # [class, ..., file]
    if not members:
        raise DatasetError(
            "The zip has no class folders: put the images in one folder per class "
            "(e.g. cats/1.jpg, dogs/2.jpg), then zip the folders."
        )

    image_members = [(p, i) for p, i in members if p[-1].lower().endswith(IMAGE_EXTENSIONS)]
    skipped_type = len(members) - len(image_members)
    if not image_members:
        raise DatasetError(
            f"The zip has no image files ({', '.join(e.lstrip('.') for e in IMAGE_EXTENSIONS[:5])}, ...) "
            "inside its class folders."
        )
    if len(image_members) > max_images:
        raise DatasetError(
            f"The zip has {len(image_members):,} images; the limit is {max_images:,}. "
            "Use a smaller sample (e.g. a few hundred images per class)."
        )
    return image_members, skipped_loose, skipped_type


def _price_pixels(
    zf: zipfile.ZipFile,
    image_members: list[Member],
    size_hw: tuple[int, int],
    grayscale: bool,
    budget_pixels: int,
    stop_here: Callable[[], None],
    skipped_bad: list[str],
) -> list[Member]:
    """Price 2, from the image headers: the pixels to decode. Nothing is decoded yet.

    Returns the members to decode, in file-name order; unreadable ones are added to `skipped_bad`.
    Raises DatasetError for a member over MAX_FILE_BYTES or when the pixels pass `budget_pixels`.
    """
    priced: list[Member] = []
    total_pixels = 0
    for parts, info in sorted(image_members, key=lambda m: m[1].filename):
        stop_here()
        if info.file_size > MAX_FILE_BYTES:
            raise DatasetError(
                f"{posixpath.join(*parts)} is {info.file_size / 1e6:.0f} MB unpacked; "
                f"the limit per image is {MAX_FILE_BYTES // (1024 * 1024)} MB."
            )
        try:
            total_pixels += _decoded_pixels(zf, info, size_hw, grayscale)
        except DatasetError as exc:
            skipped_bad.append(f"{posixpath.join(*parts)} ({exc})")
            continue
        except Exception:  # encrypted, unsupported compression, not an image, ...
            skipped_bad.append(f"{posixpath.join(*parts)} (not a readable image)")
            continue
        if total_pixels > budget_pixels:
            raise DatasetError(
                f"The images in this zip hold more than {budget_pixels / 1e6:,.0f} million pixels "
                f"(the first {len(priced) + 1:,} already do); this server decodes at most "
                f"{budget_pixels / 1e6:,.0f} million per upload (the whole class shares it). To fit, "
                "shrink the pictures before zipping them (e.g. to 512 px on the longest side) or "
                "use fewer images."
            )
        priced.append((parts, info))
    return priced


def _decode_members(
    zf: zipfile.ZipFile,
    priced: list[Member],
    class_names: list[str],
    size_hw: tuple[int, int],
    grayscale: bool,
    stop_here: Callable[[], None],
    skipped_bad: list[str],
) -> tuple[np.ndarray, list[int]]:
    """Read and decode the priced members: (pixels [N, C, H, W] uint8, one label per decoded image).

    Decodes straight into the dataset's array: no list of images, no second copy by np.stack.
    Only the first len(labels) rows of pixels hold images; unreadable ones go to `skipped_bad`.
    Raises DatasetError for a member that unpacks past MAX_FILE_BYTES or a zip past
    MAX_UNCOMPRESSED_BYTES, as read (never as the headers claim).
    """
    h, w = size_hw
    channels = 1 if grayscale else 3
    pixels = np.empty((len(priced), channels, h, w), dtype=np.uint8)  # [N, C, H, W], priced above
    labels: list[int] = []
    total = 0
    for parts, info in priced:
        stop_here()
        try:
            with zf.open(info) as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)  # never trust the header's size
        except (RuntimeError, NotImplementedError, zipfile.BadZipFile, OSError, EOFError) as exc:
            # encrypted members, unsupported compression, CRC errors
            skipped_bad.append(f"{posixpath.join(*parts)} ({type(exc).__name__})")
            continue
        if len(raw) > MAX_FILE_BYTES:
            raise DatasetError(
                f"{posixpath.join(*parts)} unpacks to more than {MAX_FILE_BYTES // (1024 * 1024)} MB; "
                "this looks like a decompression bomb."
            )
        total += len(raw)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise DatasetError(
                f"The zip unpacks to more than {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB; "
                "use fewer or smaller images."
            )
        try:
            image = _decode_image(raw, size_hw, grayscale)  # [H, W] or [H, W, 3]
        except DatasetError as exc:
            skipped_bad.append(f"{posixpath.join(*parts)} ({exc})")
            continue
        except Exception:  # not really an image, truncated, Pillow's own bomb guard, ...
            skipped_bad.append(f"{posixpath.join(*parts)} (not a readable image)")
            continue
        del raw
        pixels[len(labels)] = image[None] if grayscale else image.transpose(2, 0, 1)  # [C, H, W]
        labels.append(class_names.index(parts[0]))
    return pixels, labels


def load_image_folder_zip(
    data: bytes,
    image_size: Sequence[int] | int = (32, 32),
    grayscale: bool = False,
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    max_images: int = MAX_UPLOAD_IMAGES,
    max_dataset_bytes: int | None = None,
    max_decoded_pixels: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DatasetBundle:
    """Read a zip of class folders (`cats/1.jpg`, `dogs/2.png`, ... as torchvision's ImageFolder expects).

    Images are resized to `image_size` (H, W) with Pillow, kept as uint8, and split per class
    into train and test (`test_fraction`, seeded). A single top folder around the class folders
    is allowed. Hidden files and `__MACOSX` are ignored; non-image and unreadable files are
    skipped and counted in `bundle.notes`. Raises DatasetError for: not a zip, a path escaping
    the folder, no class folders, fewer than two classes with images, a class with one image,
    more than `max_images` images, members too large, or too much data once unpacked; and,
    before decoding anything, a dataset over `max_dataset_bytes` (default MAX_DATASET_BYTES) or
    images holding more than `max_decoded_pixels` pixels (default MAX_DECODED_PIXELS), each with
    what to change. `should_stop()` is asked before every image; True raises UploadStopped.
    """
    budget_bytes = MAX_DATASET_BYTES if max_dataset_bytes is None else int(max_dataset_bytes)
    budget_pixels = MAX_DECODED_PIXELS if max_decoded_pixels is None else int(max_decoded_pixels)
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise DatasetError("The upload is empty: choose a .zip file with one folder of images per class.")
    h, w = _check_image_size(image_size)
    channels = 1 if grayscale else 3
    if not 0.0 < float(test_fraction) < 1.0:
        raise DatasetError(f"test_fraction must be between 0 and 1, got {test_fraction!r}.")
    zf = _open_zip(data)

    def stop_here() -> None:
        if should_stop is not None and should_stop():
            raise UploadStopped(
                "Reading the zip was stopped: the page was closed or another file was chosen."
            )

    skipped_bad: list[str] = []
    with zf:
        image_members, skipped_loose, skipped_type = _image_members(zf, max_images)
        # Price 1, from the zip's directory: the decoded dataset's memory.
        if len(image_members) * channels * h * w > budget_bytes:
            raise DatasetError(_too_big_message(len(image_members), h, w, grayscale, budget_bytes))
        class_names = sorted({p[0] for p, _ in image_members})
        priced = _price_pixels(zf, image_members, (h, w), grayscale, budget_pixels, stop_here, skipped_bad)
        pixels, labels = _decode_members(zf, priced, class_names, (h, w), grayscale, stop_here, skipped_bad)

    present, notes = classes_and_notes(class_names, labels, skipped_loose, skipped_type, skipped_bad)
    # Relabel to the classes that have images, in sorted order (as ImageFolder does).
    remap = {class_names.index(c): i for i, c in enumerate(present)}
    label_t = torch.tensor([remap[y] for y in labels], dtype=torch.int64)  # [N]
    x = torch.from_numpy(pixels[: len(labels)])  # [N, C, H, W] uint8, no copy
    train_idx, test_idx = stratified_split(label_t, test_fraction, seed)
    return make_bundle(
        "upload",
        x[train_idx],
        label_t[train_idx],
        x[test_idx],
        label_t[test_idx],
        present,
        title="Uploaded images",
        source=f"Your zip: {len(label_t):,} images in {len(present)} class folders, resized to {h}x{w}.",
        notes=notes,
    )
