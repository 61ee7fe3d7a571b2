"""Is the network invariant to where the digit sits? Shift, rotate and scale a preprocessed drawing.

A CNN's convolutions are equivariant to shifts, but its pooling, its flattening and its training
data (MNIST digits are always centred) make the answer change when the digit moves, turns or grows.
These functions move the student's own 28x28 drawing and ask the model again:

    transform_drawing(img, shift, angle, scale)  the drawing moved: an affine warp (torch's
                                                  affine_grid + grid_sample, bilinear, black fill)
    predict_moved(model, img, ...)                the moved drawing and the model's probabilities
    sweep(model, img, kind, values, ...)          each class's probability across one slider's
                                                  range, in ONE forward pass of a small batch
    sweep_values(kind)                            that slider's values (21 shifts, 19 angles, 11 scales)
    fgsm_nudge(model, img, epsilon, ...)          the fast gradient sign method: every pixel nudged by
                                                  epsilon against the top class, before/after probabilities

Images are grey levels in [0, 1] (white ink on black: 0 is the background, so the warp fills with
0); the model's normalisation `(x - mean) / std` is applied after the warp. Geometry: `shift=(dx,
dy)` moves the ink dx pixels right and dy pixels down, `angle` turns it counterclockwise (degrees,
as on screen), `scale` grows it about the image's centre; an integer shift equals `torch.roll` with
zero fill, a 90-degree turn equals `torch.rot90`. Every value is bounded (SHIFT_LIMIT, ANGLE_LIMIT,
SCALE_RANGE, EPSILON_LIMIT) and a sweep is at most MAX_SWEEP images: a ValueError says which is out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.inference.model_input import (
    MNIST_MEAN,
    MNIST_STD,
    as_input,
    ensure_eval,
    price_forward,
    scalar_stat,
)

__all__ = [
    "SWEEP_KINDS",
    "SHIFT_LIMIT",
    "ANGLE_LIMIT",
    "SCALE_RANGE",
    "EPSILON_LIMIT",
    "MAX_SWEEP",
    "Nudge",
    "transform_drawing",
    "predict_moved",
    "sweep_values",
    "sweep",
    "fgsm_nudge",
]

SHIFT_LIMIT = 10  # pixels, either way, along x and y
ANGLE_LIMIT = 45.0  # degrees, either way
SCALE_RANGE = (0.5, 1.5)
EPSILON_LIMIT = 0.5  # FGSM's step, in grey levels (the image spans 0..1)
MAX_SWEEP = 21  # images in one sweep's batch: the work a slider's chart may ask of the server
SIZE = 28

SWEEP_KINDS: dict[str, str] = {
    "shift_x": "Shift right (px)",
    "shift_y": "Shift down (px)",
    "angle": "Rotation (degrees, counterclockwise)",
    "scale": "Scale (times the size)",  # no ×: the charts' bundled font has none
}
"""The sliders a sweep runs along, with the words a chart's axis uses."""


