"""What the Draw & predict models are fed: MNIST's statistics, and an input made ready for a model.

Shared by `cnnlib.inference` (preprocessing, prediction), `cnnlib.inference.explain` (feature maps,
Grad-CAM) and `cnnlib.inference.pretrained` (the bundled model's stored mean and std), so none of them has
to import another. `price_forward` is the memory check every one of them makes before a model runs
in the web server (priced on the meta device by `cnnlib.spec.check_memory`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__: list[str] = []


MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def scalar_stat(value: float | Sequence[float]) -> float:
    """A per-channel statistic as one float (grey models have one channel)."""
    if isinstance(value, (int, float)):
        return float(value)
    return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])


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


def price_forward(model: nn.Module, batch: torch.Tensor, *, backward: bool = False, what: str) -> None:
    """Refuse (MemoryBudgetError, a ValueError) a pass of `model` on `batch` [N, C, H, W] that would
    take more than `cnnlib.spec.MAX_SERVER_WORK_BYTES`, priced on the meta device before it runs.

    A model the meta device cannot run (shapes that do not fit) is left to the real call, which
    says why in PyTorch's words, as before. The price is cached per model and input shape.
    """
    from cnnlib.spec import MemoryBudgetError, SpecError, check_memory

    try:
        check_memory(
            model, int(batch.shape[0]), training=backward, input_shape=tuple(batch.shape[1:]), what=what
        )
    except MemoryBudgetError:
        raise
    except SpecError:
        pass
