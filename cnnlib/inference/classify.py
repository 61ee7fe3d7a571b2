"""Preprocessing a drawn digit the way MNIST was made, prediction, and which models can read it.

`preprocess_drawing` turns a canvas (RGBA, white ink on black) into what an MNIST model expects:
crop to the ink, scale the longer side to 20 px keeping the aspect ratio (antialiased), paste into
28x28 so the centre of mass sits in the middle, then normalise with the dataset's mean and std.
Every intermediate image is kept for display.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from cnnlib.inference.model_input import (
    MNIST_MEAN,
    MNIST_STD,
    as_input,
    ensure_eval,
    price_forward,
    scalar_stat,
)
from cnnlib.trained import TrainedModel

__all__ = [
    "Preprocessed",
    "preprocess_drawing",
    "naive_image",
    "naive_resize",
    "predict",
    "answer",
    "check_compatible",
    "model_from_record",
]


# Preprocessing constants (MNIST: digits scaled into a 20x20 box, centred by mass in 28x28).
BOX = 20
SIZE = 28
INK_THRESHOLD = 0.1  # a pixel counts as ink above this (grey levels in [0, 1])
MIN_INK_PIXELS = 4  # fewer ink pixels than this: the canvas counts as empty
DOT_FRACTION = 0.15  # ink box's longer side under this share of the canvas: "just a dot"
FULL_FRACTION = 0.6  # more than this share of the canvas is ink: "covers the canvas"
FLAT_RATIO = 4.0  # ink this many times wider than tall: a flat line, which no digit is


# ---------------------------------------------------------------- preprocessing


@dataclass
class Preprocessed:
    """The result of `preprocess_drawing`.

    tensor: normalised input `[1, 1, 28, 28]` (None when `empty`).
    steps: (name, grey image in [0, 1]) for each stage, to show on the page.
    empty: True when there is no ink: nothing to predict; `message` says so.
    notes: warnings a student should read (a dot, ink touching the edge, a covered canvas).
    bbox: (top, left, bottom, right) of the ink in canvas pixels, bottom/right exclusive.
    centre_of_mass: (row, col) of the ink in the final 28x28 image.
    value_range: (min, max) of the normalised tensor.
    """

    tensor: torch.Tensor | None
    steps: list[tuple[str, np.ndarray]]
    empty: bool = False
    message: str | None = None
    notes: list[str] = field(default_factory=list)
    bbox: tuple[int, int, int, int] | None = None
    centre_of_mass: tuple[float, float] | None = None
    value_range: tuple[float, float] | None = None

    @property
    def signature(self) -> str:
        """A short fingerprint of the model input (to notice a new drawing); "" when empty."""
        if self.tensor is None:
            return ""
        return hashlib.sha1(self.tensor.numpy().tobytes()).hexdigest()[:16]


def to_grey(image: np.ndarray, invert: bool = False) -> np.ndarray:
    """Grey ink level in [0, 1] from an RGBA / RGB / LA / grey array (uint8 or float in [0, 1]).

    Alpha multiplies the brightness: a transparent pixel is background whatever its colour.
    `invert=True` is for dark ink on light paper (the result is still white ink on black).
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise ValueError(f"expected an image array [H, W], [H, W, 3] or [H, W, 4], got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError("the image has no pixels")
    x = arr.astype(np.float32)
    if arr.dtype == np.uint8 or x.max(initial=0.0) > 1.0:
        x = x / 255.0
    if x.ndim == 2:
        grey, alpha = x, None
    elif x.shape[2] == 2:
        grey, alpha = x[:, :, 0], x[:, :, 1]
    else:
        grey = 0.299 * x[:, :, 0] + 0.587 * x[:, :, 1] + 0.114 * x[:, :, 2]  # ITU-R 601 luma, as Pillow "L"
        alpha = x[:, :, 3] if x.shape[2] == 4 else None
    if invert:
        grey = 1.0 - grey
    if alpha is not None:
        grey = grey * alpha
    return np.clip(grey, 0.0, 1.0).astype(np.float32)  # [H, W]


def _resize(grey: np.ndarray, height: int, width: int) -> np.ndarray:
    """Antialiased resize of a float image with Pillow (LANCZOS in float mode, no 8-bit rounding)."""
    img = Image.fromarray(np.ascontiguousarray(grey, dtype=np.float32), mode="F")
    out = np.asarray(img.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32)
    return np.clip(out, 0.0, 1.0)


def centre_of_mass(grey: np.ndarray) -> tuple[float, float]:
    """(row, col) of the intensity-weighted centre of a 2-D image (pixel centres at integer indices)."""
    total = float(grey.sum())
    if total <= 0:
        return ((grey.shape[0] - 1) / 2.0, (grey.shape[1] - 1) / 2.0)
    rows = np.arange(grey.shape[0], dtype=np.float64)
    cols = np.arange(grey.shape[1], dtype=np.float64)
    return float((grey.sum(axis=1) * rows).sum() / total), float((grey.sum(axis=0) * cols).sum() / total)


def _paste_centred(small: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Paste `small` into a size x size black image, shifted so its centre of mass lands at size/2."""
    com_r, com_c = centre_of_mass(small)
    top = int(round(size / 2 - com_r))
    left = int(round(size / 2 - com_c))
    h, w = small.shape
    # Keep the whole box inside the field (MNIST digits are never cut): clamp the shift.
    top = min(max(top, 0), size - h)
    left = min(max(left, 0), size - w)
    out = np.zeros((size, size), dtype=np.float32)
    out[top : top + h, left : left + w] = small
    return out


def preprocess_drawing(
    rgba: np.ndarray,
    mean: float | Sequence[float] = MNIST_MEAN,
    std: float | Sequence[float] = MNIST_STD,
    invert: bool = False,
) -> Preprocessed:
    """Turn a drawing (white ink on black, RGBA uint8 [H, W, 4] from the canvas) into an MNIST input.

    Crop to the ink's bounding box, scale the longer side to 20 px keeping the aspect ratio,
    paste into 28x28 with the centre of mass at the centre, normalise `(x - mean) / std`.
    A blank canvas gives `empty=True` (tensor None); a dot, ink on the edge or a covered canvas
    still give a tensor plus a note.
    """
    grey = to_grey(rgba, invert=invert)  # [H, W] in [0, 1]
    H, W = grey.shape
    steps: list[tuple[str, np.ndarray]] = [("Your drawing", grey)]
    mask = grey > INK_THRESHOLD
    if int(mask.sum()) < MIN_INK_PIXELS:
        return Preprocessed(
            tensor=None,
            steps=steps,
            empty=True,
            message="The canvas is empty: draw a digit to see a prediction.",
        )
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    crop = grey[top:bottom, left:right]  # [h, w]
    steps.append(("Cropped to the ink", crop))

    notes: list[str] = []
    h, w = crop.shape
    if max(h, w) < DOT_FRACTION * max(H, W):
        notes.append(
            "That is very small, just a dot? It gets blown up to 20 px, so the network sees a blob: "
            "draw the digit bigger, filling most of the box."
        )
    elif w >= FLAT_RATIO * h:
        notes.append(
            f"That is a flat line, {w / h:.0f} times wider than it is tall: no digit looks like that, "
            "so the answer can only be a guess."
        )
    if float(mask.mean()) > FULL_FRACTION:
        notes.append("Most of the canvas is covered in ink: this hardly looks like a digit.")
    if top == 0 or left == 0 or bottom == H or right == W:
        notes.append("The drawing touches the edge of the canvas: a part of it may have been cut off.")

    scale = BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = _resize(crop, new_h, new_w)  # [new_h, new_w], longer side 20
    steps.append((f"Scaled to {new_w}×{new_h} px", small))

    field28 = _paste_centred(small)  # [28, 28]
    steps.append(("Centred by mass in 28×28", field28))

    m, s = scalar_stat(mean), scalar_stat(std)
    norm = (field28 - m) / s
    lo, hi = float(norm.min()), float(norm.max())
    steps.append((f"Normalised (x − {m:.3f}) / {s:.3f}", field28))
    tensor = torch.from_numpy(norm).reshape(1, 1, SIZE, SIZE)  # [1, 1, 28, 28]
    return Preprocessed(
        tensor=tensor,
        steps=steps,
        notes=notes,
        bbox=(top, left, bottom, right),
        centre_of_mass=centre_of_mass(field28),
        value_range=(lo, hi),
    )


def naive_image(rgba: np.ndarray) -> np.ndarray:
    """The whole canvas squashed to 28x28, no cropping or centring: grey [28, 28] in [0, 1]."""
    return _resize(to_grey(rgba), SIZE, SIZE)


def naive_resize(
    rgba: np.ndarray, mean: float | Sequence[float] = MNIST_MEAN, std: float | Sequence[float] = MNIST_STD
) -> torch.Tensor:
    """The naive alternative (for comparison only): squash the whole canvas to 28x28. -> [1, 1, 28, 28]"""
    small = naive_image(rgba)  # [28, 28]
    return torch.from_numpy((small - scalar_stat(mean)) / scalar_stat(std)).reshape(1, 1, SIZE, SIZE)


# ---------------------------------------------------------------- prediction


def predict(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Class probabilities (softmax of the model's logits): [K] for one input, [N, K] for a batch."""
    ensure_eval(model)
    batch = as_input(model, x)  # [N, C, H, W]
    # The model is the student's, the batch the app's (evaluation passes 1,000 images): one image priced.
    price_forward(model, batch[:1], what="A prediction with this model")  # before anything runs
    with torch.no_grad():
        probs = torch.softmax(model(batch).float(), dim=1).cpu().numpy()  # [N, K]
    return probs[0] if probs.shape[0] == 1 else probs


LOW_CONFIDENCE = 0.6


@dataclass
class Answer:
    """The network's answer in words: top class, its probability, and a warning when unsure."""

    index: int
    label: str
    confidence: float
    runner_up: str | None
    warning: str | None


def answer(probs: np.ndarray, classes: Sequence[str], low: float = LOW_CONFIDENCE) -> Answer:
    """Read a probability vector [K]: the top class and whether the network is sure of it."""
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if len(p) != len(classes) or len(p) == 0:
        raise ValueError(f"{len(p)} probabilities for {len(classes)} classes")
    order = np.argsort(-p, kind="stable")
    top = int(order[0])
    second = str(classes[int(order[1])]) if len(p) > 1 else None
    warning = None
    if p[top] < low:
        warning = (
            f"Not sure: is it a digit? The best guess, {classes[top]}, has only {p[top]:.0%} probability"
            + (f" (next: {second}, {p[int(order[1])]:.0%})." if second is not None else ".")
        )
    return Answer(top, str(classes[top]), float(p[top]), second, warning)


# ---------------------------------------------------------------- models


@dataclass
class Compatibility:
    """Whether a model can read drawings: `ok`, and `message` explaining a refusal or a caveat."""

    ok: bool
    message: str | None = None


DIGITS = [str(d) for d in range(10)]


def check_compatible(
    spec_or_model: Any, classes: Sequence[str] | None, input_shape: Sequence[int] = (1, SIZE, SIZE)
) -> Compatibility:
    """Can this model classify a 28x28 grey drawing? Explains why not, or what to expect.

    `spec_or_model`: a ModelSpec, its dict, or an nn.Module. Wrong input shape or an output count
    that differs from the classes -> not ok. A 1x28x28 model with classes other than the digits is
    ok with a note (it will call every drawing one of its own classes).
    """
    want = list(input_shape)
    model_shape = None
    if isinstance(spec_or_model, dict):
        model_shape = spec_or_model.get("input_shape")
    elif hasattr(spec_or_model, "input_shape"):
        model_shape = spec_or_model.input_shape
    if model_shape is not None:
        model_shape = [int(v) for v in model_shape]
        if model_shape != want:
            c, h, w = (model_shape + [0, 0, 0])[:3]
            what = "colour (3-channel)" if c == 3 else f"{c}-channel"
            return Compatibility(
                False,
                f"This model expects {what} {h}×{w} images (input {c}×{h}×{w}), but a drawing becomes a "
                f"grey {want[1]}×{want[2]} image ({'×'.join(map(str, want))}). Train a model on a "
                "1×28×28 dataset (e.g. the MNIST sample) to use it here.",
            )
    refusal = _memory_refusal(spec_or_model, want)
    if refusal is not None:
        return Compatibility(False, refusal)
    n_out = None
    try:
        if isinstance(spec_or_model, nn.Module):
            probe = torch.zeros(1, *want)  # [1, 1, 28, 28]
            was_training = spec_or_model.training
            ensure_eval(spec_or_model)
            with torch.no_grad():
                n_out = int(spec_or_model(as_input(spec_or_model, probe)).reshape(1, -1).shape[1])
            if was_training:
                spec_or_model.train()
    except RuntimeError as err:
        return Compatibility(False, f"This model cannot take a {'×'.join(map(str, want))} input: {err}")
    if classes is None or len(classes) == 0:
        return Compatibility(False, "This model has no class names, so its answers could not be labelled.")
    if n_out is not None and n_out != len(classes):
        return Compatibility(
            False, f"This model has {n_out} outputs but {len(classes)} class names: they do not match."
        )
    if [str(c) for c in classes] != DIGITS:
        shown = ", ".join(map(str, list(classes)[:6])) + (", ..." if len(classes) > 6 else "")
        return Compatibility(
            True,
            f"This model knows the classes {shown}, not the digits 0-9: it will call every drawing one "
            "of those. Draw one of them!",
        )
    return Compatibility(True, None)


def _memory_refusal(spec_or_model: Any, input_shape: Sequence[int]) -> str | None:
    """Why this model may not run in the server (explaining a drawing: a forward and a backward
    pass, priced on the meta device), or None when it fits or cannot be priced (a broken spec)."""
    from cnnlib.spec import MemoryBudgetError, ModelSpec, SpecError, check_memory

    try:
        model = ModelSpec.from_dict(spec_or_model) if isinstance(spec_or_model, dict) else spec_or_model
        if isinstance(model, (ModelSpec, nn.Module)):
            check_memory(model, 1, training=True, input_shape=tuple(input_shape), what="This model")
    except MemoryBudgetError as err:
        return str(err)
    except SpecError:
        return None
    return None


def model_from_record(record: Mapping[str, Any] | TrainedModel) -> nn.Module:
    """Build a session-trained model from its record (a `cnnlib.trained.TrainedModel` or its dict
    form {"spec", "state_dict", ...}), on the CPU, in eval mode."""
    trained = record if isinstance(record, TrainedModel) else TrainedModel.from_dict(record)
    return trained.build()
