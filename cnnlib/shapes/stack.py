"""A stack of layers (spec layer dicts): the shape, parameters and receptive field after each.

stack_shapes walks the layers as the shape calculator's stack mode shows them, stopping at the
first layer torch would refuse with its ShapeError (.layer_index set). Sizes come from
cnnlib.shapes. layer_title names a layer as students count ("3 · MaxPool2d 2×2", from 1) and
layer_status says which layers ran, which one torch refuses and which it never reaches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from cnnlib.shapes.checks import ShapeError, as_pair, check_int
from cnnlib.shapes.formulas import conv2d_params, receptive_field_step
from cnnlib.shapes.settings import layer_output_hw

# ----------------------------------------------------------------------------------------------
# A stack of layers (spec layer dicts)

__all__ = ["StackResult", "layer_settings", "layer_title", "layer_status", "stack_shapes"]


SHAPE_KEEPING = {
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "GELU",
    "ELU",
    "SiLU",
    "Dropout",
    "Dropout2d",
    "Identity",
}


@dataclass
class StackRow:
    """One layer of a stack: its output shape, parameters and the receptive field after it.

    rf and jump are (height, width) in input pixels, or None where they stop being simple
    (after a transposed convolution, an uneven adaptive pool, or once the image is flattened).
    """

    index: int
    type: str
    label: str
    output_shape: tuple[int, ...]
    params: int
    rf: tuple[int, int] | None
    jump: tuple[int, int] | None


@dataclass
class StackResult:
    """Rows for the layers that worked, and the first layer's error (if any) with its index."""

    input_shape: tuple[int, ...]
    rows: list[StackRow] = field(default_factory=list)
    error: ShapeError | None = None
    error_type: str | None = None  # the refused layer's type


def layer_settings(d: dict) -> str:
    """A layer's settings in short ("3×3 → 8 ch p=1", "2×2"), as the stack's table shows them;
    "" for settings too broken to write (the stack's message says what is wrong with them)."""
    try:
        return _label(str(d.get("type", "?")), d)
    except (ShapeError, TypeError, ValueError, KeyError):
        return ""


def layer_title(index: int, d: dict) -> str:
    """ "3 · MaxPool2d 2×2": layer `index` (0-based) numbered from 1, as students count."""
    settings = layer_settings(d) if isinstance(d, dict) else ""
    kind = d.get("type", "?") if isinstance(d, dict) else "?"
    return f"{index + 1} · {kind}" + (f" {settings}" if settings else "")


def layer_status(result: StackResult, n_layers: int) -> list[str]:
    """Each layer's fate in the stack: "ok" (it ran), "refused" (the first layer torch refuses),
    "not reached" (after the refused one: nothing arrives there)."""
    bad = result.error.layer_index if result.error is not None else None
    if bad is None:
        return ["ok"] * n_layers
    return ["ok" if i < bad else "refused" if i == bad else "not reached" for i in range(n_layers)]


def _label(t: str, d: dict) -> str:
    def hw(v: object) -> str:
        a, b = as_pair(v, "")
        return f"{a}" if a == b else f"{a}×{b}"

    if t in ("Conv2d", "ConvTranspose2d"):
        k = as_pair(d.get("kernel_size", "?"), "")
        parts = [f"{k[0]}×{k[1]}", f"→ {d.get('out_channels', '?')} ch"]
        for key, short, default in (("stride", "s", 1), ("padding", "p", 0), ("dilation", "d", 1)):
            if d.get(key, default) != default:
                parts.append(f"{short}={hw(d[key])}")
        if t == "ConvTranspose2d" and d.get("output_padding", 0):
            parts.append(f"op={hw(d['output_padding'])}")
        return " ".join(parts)
    if t in ("MaxPool2d", "AvgPool2d"):
        k = as_pair(d.get("kernel_size", "?"), "")
        parts = [f"{k[0]}×{k[1]}"]
        if d.get("stride") is not None:
            parts.append(f"s={hw(d['stride'])}")
        if d.get("padding", 0):
            parts.append(f"p={hw(d['padding'])}")
        if d.get("ceil_mode"):
            parts.append("ceil")
        return " ".join(parts)
    if t == "AdaptiveAvgPool2d":
        return f"→ {hw(d.get('output_size', '?'))}"
    if t == "Linear":
        return f"→ {d.get('out_features', '?')}"
    return ""


def _spatial(kind: str, shape: tuple[int, ...], i: int) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError(
            f"Layer {i + 1} ({kind}) needs an image shaped [C, H, W] but gets a flat vector of "
            f"{shape[0]:,} numbers: put it before the Flatten.",
            layer_index=i,
        )
    return shape


def _channels(kind: str, d: dict, key: str, have: int, i: int) -> None:
    want = d.get(key, "auto")
    if want not in ("auto", None) and want != have:
        raise ShapeError(
            f"Layer {i + 1} ({kind}) expects {want} channels/features ({key}) but receives {have}.",
            key,
            i,
        )


_Pair = tuple[int, int] | None
_Step = tuple[tuple[int, ...], int, _Pair, _Pair]  # (output shape, parameters, rf, jump) after a layer


