"""Shared pieces of the invariance tests: a preprocessed drawing of a 7 and a small student model."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn

from cnnlib import inference as inf


def drawing28() -> torch.Tensor:
    """A 7 drawn on a 280 px canvas, preprocessed like the page does: grey levels [28, 28] in [0, 1]."""
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(img).line(
        [(60, 50), (200, 50), (110, 230)], fill=(255, 255, 255, 255), width=20, joint="curve"
    )
    pre = inf.preprocess_drawing(np.asarray(img).copy())
    return torch.from_numpy(pre.steps[-1][1].copy())  # [28, 28]


def small_model(dropout: bool = False) -> nn.Module:
    """A small CNN as a student might train (batch norm, optional dropout), random weights."""
    torch.manual_seed(0)
    layers: list[nn.Module] = [
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
    ]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers.append(nn.Linear(4 * 14 * 14, 10))
    return nn.Sequential(*layers).eval()
