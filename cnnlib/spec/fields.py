"""Layer field definitions and validation for model specs: caps, layer types, SpecError.

What every layer type takes (`FIELDS`: name, kind, default, a hint for students), the caps that
keep one classroom server alive, `SpecError` (the one error a spec raises, naming the layer and
field at fault), and the checks that turn a raw JSON value into a field's validated value, with
messages a student can act on. Also the small pair/shape helpers the other spec modules share.
No torch here: this is plain data and plain checks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_PARAMS",
    "MAX_LAYERS",
    "BLOCK_TYPES",
    "MAX_INT_FIELD",
    "MAX_INPUT_CHANNELS",
    "MAX_INPUT_SIDE",
    "LAYER_TYPES",
    "LAYER_DOCS",
    "SHAPE_KEEPING",
    "AUTO",
    "FieldInfo",
    "FIELDS",
    "SpecError",
]


# ----------------------------------------------------------------------------------------------
# Caps: one small server serves a whole class.
MAX_PARAMS = 50_000_000  # parameters in one model
MAX_ACTIVATION_BYTES = 1_000_000_000  # forward activations of one image (float32), 1 GB
MAX_LAYERS = 100
MAX_INT_FIELD = 1_000_000  # any single whole-number field
MAX_INPUT_CHANNELS = 64
MAX_INPUT_SIDE = 1024
MIN_INPUT_SIDE = 2
MAX_JSON_BYTES = 1_000_000
BYTES_PER_VALUE = 4  # float32

LAYER_TYPES: list[str] = [
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "BatchNorm2d",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Dropout",
    "Dropout2d",
    "Flatten",
    "Linear",
    "Residual",
]
BLOCK_TYPES = {"Residual"}  # layers that hold layers (one level deep: never a block inside a block)
NOT_IN_BLOCK = {"Flatten", "Linear", *BLOCK_TYPES}  # a block's inner layers keep a feature map

# One line per layer type, for students.
LAYER_DOCS: dict[str, str] = {
    "Conv2d": "Slides out_channels learned kernels over the feature map; each output channel is one kernel's "
    "response (a feature detector).",
    "MaxPool2d": "Keeps the largest value in each window: halves the height and width with a 2x2 window, "
    "no parameters.",
    "AvgPool2d": "Averages each window: shrinks the feature map smoothly, no parameters.",
    "AdaptiveAvgPool2d": "Averages down to a fixed output size whatever the input size (1 = global average "
    "pooling).",
    "BatchNorm2d": "Normalises each channel over the batch, then scales and shifts it (2 parameters per "
    "channel): training gets faster and steadier.",
    "ReLU": "Keeps positive values, sets negatives to 0: the non-linearity that lets layers stack.",
    "LeakyReLU": "Like ReLU but lets a small slope through for negatives, so no unit goes silent for good.",
    "Sigmoid": "Squashes every value into (0, 1).",
    "Tanh": "Squashes every value into (-1, 1); LeNet-5 used it.",
    "Dropout": "While training, zeroes each value with probability p (and scales the rest): fights "
    "overfitting. Does nothing at test time.",
    "Dropout2d": "While training, zeroes whole channels of a feature map with probability p.",
    "Flatten": "Lays a C x H x W feature map out as one vector of C*H*W numbers, so Linear layers can "
    "read it.",
    "Linear": "Every output is a weighted sum of every input (a fully connected layer): in_features x "
    "out_features weights plus a bias each.",
    "Residual": "A skip connection (ResNet): adds the block's input to what its inner layers compute, so "
    "a layer only has to learn a correction. When the inner layers change the channels or the size, the "
    "input goes through a 1x1 convolution (with a stride) and a BatchNorm first, as in torchvision's ResNet.",
}

IMAGE_LAYERS = {
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "BatchNorm2d",
    "Dropout2d",
    "Residual",
}
SHAPE_KEEPING = {"ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Dropout", "Dropout2d", "BatchNorm2d"}
AUTO = "auto"
_REQUIRED = object()


@dataclass(frozen=True)
class FieldInfo:
    """One field of a layer type: its name, kind, default (None when required) and a hint."""

    name: str
    kind: (
        str  # "int", "auto_int", "pair", "nonneg_pair", "conv_padding", "opt_pair", "bool", "prob", "float",
    )
    # or "layers" (a block's inner layers: a list of layer objects, checked by cnnlib.spec.model)
    default: Any
    required: bool
    help: str


def _f(name: str, kind: str, default: Any, help: str) -> FieldInfo:
    return FieldInfo(name, kind, None if default is _REQUIRED else default, default is _REQUIRED, help)


_POOL_FIELDS = [
    _f("kernel_size", "pair", _REQUIRED, "window size: an int or [h, w]"),
    _f("stride", "opt_pair", None, "step between windows; null (the default) means equal to kernel_size"),
    _f("padding", "nonneg_pair", 0, "zeros added on each side; at most half the kernel"),
    _f("ceil_mode", "bool", False, "round the output size up instead of down"),
]
FIELDS: dict[str, list[FieldInfo]] = {
    "Conv2d": [
        _f("in_channels", "auto_int", AUTO, '"auto" or the channels arriving'),
        _f("out_channels", "int", _REQUIRED, "number of kernels = output channels"),
        _f("kernel_size", "pair", _REQUIRED, "kernel size: an int or [h, w]"),
        _f("stride", "pair", 1, "step of the kernel"),
        _f("padding", "conv_padding", 0, 'zeros on each side: an int, [h, w], "same" or "valid"'),
        _f("dilation", "pair", 1, "spacing between kernel taps"),
        _f("bias", "bool", True, "add a learned bias per output channel"),
    ],
    "MaxPool2d": _POOL_FIELDS,
    "AvgPool2d": _POOL_FIELDS,
    "AdaptiveAvgPool2d": [_f("output_size", "pair", _REQUIRED, "output height and width: an int or [h, w]")],
    "BatchNorm2d": [_f("num_features", "auto_int", AUTO, '"auto" or the channels arriving')],
    "ReLU": [],
    "LeakyReLU": [_f("negative_slope", "float", 0.01, "slope for negative inputs")],
    "Sigmoid": [],
    "Tanh": [],
    "Dropout": [_f("p", "prob", 0.5, "probability of zeroing a value, 0 to 1")],
    "Dropout2d": [_f("p", "prob", 0.5, "probability of zeroing a channel, 0 to 1")],
    "Flatten": [],
    "Linear": [
        _f("in_features", "auto_int", AUTO, '"auto" or the number of features arriving'),
        _f("out_features", "int", _REQUIRED, "number of outputs"),
        _f("bias", "bool", True, "add a learned bias per output"),
    ],
    "Residual": [
        _f("layers", "layers", _REQUIRED, 'the inner layers, a JSON list like [{"type": "Conv2d", ...}, ...]')
    ],
}

DEFAULT_LAYERS: dict[str, dict[str, Any]] = {
    "Conv2d": {"out_channels": 8, "kernel_size": 3, "padding": 1},
    "MaxPool2d": {"kernel_size": 2},
    "AvgPool2d": {"kernel_size": 2},
    "AdaptiveAvgPool2d": {"output_size": 1},
    "Linear": {"out_features": 10},
    # torchvision's BasicBlock without its last ReLU (add one after the block): conv-BN-ReLU-conv-BN
    "Residual": {
        "layers": [
            {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1, "bias": False},
            {"type": "BatchNorm2d"},
            {"type": "ReLU"},
            {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1, "bias": False},
            {"type": "BatchNorm2d"},
        ]
    },
}


class SpecError(ValueError):
    """A spec that cannot run, explained in words.

    layer_index: the index of the layer at fault (None: the input or the file as a whole);
    layer_type: its type when known; field: the field at fault when known;
    fix: an optional one-click repair for `apply_fix` (a dict with "kind" and "label").
    """

    def __init__(
        self,
        message: str,
        layer_index: int | None = None,
        layer_type: str | None = None,
        field: str | None = None,
        fix: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.layer_index = layer_index
        self.layer_type = layer_type
        self.field = field
        self.fix = fix


# ----------------------------------------------------------------------------------------------
# Field validation


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt_num(value: float) -> str:
    """A number for a message: 12 -> "12", 10**30 -> "1e+30" (never hundreds of digits)."""
    if abs(value) < 10**12:
        return str(value) if isinstance(value, int) else f"{value:.12g}"
    return f"{value:.3g}"


def describe_bad(value: Any) -> str:
    """A wrong value in words, short enough for a message whatever its size or nesting."""
    if isinstance(value, str):
        return f'the text "{_clip(value)}"' + (" (remove the quotes)" if _looks_numeric(value) else "")
    if isinstance(value, bool):
        return f"{json.dumps(value)} (a true/false value)"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return _fmt_num(value)
    if isinstance(value, (list, tuple, dict)):
        try:
            text = json.dumps(value)
        except (RecursionError, TypeError, ValueError):
            return "a deeply nested list" if isinstance(value, (list, tuple)) else "a deeply nested object"
        return _clip(text)
    return _clip(repr(value))


def _looks_numeric(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def as_int(
    value: Any, where: str, name: str, minimum: int, maximum: int, idx: int | None, t: str | None
) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool)
    if (
        isinstance(value, float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value == int(value)
    ):
        value, ok = int(value), True
    if not ok:
        raise SpecError(
            f"{where}: {name} must be a whole number like 3, not {describe_bad(value)}.", idx, t, name
        )
    if value < minimum or value > maximum:
        lo = f"at least {minimum}"
        raise SpecError(
            f"{where}: {name} must be {lo}"
            + (f" and at most {maximum:,}" if value > maximum else "")
            + f", got {_fmt_num(value)}.",
            idx,
            t,
            name,
        )
    return value


def _as_pair(
    value: Any, where: str, name: str, minimum: int, idx: int | None, t: str | None
) -> int | list[int]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise SpecError(
                f"{where}: {name} must be one number or a pair [height, width], got {len(value)} values.",
                idx,
                t,
                name,
            )
        h = as_int(value[0], where, f"{name} (height)", minimum, MAX_INT_FIELD, idx, t)
        w = as_int(value[1], where, f"{name} (width)", minimum, MAX_INT_FIELD, idx, t)
        return h if h == w else [h, w]
    return as_int(value, where, name, minimum, MAX_INT_FIELD, idx, t)


def check_field(info: FieldInfo, value: Any, where: str, idx: int | None, t: str) -> Any:
    k, n = info.kind, info.name
    if k == "int":
        return as_int(value, where, n, 1, MAX_INT_FIELD, idx, t)
    if k == "auto_int":
        if isinstance(value, str) and value.strip().lower() == AUTO:
            return AUTO
        if value is None:
            return AUTO
        try:  # what arrives can exceed MAX_INT_FIELD (a flattened 3 x 1024 x 1024 image); MAX_PARAMS caps it
            return as_int(value, where, n, 1, MAX_PARAMS, idx, t)
        except SpecError as e:
            raise SpecError(e.message[:-1] + ' (or "auto").', idx, t, n) from None
    if k == "pair":
        return _as_pair(value, where, n, 1, idx, t)
    if k == "nonneg_pair":
        return _as_pair(value, where, n, 0, idx, t)
    if k == "opt_pair":
        return None if value is None else _as_pair(value, where, n, 1, idx, t)
    if k == "conv_padding":
        if isinstance(value, str) and value.strip().lower() in ("same", "valid"):
            return value.strip().lower()
        if isinstance(value, str) and not _looks_numeric(value):
            raise SpecError(
                f'{where}: padding must be a whole number, [h, w], "same" or "valid", not '
                f"{describe_bad(value)}.",
                idx,
                t,
                n,
            )
        return _as_pair(value, where, n, 0, idx, t)
    if k == "bool":
        if not isinstance(value, bool):
            raise SpecError(f"{where}: {n} must be true or false, not {describe_bad(value)}.", idx, t, n)
        return value
    if k in ("prob", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SpecError(f"{where}: {n} must be a number like 0.5, not {describe_bad(value)}.", idx, t, n)
        if k == "prob" and not 0 <= value <= 1:
            raise SpecError(
                f"{where}: {n} is a probability and must lie between 0 and 1, got {_fmt_num(value)}.",
                idx,
                t,
                n,
            )
        if k == "float" and abs(value) > 1e6:
            raise SpecError(f"{where}: {n} must lie between -1e6 and 1e6, got {_fmt_num(value)}.", idx, t, n)
        return float(value)
    raise AssertionError(k)  # pragma: no cover


# ----------------------------------------------------------------------------------------------
# Pair and shape helpers shared by the spec modules


def as_pair(v: int | list[int] | tuple[int, int]) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (list, tuple)) else (int(v), int(v))


def squeeze_pair(p: tuple[int, int]) -> int | tuple[int, int]:
    return p[0] if p[0] == p[1] else (p[0], p[1])


def fmt_pair(v: Any) -> str:
    h, w = as_pair(v)
    return f"{h}x{w}"


def fmt_shape(shape: tuple[int, ...]) -> str:
    return " x ".join(str(s) for s in shape)
