"""Analysing model specs on the meta device: summarize, receptive field, MACs, caps, build_model.

`summarize` runs every real layer on the meta device (no memory, no arithmetic), so each output
shape is PyTorch's own; it also counts parameters and multiply-adds, follows the receptive field,
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

import torch
from torch import nn

from cnnlib.shapes import receptive_field_step
from cnnlib.spec.fields import (
    BYTES_PER_VALUE,
    MAX_ACTIVATION_BYTES,
    MAX_PARAMS,
    SHAPE_KEEPING,
    SpecError,
    as_pair,
    fmt_shape,
    squeeze_pair,
)
from cnnlib.spec.model import LayerSpec, ModelSpec, layer_label
from cnnlib.spec.rules import input_error, layer_error

# ----------------------------------------------------------------------------------------------
# Analysis: run the real layers on the meta device.


__all__ = ["LayerSummary", "check", "summarize_partial", "summarize", "totals", "output_shape", "build_model"]


@dataclass(frozen=True)
class LayerSummary:
    """One row of the summary. output_shape is (C, H, W) for feature maps, (F,) for vectors.

    receptive_field / jump: int when square, else (h, w); jump is None once a Linear layer has
    mixed every position (its receptive field is then the whole input).
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

    @property
    def output_numel(self) -> int:
        return math.prod(self.output_shape)


@dataclass(frozen=True)
class Totals:
    params: int
    trainable_params: int
    size_mb: float  # parameters and buffers, 1 MB = 1e6 bytes
    activation_bytes: int  # input + every layer's output for one image, float32
    output_shape: tuple[int, ...]


def torch_arg(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _torch_kwargs(layer: LayerSpec, resolved: dict[str, Any]) -> dict[str, Any]:
    """Constructor keyword arguments for torch.nn.<type>, with in_* resolved."""
    p = {**layer.params, **resolved}
    if layer.type in ("MaxPool2d", "AvgPool2d") and p["stride"] is None:
        p = {k: v for k, v in p.items() if k != "stride"}
    return {k: torch_arg(v) for k, v in p.items()}


def _make_module(layer_type: str, kwargs: dict[str, Any]) -> nn.Module:
    return getattr(nn, layer_type)(**kwargs)


@dataclass
class Analysis:
    summaries: list[LayerSummary]
    kwargs: list[dict[str, Any]]
    error: SpecError | None


@dataclass
class _FlattenTrail:
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


def _run_on_meta(
    t: str, kw: dict[str, Any], shape: tuple[int, ...], where: str
) -> tuple[nn.Module, tuple[int, ...]] | str:
    """The real layer built and run on the meta device: (module, output shape), or why it cannot run."""
    try:
        with torch.device("meta"):  # parameters without memory or initialisation cost
            module = _make_module(t, kw)
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


def _counts(module: nn.Module) -> tuple[int, int, int]:
    """(parameters, trainable parameters, bytes of parameters and buffers) of one layer."""
    n_params = sum(int(q.numel()) for q in module.parameters())
    n_train = sum(int(q.numel()) for q in module.parameters() if q.requires_grad)
    state_bytes = sum(int(tn.numel()) * tn.element_size() for tn in module.state_dict().values())
    return n_params, n_train, state_bytes


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


def _macs(t: str, p: dict[str, Any], shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    """Multiply-adds of one layer for one image (Conv2d and Linear; the others count 0)."""
    if t == "Conv2d":
        k = as_pair(p["kernel_size"])
        return math.prod(out_shape) * shape[0] * k[0] * k[1]
    if t == "Linear":
        return shape[0] * out_shape[0]
    return 0


def _receptive_step(
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


def _analyse_impl(spec: ModelSpec) -> Analysis:
    out: list[LayerSummary] = []
    kwargs_list: list[dict[str, Any]] = []
    c, h, w = spec.input_shape
    problem = input_error(spec.input_shape)
    if problem is not None:
        return Analysis(out, kwargs_list, problem)

    shape: tuple[int, ...] = (c, h, w)
    rf: tuple[int, int] = (1, 1)  # jump turns None after a Linear layer; rf never does
    jump: tuple[int, int] | None = (1, 1)
    total_params = 0
    act_bytes = math.prod(shape) * BYTES_PER_VALUE
    trail = _FlattenTrail()

    for i, layer in enumerate(spec.layers):
        t = layer.type
        where = f"{t} (layer {i + 1})"
        resolved: dict[str, Any] = {}
        problem = layer_error(
            i, layer, shape, resolved, trail.flat_origin, trail.last_flatten, trail.only_shape_keeping
        )
        if problem is not None:
            return Analysis(out, kwargs_list, problem)
        kw = _torch_kwargs(layer, resolved)
        ran = _run_on_meta(t, kw, shape, where)
        if isinstance(ran, str):
            return Analysis(out, kwargs_list, SpecError(ran, i, t))
        module, out_shape = ran
        n_params, n_train, state_bytes = _counts(module)
        total_params += n_params
        act_bytes += math.prod(out_shape) * BYTES_PER_VALUE
        too_big = _cap_error(where, total_params, act_bytes)
        if too_big is not None:
            return Analysis(out, kwargs_list, SpecError(too_big, i, t))
        macs = _macs(t, layer.params, shape, out_shape)
        if jump is not None:
            rf, jump = _receptive_step(t, layer.params, shape, out_shape, rf, jump, spec.input_shape)
        out.append(
            LayerSummary(
                index=i,
                type=t,
                label=layer_label(layer, resolved),
                input_shape=shape,
                output_shape=out_shape,
                params=n_params,
                trainable_params=n_train,
                macs=macs,
                receptive_field=squeeze_pair(rf),
                jump=None if jump is None else squeeze_pair(jump),
                state_bytes=state_bytes,
            )
        )
        kwargs_list.append(kw)
        trail.step(t, i, shape)  # for the next layer's messages
        shape = out_shape
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
        s.output_numel * BYTES_PER_VALUE for s in summary
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
        *[_make_module(layer.type, kw) for layer, kw in zip(spec.layers, a.kwargs, strict=True)]
    )
