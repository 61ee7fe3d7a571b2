"""The Residual block: a skip connection that adds a block's input to what its inner layers compute.

`{"type": "Residual", "layers": [...]}` holds plain layers (one level deep, no Flatten or Linear:
they keep a feature map). When the inner layers keep the channels and the size, the skip is the
identity; otherwise the input goes through a projection, as torchvision's ResNet `downsample`
does it: a 1x1 Conv2d without bias (stride 2 when the size halves) followed by a BatchNorm2d. The
stride is the smallest that brings the input's size to the output's (torch's 1x1 conv outputs
ceil(H / stride)); a size no stride reaches (10 -> 8) is refused with a message. The block adds,
it does not apply a ReLU after the sum: the builder puts a ReLU layer after the block.

`residual_step` runs each inner layer on the meta device like every other layer (shapes, counts,
MACs, receptive field per inner layer), then the whole block, so its output shape and parameter
count are PyTorch's own; its MACs include the projection's (1x1: C_in per output value), and its
receptive field is the inner path's (the skip's 1x1 kernel adds nothing).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from cnnlib.spec.fields import SpecError, fmt_shape, squeeze_pair
from cnnlib.spec.meta import (
    FlattenTrail,
    LayerSummary,
    Step,
    make_module,
    module_counts,
    run_layer,
    run_module_on_meta,
)
from cnnlib.spec.model import LayerSpec, layer_label
from cnnlib.spec.rules import layer_error

__all__ = ["Residual", "skip_stride"]


class Residual(nn.Module):
    """y = body(x) + x, or body(x) + downsample(x) when the body changes the channels or the size."""

    def __init__(self, body: nn.Sequential, downsample: nn.Sequential | None = None) -> None:
        super().__init__()
        self.body = body
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: [N, C, H, W]; body(x): [N, C', H', W']; the skip brings x to [N, C', H', W'] too
        skip = x if self.downsample is None else self.downsample(x)
        return self.body(x) + skip


def skip_stride(size_in: int, size_out: int) -> int | None:
    """The smallest stride s of a 1x1 conv that turns `size_in` into `size_out` (ceil(size_in / s)), or None."""
    for s in range(1, size_in + 1):
        if -(-size_in // s) == size_out:
            return s
        if -(-size_in // s) < size_out:
            return None
    return None


def build_residual(kw: dict[str, Any]) -> Residual:
    """The block from its analysed arguments: {"layers": [(type, kwargs), ...], "downsample": None or
    (in_channels, out_channels, stride)}."""
    body = nn.Sequential(*[make_module(t, k) for t, k in kw["layers"]])
    down = kw["downsample"]
    if down is None:
        return Residual(body)
    cin, cout, stride = down
    projection = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
    return Residual(body, projection)


def _inner_error(e: SpecError, i: int, j: int) -> SpecError:
    """An inner layer's SpecError, said of layer "i.j" and pinned on the block (no one-click fix)."""
    message = e.message.replace(f"(layer {j + 1})", f"(layer {i + 1}.{j + 1}, inside the Residual block)")
    return SpecError(message, i, "Residual", "layers")


def _inner_rows(
    i: int,
    layer: LayerSpec,
    shape: tuple[int, ...],
    rf: tuple[int, int],
    jump: Any,
    input_shape: tuple[int, ...],
) -> tuple[list[LayerSummary], list[Step]] | SpecError:
    """Each inner layer run like a model's layer: its summary row (numbered in the block) and Step."""
    rows: list[LayerSummary] = []
    steps: list[Step] = []
    trail = FlattenTrail()
    for j, inner in enumerate(layer.inner):
        step = run_layer(j, inner, shape, trail, rf, jump, input_shape)
        if isinstance(step, SpecError):
            return _inner_error(step, i, j)
        rows.append(
            LayerSummary(
                index=j,
                type=inner.type,
                label=layer_label(inner, step.resolved),
                input_shape=shape,
                output_shape=step.out_shape,
                params=step.params,
                trainable_params=step.trainable,
                macs=step.macs,
                receptive_field=squeeze_pair(step.rf),
                jump=None if step.jump is None else squeeze_pair(step.jump),
                state_bytes=step.state_bytes,
            )
        )
        steps.append(step)
        trail.step(inner.type, j, shape)
        shape, rf, jump = step.out_shape, step.rf, step.jump
    return rows, steps


