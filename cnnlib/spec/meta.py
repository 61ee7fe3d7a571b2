"""One layer run on the meta device: its torch arguments, output shape, counts, MACs, receptive field.

`run_layer` checks a layer against what arrives (`cnnlib.spec.rules`), builds the real torch layer
on the meta device (no memory, no arithmetic) and runs it, so its output shape is PyTorch's own,
then counts its parameters and multiply-adds and follows the receptive field. `cnnlib.spec.analysis`
calls it for every layer of a model and `cnnlib.spec.residual` for every layer inside a block.
`LayerSummary` is one row of the summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from cnnlib.shapes import receptive_field_step
from cnnlib.spec.fields import SHAPE_KEEPING, SpecError, as_pair, fmt_shape
from cnnlib.spec.model import LayerSpec
from cnnlib.spec.rules import layer_error

__all__ = ["LayerSummary"]


@dataclass(frozen=True)
class LayerSummary:
    """One row of the summary. output_shape is (C, H, W) for feature maps, (F,) for vectors.

    receptive_field / jump: int when square, else (h, w); jump is None once a Linear layer has
    mixed every position (its receptive field is then the whole input). A block (Residual) also
    has `inner` (one row per inner layer, numbered within the block) and `skip` (what its skip
    connection does: "identity" or the 1x1 projection); its params and MACs include the skip's.
    """

    index: int
    type: str
    label: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    trainable_params: int
    macs: int
    receptive_field: int | tuple[int, int]
    jump: int | tuple[int, int] | None
    state_bytes: int  # parameters + buffers (BatchNorm running statistics), bytes
    inner: tuple[LayerSummary, ...] = ()
    skip: str | None = None
    skip_numel: int = 0  # values the skip's projection outputs (0 for the identity)

    @property
    def output_numel(self) -> int:
        return math.prod(self.output_shape)

    @property
    def activation_numel(self) -> int:
        """Every value this layer keeps for one image: its output, and a block's inner outputs and skip."""
        return self.output_numel + sum(r.output_numel for r in self.inner) + self.skip_numel


