"""The dataset container, `DatasetBundle`: raw uint8 pixels, labels, class names and stats.

Every dataset is held as raw uint8 pixels (`[N, C, H, W]`) plus int64 labels, so memory stays small
(a uint8 image is a quarter of a float one); `normalize(x, bundle)` turns a batch into the float
input a model expects. Every loader builds its bundle with `make_bundle` (which computes the
per-channel stats) and raises `DatasetError`; `stratified_split` splits labels per class.
Import these from `cnnlib.data`, the public face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import torch
from torch.utils.data import Dataset

__all__ = ["DatasetError", "ImageTensorDataset", "DatasetBundle", "normalize", "stratified_split"]


class DatasetError(ValueError):
    """A dataset could not be loaded; the message says why and what to do instead."""


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


STATS_CHUNK_BYTES = 8 * 1024 * 1024  # float32 working memory of one chunk in channel_stats


def channel_stats(
    images: torch.Tensor, chunk_bytes: int = STATS_CHUNK_BYTES
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 images `[N, C, H, W]` in [0, 1] units (chunked, float64).

    Chunks are sized in bytes, not images: each holds at most `chunk_bytes` of float32 (two such
    temporaries at a time), whatever the image size (4,096 images of 3 x 256 x 256 were 3 GB).
    """
    n, c = images.shape[0], images.shape[1]
    if n == 0:
        return (0.5,) * c, (0.5,) * c
    per_image = 4 * c * images.shape[2] * images.shape[3]  # float32 bytes of one image
    chunk = max(1, int(chunk_bytes) // per_image)
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


def make_bundle(
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
    """A DatasetBundle over uint8 images and int64 labels, with stats from the training images."""
    mean, std = channel_stats(train_images)
    return DatasetBundle(
        name=name,
        train=ImageTensorDataset(train_images, train_labels),
        test=ImageTensorDataset(test_images, test_labels),
        classes=list(classes),
        input_shape=cast(
            tuple[int, int, int], tuple(int(s) for s in train_images.shape[1:])
        ),  # NCHW: (C, H, W)
        mean=mean,
        std=std,
        title=title,
        source=source,
        notes=list(notes or []),
    )


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
