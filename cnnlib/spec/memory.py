"""The memory a model needs, priced on the meta device before anything real is allocated.

One server serves the whole class, so every path that runs a student's model (training, one step
in slow motion, feature maps, Grad-CAM, a prediction) asks `estimate_memory` first and refuses
past a budget with `check_memory`. The estimate runs the real layers on the meta device (shapes
only: no memory, no arithmetic): for a ModelSpec through the cached analysis `summarize` uses,
for an nn.Module through `torch.func.functional_call` with meta stand-ins for its weights, so
even a model whose one image would take gigabytes costs a few milliseconds to price.

    est = estimate_memory(spec, batch_size=16)           # training: activations kept for backward
    est.total_bytes, est.activation_bytes, est.output_shape
    check_memory(model, 1, budget=MAX_SERVER_WORK_BYTES, training=False, what="Feature maps")
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnlib.spec.analysis import analyse, build_model
from cnnlib.spec.fields import BYTES_PER_VALUE, SpecError
from cnnlib.spec.formatting import format_bytes
from cnnlib.spec.model import ModelSpec

__all__ = ["MAX_SERVER_WORK_BYTES", "MemoryBudgetError", "estimate_memory", "check_memory"]


# What a student's model may take in the web server itself (slow motion, feature maps, Grad-CAM,
# predictions): the server is shared by the whole class; training runs in a child with its own.
MAX_SERVER_WORK_BYTES = 300_000_000
# Training keeps each activation, its gradient and a workspace of the same size (x3); weights
# come with their gradients and two Adam moments (x4). A forward pass alone keeps the activations
# (feature maps are read from all of them) and needs a workspace as big (a convolution's unfolded
# input: a 3-channel 3x3 conv with padding 500 took 115 MB of it beside its 135 MB output).
TRAIN_ACTIVATION_FACTOR, TRAIN_WEIGHT_FACTOR = 3, 4
FORWARD_ACTIVATION_FACTOR = 2


class MemoryBudgetError(SpecError):
    """Work on a model that would take more memory than its budget; the message says what to change."""


@dataclass(frozen=True)
class MemoryEstimate:
    """What a forward pass (and, when `training`, a backward pass and an Adam step) needs."""

    batch_size: int
    activation_bytes: int  # one image: the input and every layer's output, float32
    parameter_bytes: int  # weights and buffers, as stored
    params: int  # number of parameters
    output_shape: tuple[int, ...]  # one image's output, without the batch dimension
    training: bool

    @property
    def total_bytes(self) -> int:
        if self.training:
            return (
                self.activation_bytes * self.batch_size * TRAIN_ACTIVATION_FACTOR
                + self.parameter_bytes * TRAIN_WEIGHT_FACTOR
            )
        return self.activation_bytes * self.batch_size * FORWARD_ACTIVATION_FACTOR + self.parameter_bytes


def _spec_values(spec: ModelSpec) -> tuple[int, int, int, tuple[int, ...]]:
    """(activation values per image, parameters, state bytes, output shape) from the cached analysis."""
    a = analyse(spec)
    if a.error is not None:
        raise SpecError(a.error.message, a.error.layer_index, a.error.layer_type, a.error.field)
    acts = math.prod(spec.input_shape) + sum(s.activation_numel for s in a.summaries)
    params = sum(s.params for s in a.summaries)
    state = sum(s.state_bytes for s in a.summaries)
    out = a.summaries[-1].output_shape if a.summaries else tuple(spec.input_shape)
    return acts, params, state, out


_MODULE_CACHE: weakref.WeakKeyDictionary[nn.Module, dict[tuple[int, ...], Any]] = weakref.WeakKeyDictionary()
_HOOK_LOCK = threading.Lock()  # hooks on a non-Sequential model: one pricing at a time


def _meta_call(module: nn.Module, x: torch.Tensor) -> Any:
    """module(x) with meta stand-ins for its weights and buffers: the module itself is not touched."""
    state = {n: torch.empty_like(t, device="meta") for n, t in module.named_parameters()}
    state.update({n: torch.empty_like(t, device="meta") for n, t in module.named_buffers()})
    return torch.func.functional_call(module, state, (x,), strict=False)


def _module_values(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, int, int, tuple[int, ...]]:
    """(activation values per image, parameters, state bytes, output shape) of a module, on meta."""
    cached = _MODULE_CACHE.get(model, {}).get(input_shape)
    if cached is not None:
        return cached
    h = torch.empty((1, *input_shape), device="meta")  # [1, C, H, W]
    acts = [math.prod(input_shape)]
    was_training = model.training
    if was_training:  # priced as it predicts (a shared model is in eval mode already: untouched)
        model.eval()
    try:
        out = _module_pass(model, h, acts)
    finally:
        if was_training:
            model.train()
    params = sum(p.numel() for p in model.parameters())
    state = sum(int(t.numel()) * t.element_size() for t in [*model.parameters(), *model.buffers()])
    result = (sum(acts), params, state, tuple(int(s) for s in out.shape[1:]))
    _MODULE_CACHE.setdefault(model, {})[input_shape] = result
    return result


def _module_pass(model: nn.Module, h: torch.Tensor, acts: list[int]) -> torch.Tensor:
    """The meta forward pass of `model` on `h`, appending every leaf's output size to `acts`."""
    with torch.no_grad():
        if isinstance(model, nn.Sequential):  # child by child: a shared model gets no hooks
            for layer in model.children():
                body = getattr(layer, "body", None)
                if isinstance(
                    body, nn.Sequential
                ):  # a Residual block: its inner outputs, as a spec counts them
                    x = h
                    for inner in body.children():
                        x = _meta_call(inner, x)
                        acts.append(x.numel())
                    if getattr(layer, "downsample", None) is not None:
                        acts.append(x.numel())  # the skip's projection: one map of the block's output size
                h = _meta_call(layer, h)
                acts.append(h.numel())
            out = h
        else:
            leaves = [m for m in model.modules() if not list(m.children())]

            def hook(_m: nn.Module, _i: Any, o: Any) -> None:
                if isinstance(o, torch.Tensor):
                    acts.append(o.numel())

            with _HOOK_LOCK:
                handles = [m.register_forward_hook(hook) for m in leaves]
                try:
                    out = _meta_call(model, h)
                finally:
                    for hd in handles:
                        hd.remove()
    return out