def _sliding_step(t: str, d: dict, i: int, shape: tuple[int, ...], rf: _Pair, jump: _Pair) -> _Step:
    """Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d: a window slid over the image."""
    c, h, w = _spatial(t, shape, i)
    settings = {k: v for k, v in d.items() if k != "type"}
    if t == "AvgPool2d":
        settings.pop("dilation", None)
    oh, ow = layer_output_hw(t, (h, w), **settings)
    k = as_pair(d["kernel_size"], "kernel")
    s = as_pair(d.get("stride", 1 if "Conv" in t else None) or k, "stride")
    dil = as_pair(d.get("dilation", 1) if t != "AvgPool2d" else 1, "dilation")
    params = 0
    if t in ("Conv2d", "ConvTranspose2d"):
        _channels(t, d, "in_channels", c, i)
        cout = check_int(d.get("out_channels"), "out_channels", 1)
        params = conv2d_params(c, cout, k, bool(d.get("bias", True)))
        c = cout
    if t == "ConvTranspose2d":
        rf = jump = None
    elif rf is not None and jump is not None:
        steps = [receptive_field_step(rf[a], jump[a], int(k[a]), int(s[a]), int(dil[a])) for a in (0, 1)]
        rf, jump = (steps[0][0], steps[1][0]), (steps[0][1], steps[1][1])
    return (c, oh, ow), params, rf, jump


def _adaptive_step(t: str, d: dict, i: int, shape: tuple[int, ...], rf: _Pair, jump: _Pair) -> _Step:
    """AdaptiveAvgPool2d: the receptive field stays simple only where the windows tile evenly."""
    c, h, w = _spatial(t, shape, i)
    o = as_pair(d.get("output_size", 1), "size")
    oh, ow = (
        (h if o[0] is None else check_int(o[0], "size")),
        (w if o[1] is None else check_int(o[1], "size")),
    )
    if rf is not None and jump is not None:
        new = []
        for n, m, r, j in ((h, oh, rf[0], jump[0]), (w, ow, rf[1], jump[1])):
            new.append(receptive_field_step(r, j, n // m, n // m) if n % m == 0 else None)
        if None in new:
            rf = jump = None
        else:
            rf, jump = (new[0][0], new[1][0]), (new[0][1], new[1][1])  # type: ignore[index]
    return (c, oh, ow), 0, rf, jump


def _linear_step(d: dict, i: int, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """Linear: (output shape, parameters), on a flat vector only."""
    if len(shape) != 1:
        raise ShapeError(
            f"Layer {i + 1} (Linear) needs a flat vector: add a Flatten before it "
            f"(it gets shape {list(shape)}).",
            layer_index=i,
        )
    _channels("Linear", d, "in_features", shape[0], i)
    out = check_int(d.get("out_features"), "out_features", 1)
    return (out,), shape[0] * out + (out if d.get("bias", True) else 0)


def _layer_step(t: str, d: dict, i: int, shape: tuple[int, ...], rf: _Pair, jump: _Pair) -> _Step:
    """Layer i of type t on an input of `shape`; ShapeError where torch would refuse it."""
    if t in ("Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d"):
        return _sliding_step(t, d, i, shape, rf, jump)
    if t == "AdaptiveAvgPool2d":
        return _adaptive_step(t, d, i, shape, rf, jump)
    if t == "BatchNorm2d":
        c, _, _ = _spatial(t, shape, i)
        _channels(t, d, "num_features", c, i)
        return shape, 2 * c, rf, jump
    if t == "Flatten":
        return (math.prod(shape),), 0, None, None
    if t == "Linear":
        out_shape, params = _linear_step(d, i, shape)
        return out_shape, params, rf, jump
    if t in SHAPE_KEEPING:
        return shape, 0, rf, jump
    raise ShapeError(f"Layer {i + 1}: the calculator doesn't know the layer type {t!r}.", layer_index=i)


def stack_shapes(input_shape: Sequence[int], layers: Sequence[dict]) -> StackResult:
    """Shapes, parameters, receptive field and jump after each layer of a stack.

    input_shape: [C, H, W]; layers: spec layer dicts ({"type": "Conv2d", "out_channels": 16,
    "kernel_size": 3, ...}) with torch's argument names. Stops at the first layer torch would
    refuse (e.g. where a spatial size hits zero) and returns its ShapeError, .layer_index set.
    """
    if len(input_shape) != 3:
        raise ShapeError(f"The input shape must be [C, H, W] (got {list(input_shape)}).", "size")
    c = check_int(input_shape[0], "channels", 1)
    h, w = check_int(input_shape[1], "size"), check_int(input_shape[2], "size")
    result = StackResult(input_shape=(c, h, w))
    shape: tuple[int, ...] = (c, h, w)
    rf: _Pair = (1, 1)
    jump: _Pair = (1, 1)
    for i, d in enumerate(layers):
        t = str(d.get("type", "?"))
        try:
            shape, params, rf, jump = _layer_step(t, d, i, shape, rf, jump)
        except ShapeError as e:
            msg = str(e)
            if not msg.startswith("Layer "):
                msg = f"Layer {i + 1} ({t}): {msg}"
            result.error, result.error_type = ShapeError(msg, e.field, i), t
            return result
        except (KeyError, TypeError) as e:
            result.error = ShapeError(f"Layer {i + 1} ({t}) is missing or has a bad setting: {e}.", None, i)
            result.error_type = t
            return result
        result.rows.append(StackRow(i, t, _label(t, d), shape, params, rf, jump))
    return result
