"""Model specs: a CNN as JSON-able data, checked layer by layer against PyTorch itself.

A `ModelSpec` is an input shape [C, H, W] plus an ordered list of `LayerSpec`s whose fields use
torch's constructor argument names, e.g.

    {"input_shape": [1, 28, 28],
     "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}, ...]}

`summarize` runs every real layer on the meta device (no memory, no arithmetic), so each output
shape is PyTorch's own; `build_model` returns the `nn.Sequential` (children named "0", "1", ...,
the indices into `spec.layers`). Anything that cannot run raises `SpecError` naming the layer,
with a message a student can act on and, where one exists, a one-click `fix` for `apply_fix`.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from cnnlib.shapes import receptive_field_step

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
]

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
}

IMAGE_LAYERS = {"Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d", "Dropout2d"}
SHAPE_KEEPING = {"ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Dropout", "Dropout2d", "BatchNorm2d"}
AUTO = "auto"
_REQUIRED = object()


@dataclass(frozen=True)
class FieldInfo:
    """One field of a layer type: its name, kind, default (None when required) and a hint."""

    name: str
    kind: str  # "int", "auto_int", "pair", "nonneg_pair", "conv_padding", "opt_pair", "bool", "prob", "float"
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
}

_DEFAULT_LAYERS: dict[str, dict[str, Any]] = {
    "Conv2d": {"out_channels": 8, "kernel_size": 3, "padding": 1},
    "MaxPool2d": {"kernel_size": 2},
    "AvgPool2d": {"kernel_size": 2},
    "AdaptiveAvgPool2d": {"output_size": 1},
    "Linear": {"out_features": 10},
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


def _where(layer_type: str | None, index: int | None) -> str:
    if index is None:
        return "The input"
    return f"{layer_type} (layer {index})" if layer_type else f"Layer {index}"


# ----------------------------------------------------------------------------------------------
# Field validation


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt_num(value: float) -> str:
    """A number for a message: 12 -> "12", 10**30 -> "1e+30" (never hundreds of digits)."""
    if abs(value) < 10**12:
        return str(value) if isinstance(value, int) else f"{value:.12g}"
    return f"{value:.3g}"


def _describe_bad(value: Any) -> str:
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


def _as_int(
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
            f"{where}: {name} must be a whole number like 3, not {_describe_bad(value)}.", idx, t, name
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
        h = _as_int(value[0], where, f"{name} (height)", minimum, MAX_INT_FIELD, idx, t)
        w = _as_int(value[1], where, f"{name} (width)", minimum, MAX_INT_FIELD, idx, t)
        return h if h == w else [h, w]
    return _as_int(value, where, name, minimum, MAX_INT_FIELD, idx, t)


def _check_field(info: FieldInfo, value: Any, where: str, idx: int | None, t: str) -> Any:
    k, n = info.kind, info.name
    if k == "int":
        return _as_int(value, where, n, 1, MAX_INT_FIELD, idx, t)
    if k == "auto_int":
        if isinstance(value, str) and value.strip().lower() == AUTO:
            return AUTO
        if value is None:
            return AUTO
        try:  # what arrives can exceed MAX_INT_FIELD (a flattened 3 x 1024 x 1024 image); MAX_PARAMS caps it
            return _as_int(value, where, n, 1, MAX_PARAMS, idx, t)
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
                f"{_describe_bad(value)}.",
                idx,
                t,
                n,
            )
        return _as_pair(value, where, n, 0, idx, t)
    if k == "bool":
        if not isinstance(value, bool):
            raise SpecError(f"{where}: {n} must be true or false, not {_describe_bad(value)}.", idx, t, n)
        return value
    if k in ("prob", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SpecError(f"{where}: {n} must be a number like 0.5, not {_describe_bad(value)}.", idx, t, n)
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
# LayerSpec and ModelSpec


@dataclass(frozen=True)
class LayerSpec:
    """One layer: its type (a name in LAYER_TYPES) and its complete, validated fields."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any, index: int | None = None) -> LayerSpec:
        """Validate a layer dict ({"type": ..., fields...}); missing optional fields get defaults."""
        where_idx = f"Layer {index}" if index is not None else "The layer"
        if not isinstance(d, dict):
            raise SpecError(
                f'{where_idx} must be an object like {{"type": "ReLU"}}, not {_describe_bad(d)}.', index
            )
        t = d.get("type")
        if t is None:
            raise SpecError(f'{where_idx} has no "type": add e.g. "type": "Conv2d".', index, field="type")
        if not isinstance(t, str) or t not in FIELDS:
            hint = ""
            if isinstance(t, str):
                close = difflib.get_close_matches(t, LAYER_TYPES, n=1, cutoff=0.5)
                lower = {x.lower(): x for x in LAYER_TYPES}
                if t.lower() in lower:
                    close = [lower[t.lower()]]
                hint = f' Did you mean "{close[0]}"?' if close else ""
            raise SpecError(
                f"{where_idx} has an unknown type {json.dumps(t) if isinstance(t, str) else _describe_bad(t)}."
                f"{hint} Supported layer types: " + ", ".join(LAYER_TYPES) + ".",
                index,
                field="type",
            )
        where = f"{t} (layer {index})" if index is not None else t
        infos = {f.name: f for f in FIELDS[t]}
        unknown = [k for k in d if k != "type" and k not in infos]
        if unknown:
            known = ", ".join(infos) if infos else "none"
            raise SpecError(
                f'{where} has no field "{unknown[0]}". Its fields are: {known}.', index, t, unknown[0]
            )
        params: dict[str, Any] = {}
        for info in FIELDS[t]:
            if info.name not in d:
                if info.required:
                    raise SpecError(
                        f'{where} needs the field "{info.name}" ({info.help}).', index, t, info.name
                    )
                params[info.name] = copy.deepcopy(info.default)
            else:
                params[info.name] = _check_field(info, d[info.name], where, index, t)
        return cls(t, params)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **copy.deepcopy(self.params)}

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