def estimate_memory(
    model: ModelSpec | nn.Module,
    batch_size: int = 1,
    *,
    training: bool = True,
    input_shape: tuple[int, ...] | None = None,
) -> MemoryEstimate:
    """The memory `batch_size` images take through `model` (a ModelSpec or an nn.Module), priced on meta.

    `input_shape` (C, H, W) defaults to the spec's; a module needs it. Raises SpecError when the
    model cannot take that input (a module's error is PyTorch's first line).
    """
    if isinstance(model, ModelSpec) and input_shape is not None and tuple(input_shape) != model.input_shape:
        # Another input than the spec's: the model as built (in_channels fixed by its own input),
        # with its weights on the meta device, fed that input.
        with torch.device("meta"):
            model = build_model(model)
    if isinstance(model, ModelSpec):
        acts, params, state, out = _spec_values(model)
    elif isinstance(model, nn.Module):
        if input_shape is None:
            raise ValueError("estimate_memory needs the input shape (C, H, W) of a module")
        try:
            acts, params, state, out = _module_values(model, tuple(int(v) for v in input_shape))
        except Exception as exc:  # torch's own refusal (shapes that do not fit), in its words
            raise SpecError(
                f"PyTorch says: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from None
    else:
        raise TypeError(f"expected a ModelSpec or an nn.Module, got {type(model).__name__}")
    return MemoryEstimate(
        batch_size=int(batch_size),
        activation_bytes=acts * BYTES_PER_VALUE,
        parameter_bytes=state,
        params=params,
        output_shape=out,
        training=training,
    )


def check_memory(
    model: ModelSpec | nn.Module,
    batch_size: int = 1,
    *,
    budget: int | None = None,
    training: bool = True,
    input_shape: tuple[int, ...] | None = None,
    what: str = "This",
) -> MemoryEstimate:
    """`estimate_memory`, refused past `budget` with MemoryBudgetError naming `what` and what to change.

    `budget` defaults to MAX_SERVER_WORK_BYTES, read at call time (a test may patch it here).
    """
    budget = MAX_SERVER_WORK_BYTES if budget is None else int(budget)
    est = estimate_memory(model, batch_size, training=training, input_shape=input_shape)
    if est.total_bytes > budget:
        per_image = est.activation_bytes * (
            TRAIN_ACTIVATION_FACTOR if training else FORWARD_ACTIVATION_FACTOR
        )
        fix = "use a smaller input, fewer channels, less padding, or pool earlier"
        fix = (
            f"Lower the batch size, or {fix}" if batch_size > 1 and per_image <= budget else fix.capitalize()
        )
        raise MemoryBudgetError(
            f"{what} needs about {format_bytes(est.total_bytes)} of memory with "
            f"{batch_size} image{'s' if batch_size != 1 else ''} (one image's activations: "
            f"{format_bytes(est.activation_bytes)}); the server allows {format_bytes(budget)} for it, "
            f"as the whole class shares it. {fix}."
        )
    return est
