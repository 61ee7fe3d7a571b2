"""Data augmentation for training: one random transform per image, vectorised over the batch.

augment_batch applies "rotate", "shift", "flip" and "color" (the same maps as torchvision's v2
functional transforms, tested against them) to a float batch on any device, drawing its random
numbers on the CPU from a seeded generator; augment_preview shows a few training images before
and after, for the Training page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.data import DatasetBundle
from cnnlib.training.config import AUGMENTATIONS, ConfigError

__all__ = ["augment_batch", "augment_preview"]


# Augmentation strengths (what the Training page's help text describes).
ROTATE_DEGREES = 15.0
SHIFT_FRACTION = 0.1
COLOR_STRENGTH = 0.3  # brightness, contrast and saturation factors in [0.7, 1.3]


def augment_batch(
    x: torch.Tensor, augment: Sequence[str], generator: torch.Generator | None = None
) -> torch.Tensor:
    """Randomly transform each image of a float batch `[B, C, H, W]` in [0, 1] (its own parameters each).

    - "rotate": rotation by up to +-15 degrees about the centre, "shift": translation by up to
      10% of the width/height, both bilinear with black (0) fill: the same maps as
      `torchvision.transforms.v2.functional.affine(img, angle, translate, 1.0, [0, 0], BILINEAR)`
      per image (tested against it), done as one `affine_grid` + `grid_sample` for the batch.
    - "flip": horizontal flip with probability 0.5 (`v2.functional.horizontal_flip`).
    - "color": brightness, contrast (and saturation for colour images) factors in [0.7, 1.3], as
      `v2.functional.adjust_brightness/_contrast/_saturation`.
    Random numbers are drawn on the CPU from `generator`, so a seed gives the same batch anywhere.
    """
    if not augment:
        return x
    b, c, h, w = x.shape
    dev = x.device

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator).to(dev)

    if "rotate" in augment or "shift" in augment:
        angle = (rand(b) * 2 - 1) * ROTATE_DEGREES if "rotate" in augment else torch.zeros(b, device=dev)
        if "shift" in augment:
            tx = torch.round((rand(b) * 2 - 1) * SHIFT_FRACTION * w)  # pixels, whole as torchvision's
            ty = torch.round((rand(b) * 2 - 1) * SHIFT_FRACTION * h)
        else:
            tx = ty = torch.zeros(b, device=dev)
        x = affine_batch(x, angle, tx, ty)
    if "flip" in augment:
        flip = rand(b) < 0.5  # [B]
        x = torch.where(flip.view(b, 1, 1, 1), x.flip(-1), x)
    if "color" in augment:
        lo, hi = 1 - COLOR_STRENGTH, 1 + COLOR_STRENGTH
        bright = lo + (hi - lo) * rand(b, 1, 1, 1)
        x = (x * bright).clamp(0, 1)
        contrast = lo + (hi - lo) * rand(b, 1, 1, 1)
        mean = _grayscale(x).mean(dim=(1, 2, 3), keepdim=True)  # [B, 1, 1, 1]
        x = (contrast * x + (1 - contrast) * mean).clamp(0, 1)
        if c == 3:
            sat = lo + (hi - lo) * rand(b, 1, 1, 1)
            x = (sat * x + (1 - sat) * _grayscale(x)).clamp(0, 1)
    return x


def _grayscale(x: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] -> [B, 1, H, W] with torchvision's weights (0.2989, 0.587, 0.114) for RGB."""
    if x.shape[1] == 1:
        return x
    r, g, b = x.unbind(dim=1)
    return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(1)


def affine_batch(
    x: torch.Tensor, angle_deg: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor
) -> torch.Tensor:
    """Rotate each image by angle_deg[i] (counter-clockwise) about its centre, then shift by (tx, ty) pixels."""
    b, _, h, w = x.shape
    a = angle_deg * (math.pi / 180.0)
    cos, sin = torch.cos(a), torch.sin(a)
    # Inverse map in pixel units about the centre (y pointing down): in = R(-angle) (out - t), where a
    # counter-clockwise turn on screen is R(-angle) = [[cos, sin], [-sin, cos]] in these coordinates.
    # theta maps normalised output coords (align_corners=False: x_n = x / (w / 2)) to input coords.
    theta = torch.zeros(b, 2, 3, device=x.device, dtype=x.dtype)  # [B, 2, 3]
    theta[:, 0, 0] = cos
    theta[:, 0, 1] = sin * h / w
    theta[:, 1, 0] = -sin * w / h
    theta[:, 1, 1] = cos
    theta[:, 0, 2] = -(cos * tx + sin * ty) * 2 / w
    theta[:, 1, 2] = -(-sin * tx + cos * ty) * 2 / h
    grid = F.affine_grid(theta, [b, x.shape[1], h, w], align_corners=False)  # [B, H, W, 2]
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class AugmentPreview(NamedTuple):
    """Images for the page, uint8 `[n, H, W, C]` (C = 1 or 3), and their class names."""

    original: np.ndarray
    augmented: np.ndarray
    labels: list[str]


def augment_preview(
    bundle: DatasetBundle, augment: Sequence[str], n: int = 8, seed: int = 0, copies: int = 1
) -> AugmentPreview:
    """`n` training images and `copies` augmented versions of each (augmented: [n * copies, H, W, C])."""
    bad = [a for a in augment if a not in AUGMENTATIONS]
    if bad:
        raise ConfigError(
            f"Unknown augmentation {bad[0]!r}: choose from {', '.join(AUGMENTATIONS)}.", "augment"
        )
    g = torch.Generator().manual_seed(int(seed))
    count = max(1, min(int(n), len(bundle.train)))
    idx = torch.randperm(len(bundle.train), generator=g)[:count]
    images = bundle.train_images[idx]  # [n, C, H, W] uint8
    x = images.float().div(255).repeat_interleave(max(1, int(copies)), dim=0)  # [n * copies, C, H, W]
    out = augment_batch(x, tuple(augment), g)
    augmented = (out * 255).round().clamp(0, 255).to(torch.uint8)
    return AugmentPreview(
        images.permute(0, 2, 3, 1).numpy(),  # [n, H, W, C]
        augmented.permute(0, 2, 3, 1).numpy(),
        [bundle.classes[int(i)] for i in bundle.train_labels[idx]],
    )