@dataclass(frozen=True)
class ModelSpec:
    """An input shape (C, H, W) and an ordered tuple of layers. Immutable: edits return new specs."""

    input_shape: tuple[int, int, int]
    layers: tuple[LayerSpec, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(v) for v in self.input_shape))
        object.__setattr__(self, "layers", tuple(self.layers))

    @classmethod
    def from_dict(cls, d: Any) -> ModelSpec:
        """Validate a spec dict: {"input_shape": [C, H, W], "layers": [...]}. Raises SpecError."""
        example = '{"input_shape": [1, 28, 28], "layers": [{"type": "Conv2d", ...}, ...]}'
        if not isinstance(d, dict):
            raise SpecError(f"A model spec must be a JSON object like {example}, not {_describe_bad(d)}.")
        unknown = [k for k in d if k not in ("input_shape", "layers", "name", "description")]
        if unknown:
            raise SpecError(
                f'A model spec has the keys "input_shape" and "layers"; "{unknown[0]}" is not one.'
            )
        for key in ("input_shape", "layers"):
            if key not in d:
                raise SpecError(f'The model spec has no "{key}": it must look like {example}.')
        shape = d["input_shape"]
        if not isinstance(shape, (list, tuple)) or len(shape) != 3:
            raise SpecError(
                f"input_shape must be three numbers [channels, height, width] like [1, 28, 28], "
                f"not {_describe_bad(shape)}.",
                field="input_shape",
            )
        names = ("channels", "height", "width")
        c, h, w = (
            _as_int(v, "The input shape [C, H, W]", n, 1, MAX_INT_FIELD, None, None)
            for v, n in zip(shape, names, strict=True)
        )
        layers = d["layers"]
        if not isinstance(layers, (list, tuple)):
            raise SpecError(f'"layers" must be a list of layer objects, not {_describe_bad(layers)}.')
        if len(layers) > MAX_LAYERS:
            raise SpecError(
                f"The model has {len(layers)} layers; this app caps models at {MAX_LAYERS} layers."
            )
        return cls((c, h, w), tuple(LayerSpec.from_dict(layer, i) for i, layer in enumerate(layers)))

    def to_dict(self) -> dict[str, Any]:
        return {"input_shape": list(self.input_shape), "layers": [layer.to_dict() for layer in self.layers]}

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelSpec:
        """Parse JSON text (or the bytes of an uploaded file). Raises SpecError on anything wrong."""
        if isinstance(text, (bytes, bytearray)):
            if len(text) > MAX_JSON_BYTES:
                raise SpecError(
                    f"The file is {len(text):,} bytes; a model spec is at most {MAX_JSON_BYTES:,}."
                )
            try:
                text = bytes(text).decode("utf-8-sig")
            except UnicodeDecodeError:
                raise SpecError(
                    "The file is not UTF-8 text, so it is not a model spec: upload a .json file like the "
                    "one the Download model_spec.json button saves."
                ) from None
        if not isinstance(text, str):
            raise SpecError("A model spec must be JSON text.")
        if len(text) > MAX_JSON_BYTES:
            raise SpecError(
                f"The text is {len(text):,} characters; a model spec is at most {MAX_JSON_BYTES:,}."
            )
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(
                f"This is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}). "
                "Download a spec from this page to see the format."
            ) from None
        except RecursionError:
            raise SpecError("This JSON is nested too deeply to be a model spec.") from None
        except ValueError:  # e.g. a number with thousands of digits (Python refuses to read it)
            raise SpecError(
                "This JSON holds a number with thousands of digits; a model spec's numbers are small "
                "whole numbers like 3 or 64."
            ) from None
        return cls.from_dict(data)

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text. indent=None: one compact line; otherwise one layer per line, easy to read and edit."""
        if indent is None:
            return json.dumps(self.to_dict())
        pad = " " * indent
        layers = [json.dumps(layer.to_dict()) for layer in self.layers]
        body = ("[\n" + ",\n".join(f"{pad}{pad}{x}" for x in layers) + f"\n{pad}]") if layers else "[]"
        return f'{{\n{pad}"input_shape": {json.dumps(list(self.input_shape))},\n{pad}"layers": {body}\n}}'


def default_layer(layer_type: str) -> LayerSpec:
    """A layer of this type with classroom-friendly defaults (Conv2d: 8 channels, 3x3, padding 1)."""
    return LayerSpec.from_dict({"type": layer_type, **_DEFAULT_LAYERS.get(layer_type, {})})


def _to_layer(layer: LayerSpec | dict[str, Any] | str, index: int | None = None) -> LayerSpec:
    if isinstance(layer, LayerSpec):
        return LayerSpec.from_dict(layer.to_dict(), index)
    if isinstance(layer, str):
        if layer not in FIELDS:
            LayerSpec.from_dict({"type": layer}, index)  # raises the unknown-type message
        return default_layer(layer)
    return LayerSpec.from_dict(layer, index)


# ----------------------------------------------------------------------------------------------
# Editing: every helper returns a new spec.


def _check_index(spec: ModelSpec, index: int, allow_end: bool = False) -> int:
    n = len(spec.layers) + (1 if allow_end else 0)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
        raise SpecError(f"There is no layer {index}: the model has {len(spec.layers)} layers.", None)
    return index


def add_layer(
    spec: ModelSpec, layer: LayerSpec | dict[str, Any] | str, index: int | None = None
) -> ModelSpec:
    """Insert a layer (a LayerSpec, a dict, or a type name for its defaults) at index (end if None)."""
    index = len(spec.layers) if index is None else _check_index(spec, index, allow_end=True)
    if len(spec.layers) >= MAX_LAYERS:
        raise SpecError(f"This app caps models at {MAX_LAYERS} layers.")
    new = list(spec.layers)
    new.insert(index, _to_layer(layer, index))
    return ModelSpec(spec.input_shape, tuple(new))


def remove_layer(spec: ModelSpec, index: int) -> ModelSpec:
    """The spec without layer `index`."""
    _check_index(spec, index)
    return ModelSpec(spec.input_shape, spec.layers[:index] + spec.layers[index + 1 :])


def move_layer(spec: ModelSpec, index: int, to: int) -> ModelSpec:
    """Move layer `index` so that it ends up at position `to` (clamped to the list)."""
    _check_index(spec, index)
    to = max(0, min(len(spec.layers) - 1, to))
    new = list(spec.layers)
    new.insert(to, new.pop(index))
    return ModelSpec(spec.input_shape, tuple(new))


def duplicate_layer(spec: ModelSpec, index: int) -> ModelSpec:
    """Insert a copy of layer `index` right after it."""
    _check_index(spec, index)
    return add_layer(spec, spec.layers[index], index + 1)


def replace_layer(spec: ModelSpec, index: int, layer: LayerSpec | dict[str, Any] | str) -> ModelSpec:
    """The spec with layer `index` replaced (validated like add_layer's layer)."""
    _check_index(spec, index)
    new = list(spec.layers)
    new[index] = _to_layer(layer, index)
    return ModelSpec(spec.input_shape, tuple(new))


def set_layer_field(spec: ModelSpec, index: int, name: str, value: Any) -> ModelSpec:
    """Set one field of layer `index` (validated; raises SpecError on a bad value)."""
    _check_index(spec, index)
    d = spec.layers[index].to_dict()
    d[name] = value
    return replace_layer(spec, index, d)


def set_input_shape(spec: ModelSpec, input_shape: Any) -> ModelSpec:
    """The spec with a new input shape [C, H, W] (validated; the layers are kept as they are)."""
    return ModelSpec.from_dict(
        {"input_shape": input_shape, "layers": [layer.to_dict() for layer in spec.layers]}
    )


def num_classes(spec: ModelSpec) -> int | None:
    """out_features of the last Linear layer (the number of class scores), or None without one."""
    for layer in reversed(spec.layers):
        if layer.type == "Linear":
            return int(layer.params["out_features"])
    return None


def set_num_classes(spec: ModelSpec, n: int) -> ModelSpec:
    """Set the last Linear layer's out_features to n. Raises SpecError when there is no Linear layer."""
    for i in range(len(spec.layers) - 1, -1, -1):
        if spec.layers[i].type == "Linear":
            return set_layer_field(spec, i, "out_features", n)
    raise SpecError(
        "The model has no Linear layer to output the class scores: add a Flatten and a Linear layer at the end."
    )


def apply_fix(spec: ModelSpec, fix: dict[str, Any]) -> ModelSpec:
    """Apply a SpecError's one-click fix: set_field, insert, remove, move or replace."""
    kind = fix.get("kind")
    if kind == "set_field":
        return set_layer_field(spec, fix["layer"], fix["field"], fix["value"])
    if kind == "insert":
        return add_layer(spec, fix["layer"], fix["index"])
    if kind == "remove":
        return remove_layer(spec, fix["index"])
    if kind == "move":
        return move_layer(spec, fix["index"], fix["to"])
    if kind == "replace":
        return replace_layer(spec, fix["index"], fix["layer"])
    if kind == "set_input":
        return set_input_shape(spec, fix["input_shape"])
    raise SpecError(f"Unknown fix {kind!r}.")


# ----------------------------------------------------------------------------------------------
# Analysis: run the real layers on the meta device.


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


def _pair(v: int | list[int] | tuple[int, int]) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (list, tuple)) else (int(v), int(v))


