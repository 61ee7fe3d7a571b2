"""Evaluate a trained CNN: predictions, confusion matrix, per-class metrics, filters, feature maps.

Everything the Training page shows after a run comes from here (and is unit-tested against hand
counts and the textbook formulas). It also flags overfitting in a run's history and packs the
trained weights with their spec into bytes for download (tensors and plain data only: no pickled
module, so `torch.load(..., weights_only=True)` reads it back).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnlib.data import normalize
from cnnlib.inference import feature_maps
from cnnlib.trained import TrainedModel

# ----------------------------------------------------------------------------- metrics


__all__ = [
    "Evaluation",
    "evaluation_from_probabilities",
    "evaluate",
    "first_layer_filters",
    "conv_feature_maps",
    "overfitting_flag",
    "export_weights",
    "cpu_state_dict",
]


def confusion_matrix(
    labels: Sequence[int] | np.ndarray, predictions: Sequence[int] | np.ndarray, num_classes: int
) -> np.ndarray:
    """Counts [K, K]: row = true class, column = predicted class."""
    y = np.asarray(labels, dtype=np.int64).ravel()
    p = np.asarray(predictions, dtype=np.int64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels ({y.size}) and predictions ({p.size}) differ in length")
    if y.size and (min(y.min(), p.min()) < 0 or max(y.max(), p.max()) >= num_classes):
        raise ValueError(f"class indices must lie in 0..{num_classes - 1}")
    flat = np.bincount(y * num_classes + p, minlength=num_classes * num_classes)  # [K*K]
    return flat.reshape(num_classes, num_classes)


@dataclass(frozen=True)
class ClassMetrics:
    """Per-class precision, recall, F1 and support (each [K]); classes with no data give 0."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros_like(num, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def per_class_metrics(confusion: np.ndarray) -> ClassMetrics:
    """Precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R), from a [K, K] confusion matrix."""
    cm = np.asarray(confusion, dtype=np.float64)
    tp = np.diag(cm)  # [K]
    precision = _safe_div(tp, cm.sum(axis=0))  # column sums: everything predicted as k
    recall = _safe_div(tp, cm.sum(axis=1))  # row sums: everything truly k
    f1 = _safe_div(2 * precision * recall, precision + recall)
    return ClassMetrics(precision, recall, f1, cm.sum(axis=1).astype(np.int64))


@dataclass
class Evaluation:
    """A model's results on a test set."""

    classes: list[str]
    labels: np.ndarray  # [N] int64, true class
    predictions: np.ndarray  # [N] int64, argmax class
    probabilities: np.ndarray  # [N, K] float32, softmax
    confusion: np.ndarray  # [K, K] int64, rows true, columns predicted
    metrics: ClassMetrics
    accuracy: float
    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # [N] into the test set

    @property
    def num_examples(self) -> int:
        return int(self.labels.size)

    def cell_indices(self, true: int, pred: int) -> np.ndarray:
        """Test-set indices of the examples of class `true` predicted as `pred`."""
        mask = (self.labels == true) & (self.predictions == pred)
        return self.indices[mask]

    def misclassified_cells(self) -> list[tuple[int, int, int]]:
        """Off-diagonal cells with at least one example: (true, pred, count), most frequent first."""
        k = len(self.classes)
        cells = [
            (t, p, int(self.confusion[t, p]))
            for t in range(k)
            for p in range(k)
            if t != p and self.confusion[t, p] > 0
        ]
        return sorted(cells, key=lambda c: (-c[2], c[0], c[1]))


# ----------------------------------------------------------------------------- model runs


