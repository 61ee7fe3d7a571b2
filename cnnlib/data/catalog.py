"""The catalogue of datasets: name, title, description, classes and sizes, known before loading.

`DATASETS` maps each name `load_dataset` accepts to a `DatasetInfo` (for menus and help text);
`OFFLINE_DATASETS` need no network, and `offline_alternatives()` names them in error messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnlib.data.uploads import MAX_UPLOAD_IMAGES

__all__ = ["DATASETS"]


OFFLINE_DATASETS = ("shapes", "mnist-sample")


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


def offline_alternatives() -> str:
    """The datasets that need no network, as the menus name them: '"Synthetic shapes" (shapes) or ...'."""
    return " or ".join(f'"{DATASETS[n].title}" ({n})' for n in OFFLINE_DATASETS)
