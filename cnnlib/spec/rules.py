"""What a layer needs before it can run, checked in words a student can act on.

The input's size and channels, a layer's input rank (a feature map or a flat vector), channel and
feature counts that must match the layer before, and settings PyTorch refuses (padding "same" with
a stride, pooling padding over half the window, windows bigger than the feature map). Each problem
is a `SpecError` naming the layer (numbered from 1, as students count, in every message and fix
label; `layer_index` stays 0-based), with a one-click `fix` for `apply_fix` where one exists;
`cnnlib.spec.analysis` asks here before it runs the real layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cnnlib.spec.fields import (
    AUTO,
    IMAGE_LAYERS,
    MAX_INPUT_CHANNELS,
    MAX_INPUT_SIDE,
    MIN_INPUT_SIDE,
    SpecError,
    as_pair,
    fmt_pair,
    fmt_shape,
    squeeze_pair,
)
from cnnlib.spec.model import LayerSpec

__all__: list[str] = []


def fix_set_field(index: int, name: str, value: Any, why: str = "") -> dict[str, Any]:
    """A one-click fix that sets field `name` of layer `index` (0-based; its label counts from 1)."""
    return {
        "kind": "set_field",
        "layer": index,
        "field": name,
        "value": value,
        "label": f"Set {name} of layer {index + 1} to {value}{why}",
    }


def fix_auto(index: int, name: str, got: int, unit: str) -> dict[str, Any]:
    """The fix for an explicit count that no longer matches what arrives: back to auto, so the next
    change before it cannot break the layer again (not a pinned number)."""
    return {
        **fix_set_field(index, name, AUTO, f" (it follows what arrives: {got:,} {unit} now)"),
        "arrives": got,
    }


def fix_input(shape: list[int]) -> dict[str, Any]:
    return {
        "kind": "set_input",
        "input_shape": shape,
        "label": f"Set the input to {fmt_shape(tuple(shape))}",
    }


def input_error(input_shape: Sequence[int]) -> SpecError | None:
    """The problem with an input shape [C, H, W], or None when a CNN can take it."""
    c, h, w = input_shape
    if not (1 <= c <= MAX_INPUT_CHANNELS):
        return SpecError(
            f"The input has {c} channels; use 1 (grey) or 3 (colour), at most {MAX_INPUT_CHANNELS}.",
            field="input_shape",
        )
    if h < MIN_INPUT_SIDE or w < MIN_INPUT_SIDE:
        return SpecError(
            f"The input is {h} x {w} pixels: a CNN slides kernels over an image, so it needs at least "
            f"{MIN_INPUT_SIDE} x {MIN_INPUT_SIDE}. Set the height and width to 2 or more (28 x 28 for "
            "MNIST, 32 x 32 for CIFAR-10).",
            field="input_shape",
            fix=fix_input([c, 28, 28] if c == 1 else [c, 32, 32]),
        )
    if h > MAX_INPUT_SIDE or w > MAX_INPUT_SIDE:
        return SpecError(
            f"The input is {h} x {w} pixels; this app caps images at {MAX_INPUT_SIDE} x {MAX_INPUT_SIDE}.",
            field="input_shape",
            fix=fix_input([c, min(h, MAX_INPUT_SIDE), min(w, MAX_INPUT_SIDE)]),
        )
    return None


def problem(i: int, t: str, msg: str, fld: str | None = None, fix: dict[str, Any] | None = None) -> SpecError:
    """The SpecError of layer `i` (of type `t`): its message, the field at fault, the one-click fix."""
    return SpecError(msg, i, t, fld, fix)


def layer_error(
    i: int,
    layer: LayerSpec,
    shape: tuple[int, ...],
    resolved: dict[str, Any],
    flat_origin: tuple[tuple[int, ...], int] | None,
    last_flatten: int | None,
    only_shape_keeping_since_flatten: bool,
) -> SpecError | None:
    """The problem that stops layer `i` from running on a `shape` input, or None.

    Fills `resolved` with the in_channels / num_features / in_features that "auto" stands for.
    flat_origin: the feature-map shape and index of the Flatten that made the current vector;
    last_flatten: the last Flatten's index; only_shape_keeping_since_flatten: nothing but
    shape-keeping layers (ReLU, Dropout, ...) since it, so moving a layer before it is safe.
    """
    return (
        rank_error(i, layer, shape, flat_origin, last_flatten, only_shape_keeping_since_flatten)
        or inputs_error(i, layer, shape, resolved, flat_origin)
        or window_error(i, layer, shape)
    )


def rank_error(
    i: int,
    layer: LayerSpec,
    shape: tuple[int, ...],
    flat_origin: tuple[tuple[int, ...], int] | None,
    last_flatten: int | None,
    only_shape_keeping_since_flatten: bool,
) -> SpecError | None:
    """A layer that needs a feature map [C, H, W] but gets a flat vector, or the other way round."""
    t, p = layer.type, layer.params
    where = f"{t} (layer {i + 1})"
    if t in IMAGE_LAYERS and len(shape) != 3:
        n = shape[0]
        origin = ""
        if flat_origin is not None:
            origin = f" (the Flatten at layer {flat_origin[1] + 1} turned the feature map into a vector)"
        what = "a feature map [C, H, W]"
        fix: dict[str, Any] | None
        if t == "Dropout2d":
            fix = {
                "kind": "replace",
                "index": i,
                "layer": {"type": "Dropout", "p": p["p"]},
                "label": f"Replace layer {i + 1} with Dropout(p={p['p']:g})",
            }
            return problem(
                i,
                t,
                f"{where} drops whole channels of {what}, but receives a flat vector of {n} "
                f"features{origin}: use Dropout after Flatten.",
                None,
                fix,
            )
        fix = None
        if last_flatten is not None and only_shape_keeping_since_flatten:
            fix = {
                "kind": "move",
                "index": i,
                "to": last_flatten,
                "label": f"Move layer {i + 1} before the Flatten (layer {last_flatten + 1})",
            }
        elif last_flatten is not None:
            fix = {"kind": "remove", "index": i, "label": f"Remove layer {i + 1} ({t})"}
        return problem(
            i,
            t,
            f"{where} needs {what} but receives a flat vector of {n} features{origin}: "
            f"move it before the Flatten" + (" or remove it." if fix else "."),
            None,
            fix,
        )
    if t == "Linear" and len(shape) != 1:
        return problem(
            i,
            t,
            f"{where} needs a flat vector of features but receives a feature map of shape {fmt_shape(shape)}: "
            "insert a Flatten before it.",
            None,
            {
                "kind": "insert",
                "index": i,
                "layer": {"type": "Flatten"},
                "label": f"Insert a Flatten before layer {i + 1}",
            },
        )
    return None


def inputs_error(
    i: int,
    layer: LayerSpec,
    shape: tuple[int, ...],
    resolved: dict[str, Any],
    flat_origin: tuple[tuple[int, ...], int] | None,
) -> SpecError | None:
    """in_channels / num_features / in_features that don't match what arrives; fills `resolved`
    with what "auto" stands for."""
    t, p = layer.type, layer.params
    where = f"{t} (layer {i + 1})"
    if t == "Conv2d":
        got = shape[0]
        if p["in_channels"] == AUTO:
            resolved["in_channels"] = got
        elif p["in_channels"] != got:
            return problem(
                i,
                t,
                f"{where} expects {p['in_channels']} input channels but receives {got}: "
                f"set in_channels back to auto (it follows what arrives) or to {got}.",
                "in_channels",
                fix_auto(i, "in_channels", got, "channels"),
            )
    elif t == "BatchNorm2d":
        got = shape[0]
        if p["num_features"] == AUTO:
            resolved["num_features"] = got
        elif p["num_features"] != got:
            return problem(
                i,
                t,
                f"{where} expects {p['num_features']} channels (num_features) but receives {got}: "
                f"set num_features back to auto (it follows what arrives) or to {got}.",
                "num_features",
                fix_auto(i, "num_features", got, "channels"),
            )
    elif t == "Linear":
        got = shape[0]
        if p["in_features"] == AUTO:
            resolved["in_features"] = got
        elif p["in_features"] != got:
            origin = f" ({fmt_shape(flat_origin[0])})" if flat_origin is not None else ""
            return problem(
                i,
                t,
                f"{where} expects {p['in_features']} input features but receives {got}{origin}: "
                f"set in_features back to auto (it follows what arrives) or to {got}.",
                "in_features",
                fix_auto(i, "in_features", got, "features"),
            )
    return None


def window_error(i: int, layer: LayerSpec, shape: tuple[int, ...]) -> SpecError | None:
    """Settings torch refuses, and windows bigger than the feature map."""
    if layer.type == "Conv2d":
        return conv_window_error(i, layer, shape)
    if layer.type in ("MaxPool2d", "AvgPool2d"):
        return pool_window_error(i, layer, shape)
    return None


def conv_window_error(i: int, layer: LayerSpec, shape: tuple[int, ...]) -> SpecError | None:
    """A Conv2d's padding "same" with a stride, or a kernel bigger than the padded feature map."""
    t, p = layer.type, layer.params
    where = f"{t} (layer {i + 1})"
    k, d = as_pair(p["kernel_size"]), as_pair(p["dilation"])
    eff = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    pad = p["padding"]
    if pad == "same" and as_pair(p["stride"]) != (1, 1):
        good = squeeze_pair(((eff[0] - 1) // 2, (eff[1] - 1) // 2))
        return problem(
            i,
            t,
            f'{where}: padding "same" only works with stride 1 (PyTorch refuses it for strided '
            f"convolutions): use a number, e.g. padding {good}, or stride 1.",
            "padding",
            fix_set_field(i, "padding", list(good) if isinstance(good, tuple) else good),
        )
    pd = (0, 0) if pad in ("same", "valid") else as_pair(pad)
    if pad != "same" and (shape[1] + 2 * pd[0] < eff[0] or shape[2] + 2 * pd[1] < eff[1]):
        good = ((eff[0] - 1) // 2, (eff[1] - 1) // 2)
        fix = None
        if shape[1] + 2 * good[0] >= eff[0] and shape[2] + 2 * good[1] >= eff[1] and good != pd:
            fix = fix_set_field(
                i,
                "padding",
                squeeze_pair(good) if not isinstance(squeeze_pair(good), tuple) else list(good),
            )
        kern = fmt_pair(p["kernel_size"]) + (f" (dilation {fmt_pair(p['dilation'])})" if d != (1, 1) else "")
        return problem(
            i,
            t,
            f"{where} receives a feature map of only {shape[1]} x {shape[2]} pixels, too small for its {kern} kernel "
            f"with padding {pd[0] if pd[0] == pd[1] else list(pd)}: the output would have no pixels. "
            "Add padding, use a smaller kernel, or remove a pooling layer before it.",
            "kernel_size",
            fix,
        )
    return None


def pool_window_error(i: int, layer: LayerSpec, shape: tuple[int, ...]) -> SpecError | None:
    """A pool's padding over half its window, or a window bigger than the padded feature map."""
    t, p = layer.type, layer.params
    where = f"{t} (layer {i + 1})"
    k, pd = as_pair(p["kernel_size"]), as_pair(p["padding"])
    if pd[0] > k[0] // 2 or pd[1] > k[1] // 2:
        good = squeeze_pair((k[0] // 2, k[1] // 2))
        return problem(
            i,
            t,
            f"{where}: padding {p['padding']} is more than half the {fmt_pair(p['kernel_size'])} "
            f"window (PyTorch allows at most {good}).",
            "padding",
            fix_set_field(i, "padding", list(good) if isinstance(good, tuple) else good),
        )
    if shape[1] + 2 * pd[0] < k[0] or shape[2] + 2 * pd[1] < k[1]:
        return problem(
            i,
            t,
            f"{where} receives a feature map of only {shape[1]} x {shape[2]} pixels, smaller than its "
            f"{fmt_pair(p['kernel_size'])} window: the output would have no pixels. Remove this layer, "
            "use a smaller window, or start from a bigger input.",
            "kernel_size",
            {"kind": "remove", "index": i, "label": f"Remove layer {i + 1} ({t})"},
        )
    return None