def torch_arg(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def torch_kwargs(layer: LayerSpec, resolved: dict[str, Any]) -> dict[str, Any]:
    """Constructor keyword arguments for torch.nn.<type>, with in_* resolved."""
    p = {**layer.params, **resolved}
    if layer.type in ("MaxPool2d", "AvgPool2d") and p["stride"] is None:
        p = {k: v for k, v in p.items() if k != "stride"}
    return {k: torch_arg(v) for k, v in p.items()}


def make_module(layer_type: str, kwargs: dict[str, Any]) -> nn.Module:
    return getattr(nn, layer_type)(**kwargs)


def run_module_on_meta(
    build: Any, shape: tuple[int, ...], where: str
) -> tuple[nn.Module, tuple[int, ...]] | str:
    """`build()`'s module run on the meta device: (module, output shape), or why it cannot run."""
    try:
        with torch.device("meta"):  # parameters without memory or initialisation cost
            module = build()
        module.eval()
        # forward outside the device context: 5x faster, still on meta tensors
        y = module(torch.empty((1, *shape), device="meta"))  # [1, *shape] -> [1, *out]
    except Exception as e:  # torch's own refusal, in its words
        msg = str(e).split("\n")[0]
        return f"{where} cannot run on a {fmt_shape(shape)} input. PyTorch says: {msg}"
    out_shape = tuple(int(s) for s in y.shape[1:])
    if any(s < 1 for s in out_shape):
        return f"{where} would output an empty {fmt_shape(out_shape)} tensor: shrink less before it."
    return module, out_shape


def module_counts(module: nn.Module) -> tuple[int, int, int]:
    """(parameters, trainable parameters, bytes of parameters and buffers) of one layer."""
    n_params = sum(int(q.numel()) for q in module.parameters())
    n_train = sum(int(q.numel()) for q in module.parameters() if q.requires_grad)
    state_bytes = sum(int(tn.numel()) * tn.element_size() for tn in module.state_dict().values())
    return n_params, n_train, state_bytes


def layer_macs(t: str, p: dict[str, Any], shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    """Multiply-adds of one layer for one image (Conv2d and Linear; the others count 0)."""
    if t == "Conv2d":
        k = as_pair(p["kernel_size"])
        return math.prod(out_shape) * shape[0] * k[0] * k[1]
    if t == "Linear":
        return shape[0] * out_shape[0]
    return 0


def receptive_step(
    t: str,
    p: dict[str, Any],
    shape: tuple[int, ...],
    out_shape: tuple[int, ...],
    rf: tuple[int, int],
    jump: tuple[int, int],
    input_shape: tuple[int, ...],
) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """(receptive field, jump) after one layer, per axis (h, w); jump None once Linear mixed all."""
    if t == "Conv2d":
        k, s, d = as_pair(p["kernel_size"]), as_pair(p["stride"]), as_pair(p["dilation"])
        steps = [receptive_field_step(rf[a], jump[a], k[a], s[a], d[a]) for a in (0, 1)]
    elif t in ("MaxPool2d", "AvgPool2d"):
        k = as_pair(p["kernel_size"])
        s = as_pair(p["stride"]) if p["stride"] is not None else k
        steps = [receptive_field_step(rf[a], jump[a], k[a], s[a], 1) for a in (0, 1)]
    elif t == "AdaptiveAvgPool2d":
        steps = []
        for a in (0, 1):
            size_in, size_out = shape[1 + a], out_shape[1 + a]
            # windows run from floor(j*in/out) to ceil((j+1)*in/out): take the widest
            kk = max(-(-(j + 1) * size_in // size_out) - (j * size_in // size_out) for j in range(size_out))
            steps.append(receptive_field_step(rf[a], jump[a], kk, max(1, size_in // size_out), 1))
    elif t == "Linear":
        return (max(rf[0], input_shape[1]), max(rf[1], input_shape[2])), None
    else:
        return rf, jump
    return (steps[0][0], steps[1][0]), (steps[0][1], steps[1][1])


@dataclass
class FlattenTrail:
    """What the next layer's messages need to know about the Flatten layers before it."""

    flat_origin: tuple[tuple[int, ...], int] | None = None  # (feature-map shape, Flatten index)
    last_flatten: int | None = None
    only_shape_keeping: bool = True  # nothing but shape-keeping layers since that Flatten

    def step(self, t: str, i: int, shape: tuple[int, ...]) -> None:
        """Follow layer `i` of type `t`, whose input has `shape`."""
        if t == "Flatten":
            if len(shape) == 3:
                self.flat_origin = (shape, i)
            self.last_flatten, self.only_shape_keeping = i, True
        elif t == "Linear":
            self.flat_origin = None
            self.only_shape_keeping = False
        elif t not in SHAPE_KEEPING:
            self.only_shape_keeping = False


@dataclass
class Step:
    """One layer run on meta: its torch arguments, what "auto" resolved to, and what it costs."""

    kwargs: dict[str, Any]
    resolved: dict[str, Any]
    out_shape: tuple[int, ...]
    params: int
    trainable: int
    state_bytes: int
    macs: int
    rf: tuple[int, int]
    jump: tuple[int, int] | None
    inner: list[LayerSummary] = field(default_factory=list)
    skip: str | None = None
    skip_numel: int = 0


def run_layer(
    i: int,
    layer: LayerSpec,
    shape: tuple[int, ...],
    trail: FlattenTrail,
    rf: tuple[int, int],
    jump: tuple[int, int] | None,
    input_shape: tuple[int, ...],
) -> Step | SpecError:
    """Layer `i` (not a block) checked and run on a `shape` input: its Step, or the SpecError."""
    t = layer.type
    resolved: dict[str, Any] = {}
    problem = layer_error(
        i, layer, shape, resolved, trail.flat_origin, trail.last_flatten, trail.only_shape_keeping
    )
    if problem is not None:
        return problem
    kw = torch_kwargs(layer, resolved)
    ran = run_module_on_meta(lambda: make_module(t, kw), shape, f"{t} (layer {i + 1})")
    if isinstance(ran, str):
        return SpecError(ran, i, t)
    module, out_shape = ran
    n_params, n_train, state_bytes = module_counts(module)
    if jump is not None:
        rf, jump = receptive_step(t, layer.params, shape, out_shape, rf, jump, input_shape)
    macs = layer_macs(t, layer.params, shape, out_shape)
    return Step(kw, resolved, out_shape, n_params, n_train, state_bytes, macs, rf, jump)
