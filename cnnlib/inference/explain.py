"""Explaining a prediction: each conv layer's feature maps, and Grad-CAM for the last one.

`feature_maps` and `grad_cam` walk an `nn.Sequential` (what `cnnlib.spec.build_model` returns)
child by child instead of registering hooks, so a model shared by every session of the app (the
cached pretrained model) is never mutated and concurrent calls cannot see each other's tensors.
Other models fall back to forward hooks. Both price the pass on the meta device first
(`price_forward`) and refuse, with a ValueError saying what to change, one that would take more
memory than the shared server allows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.inference.model_input import as_input, ensure_eval, price_forward
from cnnlib.spec import Residual

__all__ = ["feature_maps", "channel_order", "grad_cam"]


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


def _describe(layer: nn.Module) -> str:
    if isinstance(layer, nn.Conv2d):
        kh, kw = layer.kernel_size
        return f"Conv2d {layer.in_channels}→{layer.out_channels}, {kh}×{kw}"
    if isinstance(layer, Residual):
        return f"Residual block ({len(layer.body)} layers + skip)"
    return type(layer).__name__


def _conv_blocks(model: nn.Sequential) -> list[tuple[int, int, str]]:
    """(conv index, index of the block's last layer, name) for each Conv2d (or Residual block, whose
    output is a feature map too) in a Sequential.

    A block is the conv plus the BatchNorm / activation layers right after it; its feature map
    is read after the last of them (after the activation).
    """
    children = list(model.children())
    blocks = []
    for i, layer in enumerate(children):
        if not isinstance(layer, (nn.Conv2d, Residual)):
            continue
        j = i
        while j + 1 < len(children) and isinstance(children[j + 1], _BLOCK_FOLLOWERS):
            j += 1
        name = " → ".join(_describe(children[k]) for k in range(i, j + 1))
        blocks.append((i, j, f"Layer {i + 1}: {name}"))  # counted from 1, as on every page
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
    ensure_eval(model)
    batch = as_input(model, x)[:1]  # [1, C, H, W]
    price_forward(model, batch, what="Showing this model's feature maps")  # before anything runs
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
    ensure_eval(model)
    batch = as_input(model, x)[:1].detach()  # [1, C, H, W]
    price_forward(model, batch, backward=True, what="Grad-CAM for this model")  # before anything runs
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
