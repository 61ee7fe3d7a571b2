"""What the Draw & predict models are fed: MNIST's statistics, and an input made ready for a model.

Shared by `cnnlib.inference` (preprocessing, prediction), `cnnlib.inference.explain` (feature maps,
Grad-CAM) and `cnnlib.inference.pretrained` (the bundled model's stored mean and std), so none of them has
to import another.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def scalar_stat(value: float | Sequence[float]) -> float:
    """A per-channel statistic as one float (grey models have one channel)."""
    if isinstance(value, (list, tuple, np.ndarray, torch.Tensor)):
        return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])
    return float(value)


def as_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """x as float on the model's device, with a batch dimension: [C, H, W] -> [1, C, H, W]."""
    if x.dim() == 3:
        x = x.unsqueeze(0)  # [1, C, H, W]
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    return x.to(device=device, dtype=torch.float32)


def ensure_eval(model: nn.Module) -> None:
    """Put a model in eval mode (dropout off, BatchNorm's running statistics) if it is not yet."""
    if model.training:
        model.eval()