def _sq(p: tuple[int, int]) -> int | tuple[int, int]:
    return p[0] if p[0] == p[1] else (p[0], p[1])


def _torch_arg(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _fmt_pair(v: Any) -> str:
    h, w = _pair(v)
    return f"{h}x{w}"


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return " x ".join(str(s) for s in shape)


def format_shape(shape: tuple[int, ...]) -> str:
    """(8, 14, 14) -> "8 × 14 × 14"; (10,) -> "10"."""
    return " × ".join(str(s) for s in shape)


def layer_label(layer: LayerSpec, resolved: dict[str, Any] | None = None) -> str:
    """A short label like "Conv2d(1→4, 3x3, p=1)"; `resolved` supplies inferred in_* values."""
    p = {**layer.params, **(resolved or {})}
    t = layer.type
    if t == "Conv2d":
        parts = [f"{p['in_channels']}→{p['out_channels']}", _fmt_pair(p["kernel_size"])]
        if _pair(p["stride"]) != (1, 1):
            parts.append(f"s={_fmt_pair(p['stride']) if isinstance(p['stride'], list) else p['stride']}")
        pad = p["padding"]
        if isinstance(pad, str) or _pair(pad) != (0, 0):
            parts.append(f"p={pad if not isinstance(pad, list) else _fmt_pair(pad)}")
        if _pair(p["dilation"]) != (1, 1):
            parts.append(
                f"d={_fmt_pair(p['dilation']) if isinstance(p['dilation'], list) else p['dilation']}"
            )
        if not p["bias"]:
            parts.append("no bias")
        return f"Conv2d({', '.join(parts)})"
    if t in ("MaxPool2d", "AvgPool2d"):
        stride = p["stride"] if p["stride"] is not None else p["kernel_size"]
        parts = [
            _fmt_pair(p["kernel_size"]),
            f"s={stride if not isinstance(stride, list) else _fmt_pair(stride)}",
        ]
        if _pair(p["padding"]) != (0, 0):
            parts.append(
                f"p={p['padding'] if not isinstance(p['padding'], list) else _fmt_pair(p['padding'])}"
            )
        if p["ceil_mode"]:
            parts.append("ceil")
        return f"{t}({', '.join(parts)})"
    if t == "AdaptiveAvgPool2d":
        return f"AdaptiveAvgPool2d(→{_fmt_pair(p['output_size'])})"
    if t == "BatchNorm2d":
        return f"BatchNorm2d({p['num_features']})"
    if t == "LeakyReLU":
        return f"LeakyReLU({p['negative_slope']:g})"
    if t in ("Dropout", "Dropout2d"):
        return f"{t}(p={p['p']:g})"
    if t == "Linear":
        return f"Linear({p['in_features']}→{p['out_features']}{'' if p['bias'] else ', no bias'})"
    return t


def _torch_kwargs(layer: LayerSpec, resolved: dict[str, Any]) -> dict[str, Any]:
    """Constructor keyword arguments for torch.nn.<type>, with in_* resolved."""
    p = {**layer.params, **resolved}
    if layer.type in ("MaxPool2d", "AvgPool2d") and p["stride"] is None:
        p = {k: v for k, v in p.items() if k != "stride"}
    return {k: _torch_arg(v) for k, v in p.items()}


def _make_module(layer_type: str, kwargs: dict[str, Any]) -> nn.Module:
    return getattr(nn, layer_type)(**kwargs)


@dataclass
class _Analysis:
    summaries: list[LayerSummary]
    kwargs: list[dict[str, Any]]
    error: SpecError | None


def _fix_label_set(index: int, name: str, value: Any) -> dict[str, Any]:
    return {
        "kind": "set_field",
        "layer": index,
        "field": name,
        "value": value,
        "label": f"Set {name} of layer {index} to {value}",
    }


def _fix_input(shape: list[int]) -> dict[str, Any]:
    return {
        "kind": "set_input",
        "input_shape": shape,
        "label": f"Set the input to {_fmt_shape(tuple(shape))}",
    }


def _analyse_impl(spec: ModelSpec) -> _Analysis:
    out: list[LayerSummary] = []
    kwargs_list: list[dict[str, Any]] = []
    c, h, w = spec.input_shape
    if not (1 <= c <= MAX_INPUT_CHANNELS):
        return _Analysis(
            out,
            kwargs_list,
            SpecError(
                f"The input has {c} channels; use 1 (grey) or 3 (colour), at most {MAX_INPUT_CHANNELS}.",
                field="input_shape",
            ),
        )
    if h < MIN_INPUT_SIDE or w < MIN_INPUT_SIDE:
        return _Analysis(
            out,
            kwargs_list,
            SpecError(
                f"The input is {h} x {w} pixels: a CNN slides kernels over an image, so it needs at least "
                f"{MIN_INPUT_SIDE} x {MIN_INPUT_SIDE}. Set the height and width to 2 or more (28 x 28 for "
                "MNIST, 32 x 32 for CIFAR-10).",
                field="input_shape",
                fix=_fix_input([c, 28, 28] if c == 1 else [c, 32, 32]),
            ),
        )
    if h > MAX_INPUT_SIDE or w > MAX_INPUT_SIDE:
        return _Analysis(
            out,
            kwargs_list,
            SpecError(
                f"The input is {h} x {w} pixels; this app caps images at {MAX_INPUT_SIDE} x {MAX_INPUT_SIDE}.",
                field="input_shape",
                fix=_fix_input([c, min(h, MAX_INPUT_SIDE), min(w, MAX_INPUT_SIDE)]),
            ),
        )

    shape: tuple[int, ...] = (c, h, w)
    rf: tuple[int, int] | None = (1, 1)
    jump: tuple[int, int] | None = (1, 1)
    total_params = 0
    act_bytes = math.prod(shape) * BYTES_PER_VALUE
    flat_origin: tuple[tuple[int, ...], int] | None = None  # (feature-map shape, Flatten index)
    last_flatten: int | None = None
    only_shape_keeping_since_flatten = True

    for i, layer in enumerate(spec.layers):
        t = layer.type
        where = f"{t} (layer {i})"
        p = layer.params
        resolved: dict[str, Any] = {}

        def err(
            msg: str, fld: str | None = None, fix: dict[str, Any] | None = None, _i: int = i, _t: str = t
        ) -> _Analysis:
            return _Analysis(out, kwargs_list, SpecError(msg, _i, _t, fld, fix))

        # --- the input must have the right rank
        if t in IMAGE_LAYERS and len(shape) != 3:
            n = shape[0]
            origin = ""
            if flat_origin is not None:
                origin = f" (the Flatten at layer {flat_origin[1]} turned the feature map into a vector)"
            what = "a feature map [C, H, W]"
            if t == "Dropout2d":
                fix = {
                    "kind": "replace",
                    "index": i,
                    "layer": {"type": "Dropout", "p": p["p"]},
                    "label": f"Replace layer {i} with Dropout(p={p['p']:g})",
                }
                return err(
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
                    "label": f"Move layer {i} before the Flatten (layer {last_flatten})",
                }
            elif last_flatten is not None:
                fix = {"kind": "remove", "index": i, "label": f"Remove layer {i} ({t})"}
            return err(
                f"{where} needs {what} but receives a flat vector of {n} features{origin}: "
                f"move it before the Flatten" + (" or remove it." if fix else "."),
                None,
                fix,
            )
        if t == "Linear" and len(shape) != 1:
            return err(
                f"{where} needs a flat vector of features but receives a feature map of shape {_fmt_shape(shape)}: "
                "insert a Flatten before it.",
                None,
                {
                    "kind": "insert",
                    "index": i,
                    "layer": {"type": "Flatten"},
                    "label": f"Insert a Flatten before layer {i}",
                },
            )

        # --- resolve in_channels / num_features / in_features
        if t == "Conv2d":
            got = shape[0]
            if p["in_channels"] == AUTO:
                resolved["in_channels"] = got
            elif p["in_channels"] != got:
                return err(
                    f"{where} expects {p['in_channels']} input channels but receives {got}: "
                    f"set in_channels to {got} or leave it on auto.",
                    "in_channels",
                    _fix_label_set(i, "in_channels", got),
                )
        elif t == "BatchNorm2d":
            got = shape[0]
            if p["num_features"] == AUTO:
                resolved["num_features"] = got
            elif p["num_features"] != got:
                return err(
                    f"{where} expects {p['num_features']} channels (num_features) but receives {got}: "
                    f"set num_features to {got} or leave it on auto.",
                    "num_features",
                    _fix_label_set(i, "num_features", got),
                )
        elif t == "Linear":
            got = shape[0]
            if p["in_features"] == AUTO:
                resolved["in_features"] = got
            elif p["in_features"] != got:
                origin = f" ({_fmt_shape(flat_origin[0])})" if flat_origin is not None else ""
                return err(
                    f"{where} expects {p['in_features']} input features but receives {got}{origin}: "
                    f"set in_features to {got} or leave it on auto.",
                    "in_features",
                    _fix_label_set(i, "in_features", got),
                )

        # --- settings torch refuses, and windows bigger than the feature map
        if t == "Conv2d":
            k, d = _pair(p["kernel_size"]), _pair(p["dilation"])
            eff = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
            pad = p["padding"]
            if pad == "same" and _pair(p["stride"]) != (1, 1):
                good = _sq(((eff[0] - 1) // 2, (eff[1] - 1) // 2))
                return err(
                    f'{where}: padding "same" only works with stride 1 (PyTorch refuses it for strided '
                    f"convolutions): use a number, e.g. padding {good}, or stride 1.",
                    "padding",
                    _fix_label_set(i, "padding", list(good) if isinstance(good, tuple) else good),
                )
            pd = (0, 0) if pad in ("same", "valid") else _pair(pad)
            if pad != "same" and (shape[1] + 2 * pd[0] < eff[0] or shape[2] + 2 * pd[1] < eff[1]):
                good = ((eff[0] - 1) // 2, (eff[1] - 1) // 2)
                fix = None
                if shape[1] + 2 * good[0] >= eff[0] and shape[2] + 2 * good[1] >= eff[1] and good != pd:
                    fix = _fix_label_set(
                        i, "padding", _sq(good) if not isinstance(_sq(good), tuple) else list(good)
                    )
                kern = _fmt_pair(p["kernel_size"]) + (
                    f" (dilation {_fmt_pair(p['dilation'])})" if d != (1, 1) else ""
                )
                return err(
                    f"{where} receives a feature map of only {shape[1]} x {shape[2]} pixels, too small for its {kern} kernel "
                    f"with padding {pd[0] if pd[0] == pd[1] else list(pd)}: the output would have no pixels. "
                    "Add padding, use a smaller kernel, or remove a pooling layer before it.",
                    "kernel_size",
                    fix,
                )
        if t in ("MaxPool2d", "AvgPool2d"):
            k, pd = _pair(p["kernel_size"]), _pair(p["padding"])
            if pd[0] > k[0] // 2 or pd[1] > k[1] // 2:
                good = _sq((k[0] // 2, k[1] // 2))
                return err(
                    f"{where}: padding {p['padding']} is more than half the {_fmt_pair(p['kernel_size'])} "
                    f"window (PyTorch allows at most {good}).",
                    "padding",
                    _fix_label_set(i, "padding", list(good) if isinstance(good, tuple) else good),
                )
            if shape[1] + 2 * pd[0] < k[0] or shape[2] + 2 * pd[1] < k[1]:
                return err(
                    f"{where} receives a feature map of only {shape[1]} x {shape[2]} pixels, smaller than its "
                    f"{_fmt_pair(p['kernel_size'])} window: the output would have no pixels. Remove this layer, "
                    "use a smaller window, or start from a bigger input.",
                    "kernel_size",
                    {"kind": "remove", "index": i, "label": f"Remove layer {i} ({t})"},
                )

        # --- run the real layer on the meta device
        kw = _torch_kwargs(layer, resolved)
        try:
            with torch.device("meta"):  # parameters without memory or initialisation cost
                module = _make_module(t, kw)
            module.eval()
            # forward outside the device context: 5x faster, still on meta tensors
            y = module(torch.empty((1, *shape), device="meta"))  # [1, *shape] -> [1, *out]
        except Exception as e:  # torch's own refusal, in its words
            msg = str(e).split("\n")[0]
            return err(f"{where} cannot run on a {_fmt_shape(shape)} input. PyTorch says: {msg}")
        out_shape = tuple(int(s) for s in y.shape[1:])
        if any(s < 1 for s in out_shape):
            return err(
                f"{where} would output an empty {_fmt_shape(out_shape)} tensor: shrink less before it."
            )

        n_params = sum(int(q.numel()) for q in module.parameters())
        n_train = sum(int(q.numel()) for q in module.parameters() if q.requires_grad)
        state_bytes = sum(int(tn.numel()) * tn.element_size() for tn in module.state_dict().values())
        total_params += n_params
        if total_params > MAX_PARAMS:
            return err(
                f"The model is too big for this classroom server: with {where} it has {total_params:,} "
                f"parameters, over the cap of {MAX_PARAMS:,} ({MAX_PARAMS // 1_000_000} M). Use fewer "
                "channels or features, or pool more before Flatten."
            )
        act_bytes += math.prod(out_shape) * BYTES_PER_VALUE
        if act_bytes > MAX_ACTIVATION_BYTES:
            return err(
                f"The model is too big for this classroom server: by {where} the activations of one image "
                f"take {act_bytes / 1e9:.2f} GB, over the cap of {MAX_ACTIVATION_BYTES / 1e9:g} GB. Use a "
                "smaller input, fewer channels, or pool earlier."
            )

        # --- multiply-adds and receptive field
        macs = 0
        if t == "Conv2d":
            k = _pair(p["kernel_size"])
            macs = math.prod(out_shape) * shape[0] * k[0] * k[1]
        elif t == "Linear":
            macs = shape[0] * out_shape[0]
        if rf is not None and jump is not None:
            if t == "Conv2d":
                k, s, d = _pair(p["kernel_size"]), _pair(p["stride"]), _pair(p["dilation"])
                steps = [receptive_field_step(rf[a], jump[a], k[a], s[a], d[a]) for a in (0, 1)]
                rf, jump = (steps[0][0], steps[1][0]), (steps[0][1], steps[1][1])
            elif t in ("MaxPool2d", "AvgPool2d"):
                k = _pair(p["kernel_size"])
                s = _pair(p["stride"]) if p["stride"] is not None else k
                steps = [receptive_field_step(rf[a], jump[a], k[a], s[a], 1) for a in (0, 1)]
                rf, jump = (steps[0][0], steps[1][0]), (steps[0][1], steps[1][1])
            elif t == "AdaptiveAvgPool2d":
                steps = []
                for a in (0, 1):
                    size_in, size_out = shape[1 + a], out_shape[1 + a]
                    # windows run from floor(j*in/out) to ceil((j+1)*in/out): take the widest
                    kk = max(
                        -(-(j + 1) * size_in // size_out) - (j * size_in // size_out) for j in range(size_out)
                    )
                    steps.append(receptive_field_step(rf[a], jump[a], kk, max(1, size_in // size_out), 1))
                rf, jump = (steps[0][0], steps[1][0]), (steps[0][1], steps[1][1])
            elif t == "Linear":
                rf, jump = (max(rf[0], spec.input_shape[1]), max(rf[1], spec.input_shape[2])), None
        label = layer_label(layer, resolved)
        out.append(
            LayerSummary(
                index=i,
                type=t,
                label=label,
                input_shape=shape,
                output_shape=out_shape,
                params=n_params,
                trainable_params=n_train,
                macs=macs,
                receptive_field=_sq(rf),
                jump=None if jump is None else _sq(jump),
                state_bytes=state_bytes,
            )
        )
        kwargs_list.append(kw)

        # --- bookkeeping for the next layer's messages
        if t == "Flatten":
            if len(shape) == 3:
                flat_origin = (shape, i)
            last_flatten, only_shape_keeping_since_flatten = i, True
        elif t == "Linear":
            flat_origin = None
            only_shape_keeping_since_flatten = False
        elif t not in SHAPE_KEEPING:
            only_shape_keeping_since_flatten = False
        shape = out_shape
    return _Analysis(out, kwargs_list, None)


@functools.lru_cache(maxsize=512)
def _analyse_cached(key: str) -> _Analysis:
    return _analyse_impl(ModelSpec.from_json(key))


def _analyse(spec: ModelSpec) -> _Analysis:
    return _analyse_cached(spec.to_json(indent=None))


def _fresh(e: SpecError | None) -> SpecError | None:
    """A new SpecError equal to the cached one: raising a shared exception object would grow its
    traceback with every raise (and keep every raiser's frames alive) across all sessions."""
    if e is None:
        return None
    return SpecError(e.message, e.layer_index, e.layer_type, e.field, copy.deepcopy(e.fix))


def check(spec: ModelSpec) -> SpecError | None:
    """The first problem that stops the spec from running, or None when it runs."""
    return _fresh(_analyse(spec).error)


def summarize_partial(spec: ModelSpec) -> tuple[list[LayerSummary], SpecError | None]:
    """Summaries of the layers that run, up to the first broken one, and that layer's SpecError."""
    a = _analyse(spec)
    return list(a.summaries), _fresh(a.error)


def summarize(spec: ModelSpec) -> list[LayerSummary]:
    """One LayerSummary per layer, shapes and counts from PyTorch's own layers. Raises SpecError."""
    a = _analyse(spec)
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
    a = _analyse(spec)
    if a.error is not None:
        raise _fresh(a.error)
    return nn.Sequential(
        *[_make_module(layer.type, kw) for layer, kw in zip(spec.layers, a.kwargs, strict=True)]
    )


# ----------------------------------------------------------------------------------------------
# Explanations and formatting (what the pages show)


def explain_params(spec: ModelSpec, index: int) -> str:
    """How layer `index`'s parameter count arises, e.g. "1 × 4 × 3 × 3 weights + 4 biases = 40"."""
    s = summarize(spec)[index]
    layer = spec.layers[index]
    p = layer.params
    if layer.type == "Conv2d":
        k = _pair(p["kernel_size"])
        cin, cout = s.input_shape[0], s.output_shape[0]
        text = f"{cin} in × {cout} out × {k[0]} × {k[1]} kernel = {cin * cout * k[0] * k[1]:,} weights"
        if p["bias"]:
            text += f" + {cout:,} biases"
        return f"{text} = {s.params:,}"
    if layer.type == "Linear":
        fin, fout = s.input_shape[0], s.output_shape[0]
        text = f"{fin:,} in × {fout:,} out = {fin * fout:,} weights"
        if p["bias"]:
            text += f" + {fout:,} biases"
        return f"{text} = {s.params:,}"
    if layer.type == "BatchNorm2d":
        c = s.input_shape[0]
        return f"{c} channels × 2 (a scale and a shift each) = {s.params:,} (plus 2 × {c} running statistics, not trained)"
    return f"{layer.type} has no parameters to learn"


def format_count(n: int) -> str:
    """12345678 -> "12.3 M", 26138 -> "26,138"."""
    if n >= 10_000_000:
        return f"{n / 1e6:.1f} M"
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} M"
    return f"{n:,}"


def format_bytes(n: float) -> str:
    """Bytes in B, KB, MB or GB (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}" if n / scale < 100 else f"{n / scale:.0f} {unit}"
    return f"{int(n)} B"


def format_rf(row: LayerSummary) -> str:
    """A receptive field for the table: "5 × 5", or "whole image" after a Linear layer."""
    if row.jump is None:
        return "whole image"
    rf = row.receptive_field
    return f"{rf} × {rf}" if isinstance(rf, int) else f"{rf[0]} × {rf[1]}"


def summary_records(summary: list[LayerSummary]) -> list[dict[str, Any]]:
    """Table rows: index, layer, output shape, params, % of total params, MACs, receptive field."""
    total = sum(s.params for s in summary) or 1
    return [
        {
            "#": s.index,
            "layer": s.label,
            "output shape": format_shape(s.output_shape),
            "params": s.params,
            "% params": round(100.0 * s.params / total, 1),
            "MACs": s.macs,
            "receptive field": format_rf(s),
        }
        for s in summary
    ]


# ----------------------------------------------------------------------------------------------
# PyTorch code


def _code_args(layer: LayerSpec, kw: dict[str, Any]) -> str:
    t = layer.type
    infos = {f.name: f for f in FIELDS[t]}

    def non_default(names: list[str]) -> list[str]:
        parts = []
        for n in names:
            if n in kw and kw[n] != _torch_arg(infos[n].default):
                parts.append(f"{n}={kw[n]!r}")
        return parts

    if t == "Conv2d":
        return ", ".join(
            [str(kw["in_channels"]), str(kw["out_channels"]), f"kernel_size={kw['kernel_size']!r}"]
            + non_default(["stride", "padding", "dilation", "bias"])
        )
    if t in ("MaxPool2d", "AvgPool2d"):
        return ", ".join(
            [f"kernel_size={kw['kernel_size']!r}"] + non_default(["stride", "padding", "ceil_mode"])
        )
    if t == "AdaptiveAvgPool2d":
        return repr(kw["output_size"])
    if t == "BatchNorm2d":
        return str(kw["num_features"])
    if t == "LeakyReLU":
        return f"negative_slope={kw['negative_slope']!r}"
    if t in ("Dropout", "Dropout2d"):
        return f"p={kw['p']!r}"
    if t == "Linear":
        return ", ".join([str(kw["in_features"]), str(kw["out_features"])] + non_default(["bias"]))
    return ""


def to_pytorch_code(spec: ModelSpec, class_name: str = "Net") -> str:
    """Runnable source of `class Net(nn.Module)`; `Net().layers` has build_model's state_dict keys."""
    summary = summarize(spec)
    kwargs = _analyse(spec).kwargs
    c, h, w = spec.input_shape
    out = summary[-1].output_shape if summary else spec.input_shape
    lines = [
        '"""A CNN made with CNN Classroom\'s model builder.',
        "",
        f'Input [N, {c}, {h}, {w}] (N images), output [N, {", ".join(map(str, out))}]."""',
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
        f"class {class_name}(nn.Module):",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        "        self.layers = nn.Sequential(",
    ]
    for layer, kw, s in zip(spec.layers, kwargs, summary, strict=True):
        call = f"nn.{layer.type}({_code_args(layer, kw)}),"
        lines.append(f"            {call}  # {s.index}: [N, {', '.join(map(str, s.output_shape))}]")
    lines += [
        "        )",
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        f"        # x: [N, {c}, {h}, {w}]",
        "        return self.layers(x)",
        "",
        "",
        'if __name__ == "__main__":',
        f"    model = {class_name}()",
        f"    x = torch.zeros(1, {c}, {h}, {w})  # one image: [N=1, C, H, W]",
        f"    print(model(x).shape)  # torch.Size([1, {', '.join(map(str, out))}])",
        '    print(sum(p.numel() for p in model.parameters()), "parameters")',
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Fitting a spec to a dataset


def adapt_to_dataset(
    spec: ModelSpec, input_shape: tuple[int, int, int] | list[int], num_classes: int
) -> ModelSpec:
    """The spec with the dataset's input shape and `num_classes` outputs.

    Sets the input shape, sets the last Linear's out_features to num_classes, and repairs explicit
    in_channels / num_features / in_features that no longer match what arrives. Raises SpecError
    when the model cannot take these images or cannot output one score per class.
    """
    c, h, w = (int(v) for v in input_shape)
    new = set_input_shape(spec, [c, h, w])
    linear_idx = [i for i, layer in enumerate(new.layers) if layer.type == "Linear"]
    if not linear_idx:
        raise SpecError(
            f"This model has no Linear layer to output one score per class ({num_classes} classes): add a "
            f"Flatten and a Linear layer with out_features {num_classes} at the end."
        )
    last = linear_idx[-1]
    if new.layers[last].params["out_features"] != num_classes:
        new = set_layer_field(new, last, "out_features", int(num_classes))
    for _ in range(len(new.layers) + 1):
        e = check(new)
        if e is None:
            break
        if (
            e.fix
            and e.fix.get("kind") == "set_field"
            and e.fix.get("field") in ("in_channels", "num_features", "in_features")
        ):
            new = apply_fix(new, e.fix)
            continue
        raise SpecError(
            f"This model cannot take the dataset's {c} x {h} x {w} images: {e.message}",
            e.layer_index,
            e.layer_type,
            e.field,
            None,
        )
    out = output_shape(new)
    if out != (num_classes,):
        raise SpecError(
            f"This model outputs {_fmt_shape(out)} values per image, not one score for each of the "
            f"{num_classes} classes: end it with a Linear layer (out_features {num_classes}).",
            len(new.layers) - 1 if new.layers else None,
            new.layers[-1].type if new.layers else None,
        )
    return new