def _projection(i: int, shape: tuple[int, ...], out: tuple[int, ...]) -> tuple[Any, str] | SpecError:
    """(downsample arguments or None, the skip in words) for a block from `shape` to `out`."""
    if shape == out:
        return None, "identity"
    where = f"Residual (layer {i + 1})"
    strides = (skip_stride(shape[1], out[1]), skip_stride(shape[2], out[2]))
    if strides[0] is None or strides[1] is None:
        return SpecError(
            f"{where}: its inner layers turn {shape[1]} x {shape[2]} into {out[1]} x {out[2]}, a size the skip "
            "connection cannot match: its 1x1 convolution only keeps the size or divides it by a stride "
            "(28 x 28 -> 14 x 14 with stride 2). Keep the size inside the block (padding 1 on 3x3 convs) or "
            "halve it (stride 2 and padding 1 on its first conv).",
            i,
            "Residual",
            "layers",
        )
    stride = squeeze_pair((strides[0], strides[1]))
    said = "" if stride == 1 else f", s={stride if isinstance(stride, int) else f'{strides[0]}x{strides[1]}'}"
    return (shape[0], out[0], stride), f"1x1 conv+BN {shape[0]}→{out[0]}{said}"


def short_skip(skip: str) -> str:
    """The skip as the summary's label says it: "identity", "1x1" or "1x1, s=2" (the channels are in
    the output shape beside it)."""
    return skip if skip == "identity" else "1x1" + ("" if ", s=" not in skip else ", " + skip.split(", ")[-1])


def residual_step(
    i: int,
    layer: LayerSpec,
    shape: tuple[int, ...],
    trail: FlattenTrail,
    rf: tuple[int, int],
    jump: tuple[int, int] | None,
    input_shape: tuple[int, ...],
) -> Step | SpecError:
    """Block `i` checked and run on a `shape` input: its Step (with the inner rows), or the SpecError."""
    problem = layer_error(
        i, layer, shape, {}, trail.flat_origin, trail.last_flatten, trail.only_shape_keeping
    )
    if problem is not None:  # a flat vector arrives: the block needs a feature map
        return problem
    inner = _inner_rows(i, layer, shape, rf, jump, input_shape)
    if isinstance(inner, SpecError):
        return inner
    rows, steps = inner
    out = rows[-1].output_shape
    skip = _projection(i, shape, out)
    if isinstance(skip, SpecError):
        return skip
    down, said = skip
    kw = {"layers": [(x.type, s.kwargs) for x, s in zip(layer.inner, steps, strict=True)], "downsample": down}
    where = f"Residual (layer {i + 1})"
    ran = run_module_on_meta(lambda: build_residual(kw), shape, where)
    if isinstance(ran, str) or ran[1] != out:  # torch adds the two paths: it must agree on the shape
        why = ran if isinstance(ran, str) else f"{where} outputs {fmt_shape(ran[1])}, not {fmt_shape(out)}."
        return SpecError(why, i, "Residual", "layers")
    n_params, n_train, state_bytes = module_counts(ran[0])
    proj_macs = 0 if down is None else math.prod(out) * shape[0]  # 1x1 kernel: C_in per output value
    macs = sum(s.macs for s in steps) + proj_macs
    last, skip_numel = steps[-1], 0 if down is None else math.prod(out)
    step = Step(kw, {"skip": short_skip(said)}, out, n_params, n_train, state_bytes, macs, last.rf, last.jump)
    step.inner, step.skip, step.skip_numel = rows, said, skip_numel
    return step
