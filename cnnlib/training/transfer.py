"""Transfer learning: start from the bundled digit model's convolutional layers, with a new head.

    model, spec = transfer_model(load_pretrained_bundle(), num_classes=4, freeze=True, seed=0)
    data = as_pretrained_input(load_dataset("shapes"), pretrained)   # 3x32x32 colour -> 1x28x28 grey

The new model has the pretrained model's layers; every layer but the last `Linear` (the head) starts
from the pretrained weights, and the head is new (its output is the new dataset's classes, its
weights initialised from the seed, as any new layer). With `freeze=True` the copied layers do not
train (`requires_grad=False`: the optimizer never sees them, their weights stay bit for bit); only
the head learns (batch norm's running statistics are buffers, not weights: in train mode they
still follow the new data). `parameter_split` counts the trainable and the frozen parameters apart.

Another input shape is adapted to the pretrained model's (1x28x28): colour becomes grey with
torchvision's weights (0.2989 R + 0.587 G + 0.114 B), and the size is resized with area averaging
(`F.interpolate(mode="area")`, antialiased shrinking); the images are normalised with the
pretrained model's mean and std, the statistics its features were learned on.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.data import DatasetBundle, ImageTensorDataset
from cnnlib.spec import ModelSpec, build_model

__all__ = ["as_pretrained_input", "parameter_split", "transfer_model", "transfer_spec"]


def transfer_spec(pretrained_spec: dict[str, Any] | ModelSpec, num_classes: int) -> ModelSpec:
    """The pretrained spec with its last Linear layer giving `num_classes` outputs (the new head)."""
    d = copy.deepcopy(
        pretrained_spec.to_dict() if isinstance(pretrained_spec, ModelSpec) else pretrained_spec
    )
    heads = [i for i, layer in enumerate(d["layers"]) if layer.get("type") == "Linear"]
    if not heads:
        raise ValueError("The pretrained model has no Linear layer to replace with a new head.")
    if not 2 <= int(num_classes) <= 1000:
        raise ValueError(f"A new head needs 2 to 1,000 classes, got {num_classes}.")
    d["layers"][heads[-1]]["out_features"] = int(num_classes)
    return ModelSpec.from_dict(d)


def transfer_model(
    pretrained: Any, num_classes: int, freeze: bool, seed: int = 0
) -> tuple[nn.Module, ModelSpec]:
    """(model, spec): `pretrained` (a PretrainedBundle: `.spec`, `.model`) with a new head (see the module)."""
    spec = transfer_spec(pretrained.spec, num_classes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(spec)
    source = pretrained.model.state_dict()
    head = _head_prefix(model)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not name.startswith(head) and name in source and source[name].shape == tensor.shape:
                tensor.copy_(source[name])
    for name, p in model.named_parameters():
        p.requires_grad_(not freeze or name.startswith(head))
    return model, spec


def _head_prefix(model: nn.Module) -> str:
    """The state_dict prefix of the model's last Linear layer, e.g. "7."."""
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    return names[-1] + "."


def parameter_split(model: nn.Module) -> tuple[int, int]:
    """(trainable, frozen) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters()) - trainable


def _to_shape(images: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """uint8 [N, C, H, W] -> uint8 [N, c, h, w]: grey when c == 1 (from RGB), area-resized."""
    c, h, w = shape
    x = images.float()  # [N, C, H, W] 0..255
    if c == 1 and x.shape[1] == 3:
        x = (0.2989 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)  # [N, 1, H, W]
    elif x.shape[1] != c:
        raise ValueError(f"Cannot turn {x.shape[1]}-channel images into {c}-channel ones.")
    if tuple(x.shape[-2:]) != (h, w):
        x = F.interpolate(x, size=(h, w), mode="area")  # [N, c, h, w]
    return x.round().clamp(0, 255).to(torch.uint8)


def as_pretrained_input(
    bundle: DatasetBundle, pretrained: Any, shape: tuple[int, int, int] = (1, 28, 28)
) -> DatasetBundle:
    """`bundle` as the pretrained model's input: `shape`, grey, normalised with its mean and std."""
    same = tuple(bundle.input_shape) == tuple(shape)
    train = bundle.train_images if same else _to_shape(bundle.train_images, shape)  # [N, 1, 28, 28]
    test = bundle.test_images if same else _to_shape(bundle.test_images, shape)
    note = (
        ""
        if same
        else f"{bundle.input_shape[0]}x{bundle.input_shape[1]}x{bundle.input_shape[2]} images made grey and 28x28 for the digit model"
    )
    return dataclasses.replace(
        bundle,
        name=bundle.name if same else f"{bundle.name}-as-digits",
        train=ImageTensorDataset(train, bundle.train_labels),
        test=ImageTensorDataset(test, bundle.test_labels),
        input_shape=(int(shape[0]), int(shape[1]), int(shape[2])),
        mean=(float(pretrained.mean),),
        std=(float(pretrained.std),),
        title=(bundle.title or bundle.name) + ("" if same else " (grey, 28x28)"),
        notes=[*bundle.notes, *([note] if note else [])],
    )
