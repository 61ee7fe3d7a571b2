"""Inference on a drawn digit: MNIST-style preprocessing, prediction, feature maps, Grad-CAM.

`preprocess_drawing` turns a canvas (RGBA, white ink on black) into what an MNIST model expects,
the way the MNIST digits themselves were made: crop to the ink, scale the longer side to 20 px
keeping the aspect ratio (antialiased), paste into 28x28 so the centre of mass sits in the middle,
then normalise with the dataset's mean and std. Every intermediate image is kept for display.

`feature_maps` and `grad_cam` walk an `nn.Sequential` (what `cnnlib.spec.build_model` returns)
child by child instead of registering hooks, so a model shared by every session of the app (the
cached pretrained model) is never mutated and concurrent calls cannot see each other's tensors.
Other modules fall back to forward hooks.

`load_pretrained` reads the bundled model (`cnnlib/data/<name>_cnn.pt`, made by
`scripts/train_pretrained.py`): a dict of plain data (spec, state_dict, classes, accuracy, mean,
std) loaded with `torch.load(weights_only=True)`, never a pickled module.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import nn

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
DATA_DIR = Path(__file__).resolve().parent / "data"

# Preprocessing constants (MNIST: digits scaled into a 20x20 box, centred by mass in 28x28).
BOX = 20
SIZE = 28
INK_THRESHOLD = 0.1  # a pixel counts as ink above this (grey levels in [0, 1])
MIN_INK_PIXELS = 4  # fewer ink pixels than this: the canvas counts as empty
DOT_FRACTION = 0.15  # ink box's longer side under this share of the canvas: "just a dot"
FULL_FRACTION = 0.6  # more than this share of the canvas is ink: "covers the canvas"
FLAT_RATIO = 4.0  # ink this many times wider than tall: a flat line, which no digit is

# Layers that count as part of a conv block when reading its (post-activation) feature map.
_BLOCK_FOLLOWERS = (
    nn.BatchNorm2d,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardtanh,
)


class PretrainedError(RuntimeError):
    """The bundled model file is missing, unreadable or does not fit its spec."""


class ImageInputError(ValueError):
    """An uploaded file is not a usable image (not an image, too big, empty)."""


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


def _scalar(value: float | Sequence[float]) -> float:
    """A per-channel statistic as one float (grey models have one channel)."""
    if isinstance(value, (list, tuple, np.ndarray, torch.Tensor)):
        return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])
    return float(value)


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

    m, s = _scalar(mean), _scalar(std)
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
    return torch.from_numpy((small - _scalar(mean)) / _scalar(std)).reshape(1, 1, SIZE, SIZE)


MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_PIXELS = 25_000_000
MIN_UPLOAD_SIDE = 8  # fewer pixels than this on a side cannot hold a readable digit
WORK_SIDE = 560  # uploads are shrunk to at most this side before preprocessing


def _high_depth_to_8bit(img: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and float grey images stretched to 8-bit "L" by their own range.

    Pillow's convert("RGBA") clips such images at 255 (a 16-bit scan turns all white), so they are
    rescaled first; other modes are returned unchanged.
    """
    if img.mode not in ("I", "F") and not img.mode.startswith("I;"):
        return img
    arr = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)  # [H, W]
    lo, hi = float(arr.min()), float(arr.max())
    scaled = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
    return Image.fromarray(scaled.round().astype(np.uint8))  # mode "L"


def _opening(a: np.ndarray, k: int) -> np.ndarray:
    """Grey-level opening of a 2-D array with a k x k square: min filter, then max filter. -> a's shape

    Separable sliding windows (fast in numpy). The input is padded by repeating its edge pixels
    k - 1 deep, so a lighting gradient that runs into the border is kept exactly, up to the edge.
    """
    x = np.pad(a, k - 1, mode="edge")  # [h + 2k - 2, w + 2k - 2]
    for axis in (0, 1):
        x = sliding_window_view(x, k, axis=axis).min(axis=-1)  # -> [h + k - 1, w + k - 1]
    for axis in (0, 1):
        x = sliding_window_view(x, k, axis=axis).max(axis=-1)  # -> [h, w]
    return np.ascontiguousarray(x)


