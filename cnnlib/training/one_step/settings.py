"""What a slow-motion step is set up with: the five steps' names, the optimizer, the watched weight.

`STEPS`, `STEP_TITLES` and `STEP_CODE` name the five steps of a training iteration; `StepError` is
what every part of the slow motion raises, with a message a student can act on.
`OptimizerSettings` checks and builds the torch optimizer; `WeightRef` is the one scalar weight
whose value, gradient and update the page follows, chosen with `default_weight` or
`weight_from_flat` and named with `parameter_labels` / `weight_title`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "STEPS",
    "STEP_TITLES",
    "STEP_CODE",
    "StepError",
    "OptimizerSettings",
    "WeightRef",
    "trainable_parameters",
    "default_weight",
    "weight_from_flat",
    "parameter_labels",
    "weight_title",
]


STEPS: tuple[str, ...] = ("zero_grad", "forward", "loss", "backward", "step")
STEP_TITLES: dict[str, str] = {
    "zero_grad": "1 · Zero the gradients",
    "forward": "2 · Forward pass",
    "loss": "3 · Loss",
    "backward": "4 · Backward pass",
    "step": "5 · Optimizer step",
}
STEP_CODE: dict[str, str] = {
    "zero_grad": "optimizer.zero_grad()",
    "forward": "logits = model(x)",
    "loss": "loss = criterion(logits, y)",
    "backward": "loss.backward()",
    "step": "optimizer.step()",
}
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "adamw")


class StepError(ValueError):
    """A step that cannot run (out of order, bad batch, bad settings), with a student-readable message."""


@dataclass(frozen=True)
class OptimizerSettings:
    """The optimizer's hyperparameters. name: "sgd", "adam" or "adamw"."""

    name: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def validate(self) -> None:
        """Raise StepError with a clear message for a setting torch would refuse (or misuse)."""
        if self.name not in OPTIMIZERS:
            raise StepError(f"Unknown optimizer {self.name!r}: choose one of {', '.join(OPTIMIZERS)}.")
        if not math.isfinite(self.lr) or self.lr < 0:
            raise StepError(f"The learning rate must be a number ≥ 0 (got {self.lr}).")
        if not math.isfinite(self.weight_decay) or self.weight_decay < 0:
            raise StepError(f"Weight decay must be a number ≥ 0 (got {self.weight_decay}).")
        if self.name == "sgd":
            if not math.isfinite(self.momentum) or not 0 <= self.momentum < 1:
                raise StepError(f"Momentum must be in [0, 1) (got {self.momentum}).")
            if self.nesterov and self.momentum == 0:
                raise StepError("Nesterov momentum needs a momentum above 0.")
        else:
            b1, b2 = self.betas
            if not (0 <= b1 < 1 and 0 <= b2 < 1):
                raise StepError(f"Adam's betas must both be in [0, 1) (got {self.betas}).")
            if not self.eps > 0:
                raise StepError(f"Adam's epsilon must be above 0 (got {self.eps}).")

    def build(self, params: Sequence[nn.Parameter]) -> torch.optim.Optimizer:
        """A fresh torch optimizer over `params` with these settings (single-tensor implementation)."""
        self.validate()
        if self.name == "sgd":
            return torch.optim.SGD(
                params,
                lr=self.lr,
                momentum=self.momentum,
                weight_decay=self.weight_decay,
                nesterov=self.nesterov,
                foreach=False,
            )
        cls = torch.optim.Adam if self.name == "adam" else torch.optim.AdamW
        return cls(
            params, lr=self.lr, betas=self.betas, eps=self.eps, weight_decay=self.weight_decay, foreach=False
        )


@dataclass(frozen=True)
class WeightRef:
    """One scalar weight of the model: a parameter's name and an index into it."""

    name: str
    index: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.name}[{', '.join(str(i) for i in self.index)}]"


def trainable_parameters(model: nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of every parameter that requires grad, in the model's order."""
    return [(n, tuple(p.shape)) for n, p in model.named_parameters() if p.requires_grad]


def default_weight(model: nn.Module) -> WeightRef:
    """The first conv kernel's first weight, [0, 0, 0, 0]; without a conv, the first trainable weight."""
    params = trainable_parameters(model)
    if not params:
        raise StepError(
            "This model has no parameters that require a gradient, so there is nothing to train: "
            "every weight is frozen (requires_grad=False) or the model has no weights at all."
        )
    for name, shape in params:
        if len(shape) == 4:
            return WeightRef(name, (0, 0, 0, 0))
    name, shape = params[0]
    return WeightRef(name, tuple(0 for _ in shape))


def weight_from_flat(name: str, shape: Sequence[int], flat: int) -> WeightRef:
    """The weight at position `flat` of a parameter shaped `shape` counted in row-major order."""
    numel = math.prod(shape)
    if not 0 <= int(flat) < numel:
        raise StepError(f"{name} has {numel} weights: pick a position from 0 to {numel - 1}.")
    index = []
    rest = int(flat)
    for size in reversed(shape):
        rest, i = divmod(rest, size)
        index.append(i)
    return WeightRef(name, tuple(reversed(index)))


def parameter_labels(model: nn.Module) -> dict[str, str]:
    """Friendly names for trainable parameters: "conv1.weight · layer 0 · [4, 1, 3, 3]"."""
    counts: dict[str, int] = {}
    short = {"Conv2d": "conv", "Linear": "fc", "BatchNorm2d": "bn", "ConvTranspose2d": "deconv"}
    module_names: dict[str, str] = {}
    for mod_name, mod in model.named_modules():
        kind = short.get(type(mod).__name__)
        if kind and mod_name:
            counts[kind] = counts.get(kind, 0) + 1
            module_names[mod_name] = f"{kind}{counts[kind]}"
    labels = {}
    for name, shape in trainable_parameters(model):
        mod_name, _, attr = name.rpartition(".")
        nice = module_names.get(mod_name, mod_name or "model")
        where = f" · layer {mod_name}" if mod_name.isdigit() else ""
        labels[name] = f"{nice}.{attr}{where} · {list(shape)}"
    return labels


def weight_title(model: nn.Module, ref: WeightRef) -> str:
    """A weight with its friendly layer name, e.g. "conv1.weight[0, 0, 0, 0]"."""
    nice = parameter_labels(model).get(ref.name, ref.name).split(" · ")[0]
    return f"{nice}[{', '.join(str(i) for i in ref.index)}]"