def normalize_images(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 [N, C, H, W] (or [C, H, W]) -> float (x/255 - mean)/std per channel (cnnlib.data.normalize)."""
    return normalize(images, (tuple(mean), tuple(std)))


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (CPU for a model without parameters)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


@torch.inference_mode()
def predict_proba(
    model: nn.Module,
    images: torch.Tensor,
    mean: Sequence[float],
    std: Sequence[float],
    device: torch.device | str | None = None,
    batch_size: int = 512,
) -> np.ndarray:
    """Softmax probabilities [N, K] for uint8 images [N, C, H, W], in eval mode (mode restored after)."""
    dev = torch.device(device) if device is not None else model_device(model)
    was_training = model.training
    model.eval()
    try:
        out = []
        for start in range(0, images.shape[0], batch_size):
            x = normalize_images(images[start : start + batch_size].to(dev), mean, std)  # [B, C, H, W]
            out.append(torch.softmax(model(x).float(), dim=1).cpu())  # [B, K]
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return torch.cat(out).numpy()  # [N, K]
    finally:
        model.train(was_training)


def evaluation_from_probabilities(
    probabilities: np.ndarray, labels: Sequence[int] | np.ndarray | torch.Tensor, classes: Sequence[str]
) -> Evaluation:
    """An Evaluation from softmax outputs [N, K] and true labels [N] (e.g. TrainingRun.test_probs)."""
    probs = np.asarray(probabilities, dtype=np.float32)
    y = (labels.numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)).astype(np.int64).ravel()
    k = len(classes)
    n = y.size
    if n and (probs.ndim != 2 or probs.shape[0] != n):
        raise ValueError(f"expected probabilities for {n} examples, got shape {probs.shape}")
    if n and probs.shape[1] != k:
        raise ValueError(f"the model outputs {probs.shape[1]} scores but the dataset has {k} classes")
    pred = probs.argmax(axis=1).astype(np.int64) if n else np.zeros(0, dtype=np.int64)  # [N]
    cm = confusion_matrix(y, pred, k)
    accuracy = float((pred == y).mean()) if n else 0.0
    return Evaluation(
        [str(c) for c in classes],
        y,
        pred,
        probs.reshape(n, k) if n else np.zeros((0, k), np.float32),
        cm,
        per_class_metrics(cm),
        accuracy,
        np.arange(n, dtype=np.int64),
    )


def evaluate(
    model: nn.Module,
    bundle: Any,
    device: torch.device | str | None = None,
    max_examples: int | None = None,
    batch_size: int = 512,
) -> Evaluation:
    """Run the model over the bundle's test set (the first `max_examples` of it, if given)."""
    images = bundle.test_images  # [N, C, H, W] uint8
    labels = bundle.test_labels  # [N] int64
    n = images.shape[0] if max_examples is None else min(max_examples, images.shape[0])
    probs = predict_proba(model, images[:n], bundle.mean, bundle.std, device, batch_size)  # [N, K]
    return evaluation_from_probabilities(probs, labels[:n], bundle.classes)


def first_layer_filters(model: nn.Module) -> np.ndarray | None:
    """Weights [O, I, kh, kw] of the model's first Conv2d (None if it has none)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return m.weight.detach().float().cpu().numpy()
    return None


def conv_feature_maps(
    model: nn.Module,
    image: torch.Tensor,
    mean: Sequence[float],
    std: Sequence[float],
    device: torch.device | str | None = None,
) -> list[tuple[str, np.ndarray]]:
    """Feature maps of one uint8 image [C, H, W] after every conv block (Conv2d + its BN/activation).

    Normalises the image with the dataset's statistics, then `cnnlib.inference.feature_maps`.
    Returns [(name, array [C_out, H_out, W_out])] in network order; the model's mode is restored.
    """
    dev = torch.device(device) if device is not None else model_device(model)
    x = normalize_images(image.unsqueeze(0).to(dev), mean, std)  # [1, C, H, W]
    was_training = model.training
    try:
        return feature_maps(model, x)
    finally:
        model.train(was_training)


# ----------------------------------------------------------------------------- overfitting


@dataclass(frozen=True)
class OverfitVerdict:
    """Whether a run looks like it is overfitting, with a sentence that says why (or why not)."""

    overfitting: bool
    message: str
    since_epoch: int | None = None  # 1-based epoch of the best validation loss


def overfitting_flag(
    train_loss: Sequence[float], val_loss: Sequence[float], patience: int = 2, tolerance: float = 0.02
) -> OverfitVerdict:
    """Flag "train loss falling while validation loss rises".

    Per-epoch losses. Overfitting: the validation loss's best epoch lies at least `patience` epochs
    back, the latest validation loss is more than `tolerance` (relative) above that best, and the
    training loss has kept falling since then.
    """
    tr = [float(v) for v in train_loss]
    va = [float(v) for v in val_loss]
    n = min(len(tr), len(va))
    tr, va = tr[:n], va[:n]
    if n < patience + 1 or any(not math.isfinite(v) for v in tr + va):
        return OverfitVerdict(False, f"Not enough epochs to judge yet (need at least {patience + 1}).")
    best = int(np.argmin(va))
    rising = n - 1 - best >= patience and va[-1] > va[best] * (1 + tolerance)
    falling = tr[-1] < tr[best]
    if rising and falling:
        return OverfitVerdict(
            True,
            f"Overfitting: since epoch {best + 1} the training loss kept falling ({tr[best]:.3f} → "
            f"{tr[-1]:.3f}) while the validation loss rose ({va[best]:.3f} → {va[-1]:.3f}). The model "
            "is memorising the training images. Try augmentation, dropout, weight decay, more data, "
            "or stop earlier (early stopping).",
            best + 1,
        )
    return OverfitVerdict(
        False, "No sign of overfitting: validation loss has not risen while training loss fell."
    )


# ----------------------------------------------------------------------------- export


def export_weights(
    spec: dict,
    state_dict: dict[str, torch.Tensor],
    classes: Sequence[str] = (),
    mean: Sequence[float] = (),
    std: Sequence[float] = (),
    dataset: str = "",
) -> bytes:
    """Bytes of `torch.save({"spec", "state_dict", "classes", "mean", "std", "dataset"})`: the
    dict form of a `cnnlib.trained.TrainedModel` (its `to_bytes()`).

    Only tensors (moved to CPU) and plain Python data: `torch.load(f, weights_only=True)` reads it,
    and no pickled module is ever written.
    """
    record = TrainedModel(
        spec=spec,
        state_dict=dict(state_dict),
        classes=[str(c) for c in classes],
        mean=[float(v) for v in mean],
        std=[float(v) for v in std],
        dataset=str(dataset),
    )
    return record.to_bytes()


def load_exported(data: bytes) -> dict:
    """Read `export_weights` bytes back (weights_only: safe against pickled code)."""
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of the model's state_dict (safe to keep in session state)."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