def flatten_paper(grey: np.ndarray, on_paper: bool = False) -> np.ndarray:
    """Remove the paper's slowly varying brightness (shadows, uneven light) from ink-is-bright grey.

    The background is a grey-level opening (min filter, then max filter) with a window a quarter
    of the shorter side, wider than any pen stroke, so it keeps the lighting and drops the ink;
    computed on a copy about 64 px high and enlarged bilinearly. Light ink on dark: the background
    is subtracted, and so are 3 robust standard deviations of the paper's grain (noise stays black). `on_paper=True` (dark ink on light paper, `grey` = 1 - brightness): ink darkens
    the light falling on it by a factor, so each pixel is compared with the local paper
    brightness instead (a flat-field correction), and a shadowed stroke stays as strong as a lit
    one. [H, W] in [0, 1] -> same.
    """
    h, w = grey.shape
    f = min(1.0, 64 / min(h, w))
    sh, sw = max(1, round(h * f)), max(1, round(w * f))
    small = Image.fromarray(np.ascontiguousarray(grey, dtype=np.float32)).resize(
        (sw, sh), Image.Resampling.BOX
    )
    k = 2 * (min(sh, sw) // 8) + 1  # odd window, about a quarter of the shorter side
    if k < 3:
        return grey
    opened = Image.fromarray(_opening(np.asarray(small, dtype=np.float32), k))  # [sh, sw]
    background = np.asarray(opened.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)  # [H, W]
    ink = grey - background  # [H, W]: ink above the paper, plus the paper's grain and sensor noise
    # Grain stays black: take off 3 robust standard deviations of it (the median absolute deviation
    # is the paper's as long as ink covers less than half of the image).
    ink = ink - 3 * 1.4826 * float(np.median(np.abs(ink - np.median(ink))))
    if on_paper:
        ink = ink / np.maximum(1.0 - background, 0.05)  # / the local paper brightness
    return np.clip(ink, 0.0, 1.0)


def read_image(
    data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_UPLOAD_PIXELS
) -> np.ndarray:
    """Decode an uploaded image into a white-ink-on-black grey array [H, W] uint8 for `preprocess_drawing`.

    Dark ink on light paper (the usual photo or scan) is inverted; the paper's brightness,
    shadows included, is subtracted so lighting does not count as ink. 16-bit and float images
    are rescaled, transparency counts as paper, EXIF rotation is applied, an animation gives its
    first frame. Raises ImageInputError with a message for the student: not an image, too many
    bytes or pixels (decompression bombs included), too small, a blank image.
    """
    if not data:
        raise ImageInputError("The file is empty.")
    if len(data) > max_bytes:
        raise ImageInputError(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. Use a smaller image."
        )
    too_big = f"the limit is {max_pixels / 1e6:.0f} megapixels. Crop or shrink it first."
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > max_pixels:
                raise ImageInputError(f"The image is {img.width}×{img.height} pixels, too big; {too_big}")
            if min(img.width, img.height) < MIN_UPLOAD_SIDE:
                raise ImageInputError(
                    f"The image is only {img.width}×{img.height} pixels, too small to show a digit. "
                    "Upload a bigger one: 28×28 pixels or more."
                )
            img.seek(0)  # first frame of an animation
            img.draft(img.mode, (WORK_SIDE, WORK_SIDE))  # JPEG: decode at 1/2 to 1/8 scale (fast)
            img = ImageOps.exif_transpose(img)
            if img.mode.startswith("I;"):
                img = img.convert("I")  # 16-bit grey: a mode Pillow can resize
            img.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.LANCZOS)
            rgba = np.asarray(_high_depth_to_8bit(img).convert("RGBA"))  # [H, W, 4]
    except ImageInputError:
        raise
    except Image.DecompressionBombError as err:
        raise ImageInputError(f"The image has far too many pixels to open safely; {too_big}") from err
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as err:
        raise ImageInputError(
            "That file could not be read as an image: upload a PNG or JPEG of a digit."
        ) from err
    # Transparent pixels become black paper for light-ink images, white paper for dark-ink ones.
    rgb = rgba[:, :, :3].astype(np.float32) / 255.0
    alpha = rgba[:, :, 3:].astype(np.float32) / 255.0
    luma = 0.299 * rgb[:, :, 0] + 0.587 * rgb[:, :, 1] + 0.114 * rgb[:, :, 2]
    border = np.concatenate([luma[0], luma[-1], luma[:, 0], luma[:, -1]])
    alpha_border = np.concatenate([alpha[0, :, 0], alpha[-1, :, 0], alpha[:, 0, 0], alpha[:, -1, 0]])
    if float(alpha_border.mean()) < 0.5:  # transparent background: the opaque strokes are the ink
        opaque = alpha[:, :, 0] > 0.5
        ink_luma = float(np.median(luma[opaque])) if opaque.any() else 1.0
        grey = (luma if ink_luma >= 0.5 else 1.0 - luma) * alpha[:, :, 0]
        grey = flatten_paper(grey)
    elif float(np.median(border)) > 0.5:
        grey = flatten_paper(1.0 - luma, on_paper=True)  # dark ink on light paper
    else:
        grey = flatten_paper(luma)  # light ink on dark: paper ~0 everywhere, shadows or not
    paper = float(np.median(grey))
    peak = float(np.percentile(grey, 99.9))
    if peak - paper < 0.15:
        raise ImageInputError("The image looks blank: no digit stands out from the background.")
    grey = np.clip((grey - paper) / (peak - paper), 0.0, 1.0)
    return (grey * 255).round().astype(np.uint8)  # [H, W]


