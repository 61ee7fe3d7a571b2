"""`model.train()` against `model.eval()`: what the two modes change, on the same input, from torch.

Only two kinds of layer behave differently in the two modes:

- **Dropout** (`nn.Dropout`, `nn.Dropout2d`) in train mode zeroes each value (each channel for
  Dropout2d) with probability p and multiplies the others by 1 / (1 - p), so their expected sum is
  unchanged; in eval mode it passes its input through.
- **BatchNorm2d** in train mode normalises each channel with the statistics of this batch (and
  updates its running averages); in eval mode with the running averages it kept from training.

`mode_comparison(model, x, seed)` runs the batch `x` [B, C, H, W] through `model` and, for every
such layer, takes the input that layer received and applies a copy of the layer to it in train mode
and in eval mode (the model itself and its running statistics are left as they were). It also gives
the whole model's logits for the first image in both modes. A model with none of these layers gets
a demonstration instead (`demo=True`): a Dropout(0.5) and a fresh BatchNorm2d applied to the first
convolution's output, to show what they would do.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["ModeLayer", "ModeComparison", "layer_label", "mode_comparison"]


SHOWN_VALUES = 8  # values of one channel of the first image shown side by side
MODE_LAYERS = (nn.Dropout, nn.Dropout2d, nn.BatchNorm2d)


@dataclass
class ModeLayer:
    """One layer's output on the same input, in train mode and in eval mode (first image's values)."""

    name: str  # e.g. "layer 6: Dropout(p=0.5)"
    kind: str  # "dropout" or "batchnorm"
    inputs: np.ndarray  # [SHOWN_VALUES] what the layer received
    train: np.ndarray  # [SHOWN_VALUES] its output in train mode
    eval: np.ndarray  # [SHOWN_VALUES] its output in eval mode
    note: str  # what changed, with the numbers


@dataclass
class ModeComparison:
    layers: list[ModeLayer]
    logits_train: np.ndarray  # [K] the first image's logits in train mode
    logits_eval: np.ndarray  # [K] in eval mode
    demo: bool  # True: the model has no such layer; `layers` show a Dropout and a BatchNorm on conv1's output


def _first_values(t: torch.Tensor) -> np.ndarray:
    """The first image's first channel, its first SHOWN_VALUES values (row-major)."""
    first = t[0]
    first = first[0] if first.dim() == 3 else first  # [H, W] of a [C, H, W] map, or [F] features
    return first.reshape(-1)[:SHOWN_VALUES].detach().double().numpy()


def _describe(layer: nn.Module, inp: torch.Tensor, out_train: torch.Tensor) -> tuple[str, str]:
    if isinstance(layer, (nn.Dropout, nn.Dropout2d)):
        p = float(layer.p)
        zeroed = float((out_train == 0).logical_and(inp != 0).float().mean())
        scale = f"{1 / (1 - p):.4g}" if p < 1 else "-"
        return "dropout", (
            f"Train mode zeroed {zeroed:.0%} of the values (p = {p:g}) and multiplied the rest by "
            f"1 / (1 - p) = {scale}; eval mode passes every value through unchanged."
        )
    bn = layer
    assert isinstance(bn, nn.BatchNorm2d)
    mean = inp.mean(dim=(0, 2, 3))[0]  # this batch's mean of channel 0
    var = inp.var(dim=(0, 2, 3), unbiased=False)[0]
    rm = bn.running_mean[0] if bn.running_mean is not None else torch.tensor(0.0)
    rv = bn.running_var[0] if bn.running_var is not None else torch.tensor(1.0)
    return "batchnorm", (
        f"Train mode normalises channel 0 with this batch's mean {float(mean):.4g} and variance "
        f"{float(var):.4g}; eval mode with the running mean {float(rm):.4g} and variance "
        f"{float(rv):.4g} kept from training."
    )


def _compare(name: str, layer: nn.Module, inp: torch.Tensor, seed: int) -> ModeLayer:
    twin = copy.deepcopy(layer)  # the model's own layer (and its running statistics) stays as it was
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        out_train = twin.train()(inp)  # [B, ...]
        out_eval = copy.deepcopy(layer).eval()(inp)  # a fresh copy: train mode moved the twin's statistics
    kind, note = _describe(layer, inp, out_train)
    return ModeLayer(name, kind, _first_values(inp), _first_values(out_train), _first_values(out_eval), note)


def layer_label(name: str, layer: nn.Module) -> str:
    """ "layers.5" -> "layer 6: Dropout(p=0.5)", numbered from 1 as every page numbers layers."""
    numbers = [str(int(part) + 1) for part in name.split(".") if part.isdigit()]
    kind = type(layer).__name__
    detail = (
        f"p={layer.p:g}"
        if isinstance(layer, (nn.Dropout, nn.Dropout2d))
        else str(getattr(layer, "num_features", ""))
    )
    if "downsample" in name.split("."):  # a Residual block's skip projection: "layer 6, skip: ..."
        return f"layer {numbers[0]}, skip: {kind}({detail})"
    return f"layer {'.'.join(numbers) or name}: {kind}({detail})"


def _inputs_of(model: nn.Module, x: torch.Tensor, wanted: list[nn.Module]) -> dict[int, torch.Tensor]:
    """What each of `wanted` received when `x` went through `model` in eval mode."""
    got: dict[int, torch.Tensor] = {}

    def keep(m: nn.Module, args: tuple, _out: object) -> None:  # returns None: the output stays the layer's
        got.setdefault(id(m), args[0].detach())

    hooks = [m.register_forward_hook(keep) for m in wanted]
    was = model.training
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        model.train(was)
        for h in hooks:
            h.remove()
    return got


def _logits(model: nn.Module, x: torch.Tensor, train: bool, seed: int) -> np.ndarray:
    twin = copy.deepcopy(model)  # train mode would move the model's running statistics
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        out = twin.train(train)(x)  # [B, K]
    return out[0].double().numpy()


def mode_comparison(model: nn.Module, x: torch.Tensor, seed: int = 0) -> ModeComparison:
    """The model's Dropout and BatchNorm2d layers on `x` [B, C, H, W] in train and eval mode (see the module)."""
    if x.dim() != 4 or x.shape[0] < 2:
        raise ValueError("Train and eval mode are compared on a batch of at least 2 images [B, C, H, W].")
    named = [(n, m) for n, m in model.named_modules() if isinstance(m, MODE_LAYERS)]
    demo = not named
    if demo:
        conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
        if conv is None:
            raise ValueError("The model has no Dropout, BatchNorm2d or Conv2d layer to show the modes on.")
        feats = _inputs_of(model, x, [conv])
        with torch.no_grad():
            maps = conv(feats[id(conv)])  # [B, C_out, H', W']
        layers = [
            _compare("Dropout(p=0.5) on conv1's output", nn.Dropout(0.5), maps, seed),
            _compare(
                f"BatchNorm2d({maps.shape[1]}) on conv1's output", nn.BatchNorm2d(maps.shape[1]), maps, seed
            ),
        ]
    else:
        inputs = _inputs_of(model, x, [m for _, m in named])
        layers = [_compare(layer_label(n, m), m, inputs[id(m)], seed) for n, m in named if id(m) in inputs]
    return ModeComparison(layers, _logits(model, x, True, seed), _logits(model, x, False, seed), demo)