def _finite(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return v


def _check_pose(shift: Sequence[float], angle: float, scale: float) -> tuple[float, float, float, float]:
    """(dx, dy, angle, scale) as floats, or a ValueError naming the value outside its bounds."""
    if len(shift) != 2:
        raise ValueError(f"shift must be (dx, dy), got {shift!r}")
    dx, dy = _finite("shift x", shift[0]), _finite("shift y", shift[1])
    a, s = _finite("angle", angle), _finite("scale", scale)
    for name, v in (("shift x", dx), ("shift y", dy)):
        if abs(v) > SHIFT_LIMIT:
            raise ValueError(f"{name} must be between -{SHIFT_LIMIT} and {SHIFT_LIMIT} pixels, got {v:g}")
    if abs(a) > ANGLE_LIMIT:
        raise ValueError(f"angle must be between -{ANGLE_LIMIT:g} and {ANGLE_LIMIT:g} degrees, got {a:g}")
    lo, hi = SCALE_RANGE
    if not lo <= s <= hi:
        raise ValueError(f"scale must be between {lo:g} and {hi:g}, got {s:g}")
    return dx, dy, a, s


def _as_images(img: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, tuple[int, ...]]:
    """A drawing [28, 28] or [1, 28, 28] (or [1, 1, 28, 28]) as float [1, 1, 28, 28], and its shape."""
    x = torch.as_tensor(np.asarray(img) if isinstance(img, np.ndarray) else img)
    shape = tuple(x.shape)
    if shape not in ((SIZE, SIZE), (1, SIZE, SIZE), (1, 1, SIZE, SIZE)):
        raise ValueError(f"expected a drawing of shape [28, 28] or [1, 28, 28], got {list(shape)}")
    x = x.detach().to(torch.float32).reshape(1, 1, SIZE, SIZE)  # [1, 1, 28, 28]
    if not bool(torch.isfinite(x).all()):
        raise ValueError("the drawing holds a value that is not a finite number")
    return x, shape


def _theta(poses: Sequence[tuple[float, float, float, float]]) -> torch.Tensor:
    """affine_grid's matrices [N, 2, 3] (output coordinates -> input coordinates, normalised to
    [-1, 1] with align_corners=False) for poses (dx, dy, angle, scale) on a square 28x28 image.

    Forward, in image coordinates (x right, y down, origin at the centre): p' = s R p + t with R a
    counterclockwise turn on screen, [[cos, sin], [-sin, cos]], t = (2 dx / 28, 2 dy / 28).
    affine_grid wants the inverse: p = R^-1 (p' - t) / s.
    """
    rows = []
    for dx, dy, a, s in poses:
        c, n = math.cos(math.radians(a)), math.sin(math.radians(a))
        inv = [[c / s, -n / s], [n / s, c / s]]  # (s R)^-1
        tx, ty = 2.0 * dx / SIZE, 2.0 * dy / SIZE
        rows.append(
            [
                [inv[0][0], inv[0][1], -(inv[0][0] * tx + inv[0][1] * ty)],
                [inv[1][0], inv[1][1], -(inv[1][0] * tx + inv[1][1] * ty)],
            ]
        )
    return torch.tensor(rows, dtype=torch.float64)  # [N, 2, 3]


def _warp(x: torch.Tensor, poses: Sequence[tuple[float, float, float, float]]) -> torch.Tensor:
    """One drawing [1, 1, 28, 28] under each pose: [N, 1, 28, 28], bilinear, black (0) outside."""
    theta = _theta(poses)  # [N, 2, 3], float64: an integer shift lands on pixel centres exactly
    grid = F.affine_grid(theta, [len(poses), 1, SIZE, SIZE], align_corners=False)  # [N, 28, 28, 2]
    batch = x.to(torch.float64).expand(len(poses), 1, SIZE, SIZE)  # [N, 1, 28, 28]
    out = F.grid_sample(batch, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.to(torch.float32)  # [N, 1, 28, 28]


def transform_drawing(
    img: torch.Tensor | np.ndarray,
    shift: Sequence[float] = (0, 0),
    angle: float = 0.0,
    scale: float = 1.0,
) -> torch.Tensor:
    """The drawing (grey levels, 0 = background) shifted by (dx, dy) px, turned `angle` degrees
    counterclockwise and scaled by `scale` about its centre: same shape as given ([28, 28] or
    [1, 28, 28]). Values outside the bounds raise a ValueError."""
    pose = _check_pose(shift, angle, scale)
    x, shape = _as_images(img)  # [1, 1, 28, 28]
    return _warp(x, [pose]).reshape(shape)


def predict_moved(
    model: nn.Module,
    img: torch.Tensor | np.ndarray,
    shift: Sequence[float] = (0, 0),
    angle: float = 0.0,
    scale: float = 1.0,
    *,
    mean: float | Sequence[float] = MNIST_MEAN,
    std: float | Sequence[float] = MNIST_STD,
) -> tuple[np.ndarray, np.ndarray]:
    """The drawing moved (`transform_drawing`) as grey levels [28, 28], and the model's class
    probabilities for it [K] (normalised with `mean` and `std` first)."""
    pose = _check_pose(shift, angle, scale)
    x, _ = _as_images(img)  # [1, 1, 28, 28]
    moved = _warp(x, [pose])  # [1, 1, 28, 28]
    probs = _forward(model, _normalised(moved, mean, std), "A prediction with this model")[0]  # [K]
    return moved[0, 0].numpy(), probs


def _forward(model: nn.Module, batch: torch.Tensor, what: str) -> np.ndarray:
    """Softmax of the model's logits for a batch [N, 1, 28, 28] -> [N, K], priced before it runs."""
    ensure_eval(model)
    batch = as_input(model, batch)
    price_forward(model, batch, what=what)
    with torch.no_grad():
        return torch.softmax(model(batch).float(), dim=1).cpu().numpy()  # [N, K]


def sweep_values(kind: str) -> list[float]:
    """The values a sweep along `kind` takes: every pixel of shift (21), every 5 degrees (19),
    every 0.1 of scale (11)."""
    if kind in ("shift_x", "shift_y"):
        return [float(v) for v in range(-SHIFT_LIMIT, SHIFT_LIMIT + 1)]
    if kind == "angle":
        return [float(v) for v in range(-45, 46, 5)]
    if kind == "scale":
        return [round(0.5 + 0.1 * i, 1) for i in range(11)]
    raise ValueError(f"unknown sweep {kind!r}: choose one of {', '.join(SWEEP_KINDS)}")


def _normalised(
    images: torch.Tensor, mean: float | Sequence[float], std: float | Sequence[float]
) -> torch.Tensor:
    m, s = scalar_stat(mean), scalar_stat(std)
    if not s > 0:
        raise ValueError(f"std must be positive, got {s:g}")
    return (images - m) / s  # [N, 1, 28, 28]


def sweep(
    model: nn.Module,
    img: torch.Tensor | np.ndarray,
    kind: str,
    values: Sequence[float] | None = None,
    *,
    shift: Sequence[float] = (0, 0),
    angle: float = 0.0,
    scale: float = 1.0,
    mean: float | Sequence[float] = MNIST_MEAN,
    std: float | Sequence[float] = MNIST_STD,
) -> np.ndarray:
    """Each class's probability as one slider (`kind`: shift_x, shift_y, angle or scale) runs over
    `values` (default `sweep_values(kind)`), the other sliders held at `shift`, `angle`, `scale`:
    [len(values), classes], from ONE forward pass of a batch of at most MAX_SWEEP images."""
    if kind not in SWEEP_KINDS:
        raise ValueError(f"unknown sweep {kind!r}: choose one of {', '.join(SWEEP_KINDS)}")
    vals = sweep_values(kind) if values is None else list(values)
    if not 1 <= len(vals) <= MAX_SWEEP:
        raise ValueError(f"a sweep takes 1 to {MAX_SWEEP} values, got {len(vals)}")
    dx, dy, a, s = _check_pose(shift, angle, scale)  # where the other sliders stand
    poses = []
    for v in vals:
        if kind == "shift_x":
            poses.append(_check_pose((v, dy), a, s))
        elif kind == "shift_y":
            poses.append(_check_pose((dx, v), a, s))
        elif kind == "angle":
            poses.append(_check_pose((dx, dy), v, s))
        else:
            poses.append(_check_pose((dx, dy), a, v))
    x, _ = _as_images(img)  # [1, 1, 28, 28]
    batch = _normalised(_warp(x, poses), mean, std)  # [N, 1, 28, 28]
    return _forward(model, batch, "A sweep with this model")  # [N, K]


@dataclass
class Nudge:
    """The fast gradient sign method's result: the nudged drawing [28, 28] in [0, 1], the
    probabilities before and after [K], the class it pushed against, and epsilon."""

    image: np.ndarray
    before: np.ndarray
    after: np.ndarray
    target: int
    epsilon: float


def fgsm_nudge(
    model: nn.Module,
    img: torch.Tensor | np.ndarray,
    epsilon: float,
    *,
    mean: float | Sequence[float] = MNIST_MEAN,
    std: float | Sequence[float] = MNIST_STD,
) -> Nudge:
    """FGSM (Goodfellow et al. 2015): x' = clip(x + epsilon * sign(d loss / d x), 0, 1), the loss
    being the cross-entropy of the model's top class for x; every pixel moves by at most epsilon
    grey levels (0 <= epsilon <= EPSILON_LIMIT). One forward and backward pass, then one forward."""
    eps = _finite("epsilon", epsilon)
    if not 0.0 <= eps <= EPSILON_LIMIT:
        raise ValueError(f"epsilon must be between 0 and {EPSILON_LIMIT:g}, got {eps:g}")
    x, _ = _as_images(img)  # [1, 1, 28, 28]
    ensure_eval(model)
    x = as_input(model, x).clone().requires_grad_(True)
    price_forward(model, x, backward=True, what="An adversarial nudge with this model")
    logits = model(_normalised(x, mean, std)).float()  # [1, K]
    target = int(logits.argmax(dim=1))
    loss = F.cross_entropy(logits, torch.tensor([target], device=logits.device))
    (grad,) = torch.autograd.grad(loss, x)  # [1, 1, 28, 28]
    nudged = (x.detach() + eps * grad.sign()).clamp(0.0, 1.0)  # [1, 1, 28, 28]
    with torch.no_grad():
        before = torch.softmax(logits.detach(), dim=1)[0]  # [K]
        after = torch.softmax(model(_normalised(nudged, mean, std)).float(), dim=1)[0]  # [K]
    return Nudge(nudged[0, 0].cpu().numpy(), before.cpu().numpy(), after.cpu().numpy(), target, eps)