# ---------------------------------------------------------------- prediction


def _as_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """x as float on the model's device, with a batch dimension."""
    if x.dim() == 3:
        x = x.unsqueeze(0)  # [1, C, H, W]
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    return x.to(device=device, dtype=torch.float32)


def _ensure_eval(model: nn.Module) -> None:
    if model.training:
        model.eval()


def predict(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Class probabilities (softmax of the model's logits): [K] for one input, [N, K] for a batch."""
    _ensure_eval(model)
    batch = _as_input(model, x)  # [N, C, H, W]
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


def _describe(layer: nn.Module) -> str:
    if isinstance(layer, nn.Conv2d):
        kh, kw = layer.kernel_size
        return f"Conv2d {layer.in_channels}→{layer.out_channels}, {kh}×{kw}"
    return type(layer).__name__


def _conv_blocks(model: nn.Sequential) -> list[tuple[int, int, str]]:
    """(conv index, index of the block's last layer, name) for each Conv2d in a Sequential.

    A block is the conv plus the BatchNorm / activation layers right after it; its feature map
    is read after the last of them (after the activation).
    """
    children = list(model.children())
    blocks = []
    for i, layer in enumerate(children):
        if not isinstance(layer, nn.Conv2d):
            continue
        j = i
        while j + 1 < len(children) and isinstance(children[j + 1], _BLOCK_FOLLOWERS):
            j += 1
        name = " → ".join(_describe(children[k]) for k in range(i, j + 1))
        blocks.append((i, j, f"Layer {i}: {name}"))
    return blocks


def _hooked_conv_outputs(
    model: nn.Module, batch: torch.Tensor
) -> tuple[list[tuple[str, torch.Tensor]], torch.Tensor]:
    """Fallback for non-Sequential models: the raw output of every Conv2d via forward hooks."""
    captured: list[tuple[str, torch.Tensor]] = []
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            label = f"{name}: {_describe(module)}"

            def keep(_m: nn.Module, _i: Any, out: torch.Tensor, label: str = label) -> None:
                captured.append((label, out))

            handles.append(module.register_forward_hook(keep))
    try:
        out = model(batch)
    finally:
        for h in handles:
            h.remove()
    return captured, out


def feature_maps(model: nn.Module, x: torch.Tensor) -> list[tuple[str, np.ndarray]]:
    """The feature maps of every conv layer for one input: [(layer_name, array [C, H, W]), ...].

    In an nn.Sequential each map is read after the conv's BatchNorm/activation (what the next
    layer sees); the name lists the layers, e.g. "Layer 0: Conv2d 1→8, 3×3 → ReLU". Other models
    give the raw conv outputs. Sort channels with `channel_order`.
    """
    _ensure_eval(model)
    batch = _as_input(model, x)[:1]  # [1, C, H, W]
    maps: list[tuple[str, np.ndarray]] = []
    with torch.no_grad():
        if isinstance(model, nn.Sequential):
            ends = {j: name for _i, j, name in _conv_blocks(model)}
            h = batch
            for k, layer in enumerate(model.children()):
                h = layer(h)
                if k in ends:
                    maps.append((ends[k], h[0].float().cpu().numpy()))  # [C, H, W]
                if k >= max(ends, default=-1):
                    break
        else:
            captured, _ = _hooked_conv_outputs(model, batch)
            maps = [(name, out[0].float().cpu().numpy()) for name, out in captured]
    return maps


def channel_strength(fmap: np.ndarray) -> np.ndarray:
    """Strength of each channel of a [C, H, W] map: its mean absolute activation. -> [C]"""
    return np.abs(np.asarray(fmap, dtype=np.float64)).mean(axis=(1, 2))


def channel_order(fmap: np.ndarray) -> np.ndarray:
    """Channel indices of a [C, H, W] map, strongest first (ties keep channel order)."""
    return np.argsort(-channel_strength(fmap), kind="stable")


def _cam_from(act: torch.Tensor, grad: torch.Tensor | None, size: tuple[int, int]) -> np.ndarray:
    """Grad-CAM heat map from the target layer's activation and gradient (both [1, C, h, w])."""
    if grad is None:
        return np.zeros(size, dtype=np.float32)
    weights = grad.mean(dim=(2, 3), keepdim=True)  # [1, C, 1, 1]: global-average-pooled gradients
    cam = torch.relu((weights * act).sum(dim=1, keepdim=True))  # [1, 1, h, w]
    cam = F.interpolate(cam, size=size, mode="bilinear", align_corners=False)[0, 0]  # [H, W]
    cam = torch.nan_to_num(cam, nan=0.0, posinf=0.0, neginf=0.0).clamp_min(0.0)
    peak = float(cam.max())
    if not math.isfinite(peak) or peak <= 1e-12:
        return np.zeros(size, dtype=np.float32)
    return (cam / peak).detach().cpu().numpy().astype(np.float32)


def grad_cam(model: nn.Module, x: torch.Tensor, target: int | None = None) -> np.ndarray:
    """Grad-CAM for the last conv layer: where the evidence for `target` (default: the top class) is.

    Weights each channel of the last conv block's output by the mean gradient of the target's
    logit, sums, keeps the positive part, upsamples bilinearly to the input's H x W and scales to
    [0, 1]. No evidence (zero or non-finite gradients) gives all zeros, never NaN. -> [H, W]
    """
    _ensure_eval(model)
    batch = _as_input(model, x)[:1].detach()  # [1, C, H, W]
    size = (batch.shape[2], batch.shape[3])
    with torch.enable_grad():
        if isinstance(model, nn.Sequential):
            blocks = _conv_blocks(model)
            if not blocks:
                raise ValueError("grad_cam needs a model with at least one Conv2d layer")
            last = blocks[-1][1]
            children = list(model.children())
            with torch.no_grad():
                h = batch
                for layer in children[: last + 1]:
                    h = layer(h)
            act = h.detach().float().requires_grad_(True)  # [1, C, h, w]: the leaf we differentiate to
            logits = act
            for layer in children[last + 1 :]:
                logits = layer(logits)
        else:
            convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
            if not convs:
                raise ValueError("grad_cam needs a model with at least one Conv2d layer")
            holder: dict[str, torch.Tensor] = {}

            def swap(_m: nn.Module, _i: Any, out: torch.Tensor) -> torch.Tensor:
                holder["act"] = out.detach().requires_grad_(True)
                return holder["act"]

            handle = convs[-1].register_forward_hook(swap)
            try:
                logits = model(batch)
            finally:
                handle.remove()
            act = holder["act"]
        logits = logits.reshape(1, -1)  # [1, K]
        k = int(logits.argmax(dim=1)) if target is None else int(target)
        if not 0 <= k < logits.shape[1]:
            raise ValueError(f"target class {k} is out of range: the model has {logits.shape[1]} outputs")
        score = logits[0, k]
        grad = None
        if score.requires_grad:
            (grad,) = torch.autograd.grad(score, act, allow_unused=True)
    return _cam_from(act.detach(), grad, size)


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
    n_out = None
    try:
        if isinstance(spec_or_model, nn.Module):
            probe = torch.zeros(1, *want)  # [1, 1, 28, 28]
            was_training = spec_or_model.training
            _ensure_eval(spec_or_model)
            with torch.no_grad():
                n_out = int(spec_or_model(_as_input(spec_or_model, probe)).reshape(1, -1).shape[1])
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


@dataclass
class PretrainedBundle:
    """Everything stored with a bundled model."""

    model: nn.Module
    spec: dict
    classes: list[str]
    test_accuracy: float
    mean: float
    std: float
    info: dict


def pretrained_path(name: str = "mnist") -> Path:
    return DATA_DIR / f"{name}_cnn.pt"


def load_pretrained_bundle(name: str = "mnist", path: Path | str | None = None) -> PretrainedBundle:
    """Load a bundled model (spec + state_dict, read with weights_only=True) on the CPU, in eval mode.

    Raises PretrainedError with a readable message when the file is missing, corrupt or does not
    match its spec.
    """
    file = Path(path) if path is not None else pretrained_path(name)
    script = "python scripts/train_pretrained.py"
    if not file.is_file():
        raise PretrainedError(f"The pretrained model file {file.name} is missing. Create it with `{script}`.")
    try:
        blob = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling/zip error means the same thing here
        raise PretrainedError(
            f"The pretrained model file {file.name} could not be read ({type(err).__name__}); it may be "
            f"corrupt or incomplete. Recreate it with `{script}`."
        ) from err
    needed = {"spec", "state_dict", "classes"}
    if not isinstance(blob, dict) or not needed <= set(blob):
        raise PretrainedError(
            f"The pretrained model file {file.name} lacks {sorted(needed)}. Recreate it with `{script}`."
        )
    from cnnlib.spec import ModelSpec, build_model

    try:
        spec = ModelSpec.from_dict(blob["spec"])
        model = build_model(spec)
        model.load_state_dict(blob["state_dict"], strict=True)
    except Exception as err:  # noqa: BLE001
        raise PretrainedError(
            f"The pretrained model in {file.name} does not match its own spec ({err}). Recreate it with `{script}`."
        ) from err
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)  # shared by every session: nothing may train it
    return PretrainedBundle(
        model=model,
        spec=spec.to_dict(),
        classes=[str(c) for c in blob["classes"]],
        test_accuracy=float(blob.get("test_accuracy", float("nan"))),
        mean=_scalar(blob.get("mean", MNIST_MEAN)),
        std=_scalar(blob.get("std", MNIST_STD)),
        info={k: v for k, v in blob.items() if k not in ("state_dict", "spec")},
    )


def load_pretrained(name: str = "mnist") -> tuple[nn.Module, dict, list[str]]:
    """The bundled pretrained model: (model in eval mode on the CPU, spec dict, class names)."""
    bundle = load_pretrained_bundle(name)
    return bundle.model, bundle.spec, bundle.classes


def model_from_record(record: dict) -> nn.Module:
    """Build a session-trained model from its record {"spec", "state_dict", ...}, on the CPU, eval mode."""
    from cnnlib.spec import ModelSpec, build_model

    spec = record["spec"]
    model = build_model(spec if not isinstance(spec, dict) else ModelSpec.from_dict(spec))
    state = {k: v.detach().to("cpu") for k, v in record["state_dict"].items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    return model
