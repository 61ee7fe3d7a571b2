"""Analysing model specs on the meta device: summarize, receptive field, MACs, caps, build_model.

`summarize` runs every real layer on the meta device (no memory, no arithmetic), so each output
shape is PyTorch's own (one layer at a time in `cnnlib.spec.meta`, a Residual block in
`cnnlib.spec.residual`); it also counts parameters and multiply-adds, follows the receptive field,
and enforces the classroom caps (parameters, activation memory). `build_model` returns the
`nn.Sequential` (children named "0", "1", ..., the indices into `spec.layers`). Anything that
cannot run becomes a `SpecError` naming the layer, with a one-click `fix` where one exists.

The analysis is cached per spec (as compact JSON); `summarize`, `check`, `summarize_partial` and
`build_model` hand out a fresh copy of a cached SpecError on every call, never the cached object
(raising a shared exception would grow its traceback, and keep every raiser's frames alive).
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass
from typing import Any, overload

from torch import nn

from cnnlib.spec.fields import (
    BLOCK_TYPES,
    BYTES_PER_VALUE,
    MAX_ACTIVATION_BYTES,
    MAX_PARAMS,
    SpecError,
    squeeze_pair,
)
from cnnlib.spec.meta import FlattenTrail, LayerSummary, make_module, run_layer
from cnnlib.spec.model import ModelSpec, layer_label
from cnnlib.spec.residual import build_residual, residual_step
from cnnlib.spec.rules import input_error

# ----------------------------------------------------------------------------------------------
# Analysis: run the real layers on the meta device.


__all__ = ["check", "summarize_partial", "summarize", "totals", "output_shape", "build_model"]


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    size_mb: float  # parameters and buffers, 1 MB = 1e6 bytes
    activation_bytes: int  # input + every layer's output for one image, float32
    output_shape: tuple[int, ...]


@dataclass
class Analysis:
    summaries: list[LayerSummary]
    kwargs: list[dict[str, Any]]
    error: SpecError | None


def _cap_error(where: str, total_params: int, act_bytes: int) -> str | None:
    """Why the model up to `where` is over a classroom cap (parameters, then activations), or None."""
    if total_params > MAX_PARAMS:
        return (
            f"The model is too big for this classroom server: with {where} it has {total_params:,} "
            f"parameters, over the cap of {MAX_PARAMS:,} ({MAX_PARAMS // 1_000_000} M). Use fewer "
            "channels or features, or pool more before Flatten."
        )
    if act_bytes > MAX_ACTIVATION_BYTES:
        return (
            f"The model is too big for this classroom server: by {where} the activations of one image "
            f"take {act_bytes / 1e9:.2f} GB, over the cap of {MAX_ACTIVATION_BYTES / 1e9:g} GB. Use a "
            "smaller input, fewer channels, or pool earlier."
        )
    return None


def _analyse_impl(spec: ModelSpec) -> Analysis:
    out: list[LayerSummary] = []
    kwargs_list: list[dict[str, Any]] = []
    problem = input_error(spec.input_shape)
    if problem is not None:
        return Analysis(out, kwargs_list, problem)

    shape: tuple[int, ...] = tuple(spec.input_shape)
    rf: tuple[int, int] = (1, 1)  # jump turns None after a Linear layer; rf never does
    jump: tuple[int, int] | None = (1, 1)
    total_params = 0
    act_bytes = math.prod(shape) * BYTES_PER_VALUE
    trail = FlattenTrail()

    for i, layer in enumerate(spec.layers):
        t = layer.type
        run = residual_step if t in BLOCK_TYPES else run_layer
        step = run(i, layer, shape, trail, rf, jump, spec.input_shape)
        if isinstance(step, SpecError):
            return Analysis(out, kwargs_list, step)
        total_params += step.params
        row = LayerSummary(
            index=i,
            type=t,
            label=layer_label(layer, step.resolved),
            input_shape=shape,
            output_shape=step.out_shape,
            params=step.params,
            trainable_params=step.trainable,
            macs=step.macs,
            receptive_field=squeeze_pair(step.rf),
            jump=None if step.jump is None else squeeze_pair(step.jump),
            state_bytes=step.state_bytes,
            inner=tuple(step.inner),
            skip=step.skip,
            skip_numel=step.skip_numel,
        )
        act_bytes += row.activation_numel * BYTES_PER_VALUE
        too_big = _cap_error(f"{t} (layer {i + 1})", total_params, act_bytes)
        if too_big is not None:
            return Analysis(out, kwargs_list, SpecError(too_big, i, t))
        out.append(row)
        kwargs_list.append(step.kwargs)
        trail.step(t, i, shape)  # for the next layer's messages
        shape, rf, jump = step.out_shape, step.rf, step.jump
    return Analysis(out, kwargs_list, None)


@functools.lru_cache(maxsize=512)
def analyse_cached(key: str) -> Analysis:
    return _analyse_impl(ModelSpec.from_json(key))


def analyse(spec: ModelSpec) -> Analysis:
    return analyse_cached(spec.to_json(indent=None))


@overload
def _fresh(e: SpecError) -> SpecError: ...
@overload
def _fresh(e: None) -> None: ...
@overload
def _fresh(e: SpecError | None) -> SpecError | None: ...


def _fresh(e: SpecError | None) -> SpecError | None:
    """A new SpecError equal to the cached one: raising a shared exception object would grow its
    traceback with every raise (and keep every raiser's frames alive) across all sessions."""
    if e is None:
        return None
    return SpecError(e.message, e.layer_index, e.layer_type, e.field, copy.deepcopy(e.fix))


def check(spec: ModelSpec) -> SpecError | None:
    """The first problem that stops the spec from running, or None when it runs."""
    return _fresh(analyse(spec).error)


def summarize_partial(spec: ModelSpec) -> tuple[list[LayerSummary], SpecError | None]:
    """Summaries of the layers that run, up to the first broken one, and that layer's SpecError."""
    a = analyse(spec)
    return list(a.summaries), _fresh(a.error)


def summarize(spec: ModelSpec) -> list[LayerSummary]:
    """One LayerSummary per layer, shapes and counts from PyTorch's own layers. Raises SpecError."""
    a = analyse(spec)
    if a.error is not None:
        raise _fresh(a.error)
    return list(a.summaries)


def totals(spec: ModelSpec, summary: list[LayerSummary] | None = None) -> Totals:
    """Parameters, trainable parameters, size in MB (params + buffers) and activation bytes per image."""
    summary = summarize(spec) if summary is None else summary
    act = math.prod(spec.input_shape) * BYTES_PER_VALUE + sum(
        s.activation_numel * BYTES_PER_VALUE for s in summary
    )
    return Totals(
        params=sum(s.params for s in summary),
        trainable_params=sum(s.trainable_params for s in summary),
        size_mb=sum(s.state_bytes for s in summary) / 1e6,
        activation_bytes=act,
        output_shape=summary[-1].output_shape if summary else tuple(spec.input_shape),
    )


def output_shape(spec: ModelSpec) -> tuple[int, ...]:
    """The shape of one image's output (without the batch dimension). Raises SpecError."""
    s = summarize(spec)
    return s[-1].output_shape if s else tuple(spec.input_shape)


def build_model(spec: ModelSpec) -> nn.Sequential:
    """The model as an nn.Sequential whose children are named "0", "1", ... like spec.layers."""
    a = analyse(spec)
    if a.error is not None:
        raise _fresh(a.error)
    return nn.Sequential(
        *[
            build_residual(kw) if layer.type in BLOCK_TYPES else make_module(layer.type, kw)
            for layer, kw in zip(spec.layers, a.kwargs, strict=True)
        ]
    )
