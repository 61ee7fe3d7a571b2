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

This package's public face is this module; the modules inside it:

    load.py       load_dataset and the bundled MNIST sample's reader
    bundle.py     DatasetError, DatasetBundle, ImageTensorDataset, normalize, channel_stats,
                  stratified_split, make_bundle
    decode.py     to_plane_image: any decoded image mode to L, RGB or F, with notes
    catalog.py    DatasetInfo, DATASETS (names, titles, classes, sizes), offline_alternatives
    class_drawings.py  class_drawings_bundle: the class's drawings (cnnlib.classroom) as a bundle
    synthetic.py  make_shapes and the "shapes" dataset
    downloads.py  torchvision downloads: cache folder, fast offline probe, DOWNLOAD_TIMEOUT_S
    uploads.py    load_image_folder_zip, its upload limits and budgets (patch those there, where
                  read), dataset_price, UploadStopped
    upload_report.py  what a zip held: its classes with images, notes on what was skipped
    files/        the bundled files: the MNIST sample and the pretrained digit model
"""

from __future__ import annotations

from cnnlib.data import bundle, catalog, class_drawings, decode, downloads, load, uploads
from cnnlib.data.bundle import *  # noqa: F403
from cnnlib.data.catalog import *  # noqa: F403
from cnnlib.data.class_drawings import *  # noqa: F403
from cnnlib.data.decode import *  # noqa: F403
from cnnlib.data.downloads import *  # noqa: F403
from cnnlib.data.load import *  # noqa: F403
from cnnlib.data.uploads import *  # noqa: F403

__all__ = [
    *bundle.__all__,
    *catalog.__all__,
    *class_drawings.__all__,
    *decode.__all__,
    *downloads.__all__,
    *load.__all__,
    *uploads.__all__,
]
