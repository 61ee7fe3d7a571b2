"""The class's drawings as a dataset: "Our class's drawings" on the Training page.

The class store (`cnnlib.classroom`, `ClassStore.drawings`) hands back the drawings as arrays:
images (N, 28, 28) uint8 (white strokes on black, as Draw & predict feeds the model) and each
one's label index. `class_drawings_bundle` turns them into a DatasetBundle of 1x28x28 images with
a stratified test split (each label's share held out, seeded), or raises DatasetError naming how
many more drawings of which labels are needed (at least MIN_PER_LABEL of each).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from cnnlib.data.bundle import DatasetBundle, DatasetError, make_bundle, stratified_split

__all__ = ["CLASS_DRAWINGS", "MIN_PER_LABEL", "class_drawings_bundle", "drawing_pixels", "drawings_needed"]


CLASS_DRAWINGS = "class-drawings"  # the bundle's name (the Training page's dataset key)
MIN_PER_LABEL = 5  # drawings of each label before the class can train: 4 to learn from, 1 to test
SIDE = 28


def drawing_pixels(image: np.ndarray) -> np.ndarray:
    """Draw & predict's preprocessed drawing (28x28, ink in [0, 1], before normalising: the last
    picture in `Preprocessed.steps`) as the store keeps it: (28, 28) uint8, 0-255."""
    image = np.asarray(image, dtype=np.float64)
    if image.shape != (SIDE, SIDE):
        raise DatasetError(f"A class drawing is 28x28, not {image.shape}.")
    return np.round(np.clip(np.nan_to_num(image), 0.0, 1.0) * 255).astype(np.uint8)  # [28, 28]


def drawings_needed(counts: dict[str, int], minimum: int = MIN_PER_LABEL) -> dict[str, int]:
    """How many more drawings each label needs before training (only the labels short of `minimum`)."""
    return {label: minimum - n for label, n in counts.items() if n < minimum}


def _too_few(needed: dict[str, int], minimum: int) -> DatasetError:
    parts = ", ".join(f"{n} more {label!r}" for label, n in needed.items())
    total = sum(needed.values())
    return DatasetError(
        f"Too few class drawings to train on: draw {parts} ({total} in all; at least {minimum} of "
        "each label, one of them held out to test)."
    )


def class_drawings_bundle(
    images: np.ndarray,
    targets: np.ndarray,
    labels: Sequence[str],
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    minimum: int = MIN_PER_LABEL,
) -> DatasetBundle:
    """A DatasetBundle (1x28x28) over the class's drawings, `test_fraction` of each label held out."""
    images = np.asarray(images)
    targets = np.asarray(targets)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
        raise DatasetError(f"Class drawings are (N, 28, 28) uint8, not {images.dtype} {images.shape}.")
    if targets.shape != (images.shape[0],):
        raise DatasetError("Each class drawing needs one label.")
    if len(labels) < 2:
        raise DatasetError("The class's dataset needs at least 2 labels: ask the teacher to open one.")
    counts = {label: int((targets == i).sum()) for i, label in enumerate(labels)}
    needed = drawings_needed(counts, minimum)
    if needed:
        raise _too_few(needed, minimum)
    x = torch.from_numpy(images.copy()).unsqueeze(1)  # [N, 1, 28, 28] uint8
    y = torch.from_numpy(targets.astype(np.int64))  # [N]
    train_idx, test_idx = stratified_split(y, test_fraction, seed)
    total = len(y)
    return make_bundle(
        CLASS_DRAWINGS,
        x[train_idx],
        y[train_idx],
        x[test_idx],
        y[test_idx],
        list(labels),
        title="Our class's drawings",
        source=f"Drawn by the class on Draw & predict: {total:,} drawings of {len(labels)} labels, 28x28.",
    )
