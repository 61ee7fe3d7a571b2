"""The class's drawings as a DatasetBundle: shapes, a stratified seeded split, a message when too few."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlib.data import (
    CLASS_DRAWINGS,
    DatasetError,
    class_drawings_bundle,
    drawing_pixels,
    drawings_needed,
    normalize,
)

LABELS = ("circle", "triangle", "star")


def _drawings(per_label: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    targets = np.concatenate([np.full(n, i, dtype=np.int64) for i, n in enumerate(per_label)])
    rng.shuffle(targets)
    images = rng.integers(0, 256, size=(len(targets), 28, 28), dtype=np.uint8)
    images[:, 0, 0] = targets  # each image carries its label, to check images and labels stay paired
    return images, targets


@pytest.mark.parametrize("per_label", [[5, 5, 5], [20, 7, 12], [60, 40, 200]])
def test_bundle_shapes_and_a_stratified_split(per_label):
    images, targets = _drawings(per_label)
    bundle = class_drawings_bundle(images, targets, LABELS, seed=3)
    assert bundle.name == CLASS_DRAWINGS and bundle.classes == list(LABELS)
    assert bundle.input_shape == (1, 28, 28) and bundle.num_classes == 3
    assert bundle.train_images.dtype == torch.uint8 and bundle.train_images.shape[1:] == (1, 28, 28)
    assert len(bundle.train) + len(bundle.test) == sum(per_label)
    test_counts = bundle.class_counts("test")
    for i, n in enumerate(per_label):
        assert test_counts[i] == min(n - 1, max(1, round(n * 0.2)))  # every label in the test set
    for split in (bundle.train, bundle.test):
        assert torch.equal(split.images[:, 0, 0, 0].long(), split.labels)  # pairs kept
    x = normalize(bundle.test_images[:4], bundle)
    assert x.shape == (min(4, len(bundle.test)), 1, 28, 28) and x.dtype == torch.float32
    again = class_drawings_bundle(images, targets, LABELS, seed=3)
    assert torch.equal(again.test_images, bundle.test_images)  # seeded


def test_too_few_drawings_say_how_many_more():
    images, targets = _drawings([5, 2, 0])
    assert drawings_needed({"circle": 5, "triangle": 2, "star": 0}) == {"triangle": 3, "star": 5}
    with pytest.raises(DatasetError, match=r"draw 3 more 'triangle', 5 more 'star' \(8 in all"):
        class_drawings_bundle(images, targets, LABELS)


def test_bad_arrays_are_refused():
    images, targets = _drawings([5, 5, 5])
    with pytest.raises(DatasetError, match="28, 28"):
        class_drawings_bundle(images.astype(np.float32), targets, LABELS)
    with pytest.raises(DatasetError, match="one label"):
        class_drawings_bundle(images, targets[:-1], LABELS)
    with pytest.raises(DatasetError, match="at least 2 labels"):
        class_drawings_bundle(images, targets * 0, ["only"])


def test_drawing_pixels_from_the_preprocessed_drawing():
    from cnnlib.inference import preprocess_drawing

    canvas = np.zeros((280, 280, 4), dtype=np.uint8)
    canvas[60:220, 130:150] = 255  # a vertical stroke
    pre = preprocess_drawing(canvas, mean=0.1307, std=0.3081)
    pixels = drawing_pixels(pre.steps[-1][1])
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8 and pixels.max() > 200
    x = (torch.from_numpy(pixels).float() / 255 - 0.1307) / 0.3081  # [28, 28]
    assert pre.tensor is not None and torch.allclose(x, pre.tensor[0, 0], atol=0.02)
    with pytest.raises(DatasetError, match="28x28"):
        drawing_pixels(np.zeros((27, 28)))
