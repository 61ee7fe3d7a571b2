"""LayerSpec and ModelSpec: a CNN as validated, immutable, JSON-able data.

`LayerSpec.from_dict` checks one layer dict against `FIELDS` (filling in defaults);
`ModelSpec.from_dict` / `from_json` check a whole spec ({"input_shape": [C, H, W], "layers": [...]})
and `to_dict` / `to_json` write it back. Also `default_layer` (a layer with classroom-friendly
defaults) and `layer_label` (the short label the pages show, e.g. "Conv2d(1→4, 3x3, p=1)").
"""

from __future__ import annotations

import copy
import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from cnnlib.spec.fields import (
    BLOCK_TYPES,
    DEFAULT_LAYERS,
    FIELDS,
    LAYER_TYPES,
    MAX_INT_FIELD,
    MAX_JSON_BYTES,
    MAX_LAYERS,
    NOT_IN_BLOCK,
    SpecError,
    as_int,
    as_pair,
    check_field,
    describe_bad,
    fmt_pair,
)

# ----------------------------------------------------------------------------------------------
# LayerSpec and ModelSpec


__all__ = ["LayerSpec", "ModelSpec", "default_layer", "layer_label", "layer_count"]


@dataclass(frozen=True)
class LayerSpec:
    """One layer: its type (a name in LAYER_TYPES) and its complete, validated fields."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Any, index: int | None = None, outer: int | None = None) -> LayerSpec:
        """Validate a layer dict ({"type": ..., fields...}); missing optional fields get defaults.

        outer: the index of the block this layer sits in (its messages say "layer 3.2"; the
        SpecError's layer_index is the block's)."""
        num = None if index is None else f"{index + 1}"
        if index is not None and outer is not None:  # an inner layer; outer -1: a block not in a model
            num = f"{outer + 1}.{index + 1}" if outer >= 0 else f"{index + 1} of the block"
        at = index if outer is None else (outer if outer >= 0 else None)
        where_idx = f"Layer {num}" if num is not None else "The layer"
        if not isinstance(d, dict):
            raise SpecError(
                f'{where_idx} must be an object like {{"type": "ReLU"}}, not {describe_bad(d)}.', at
            )
        t = d.get("type")
        if t is None:
            raise SpecError(f'{where_idx} has no "type": add e.g. "type": "Conv2d".', at, field="type")
        if not isinstance(t, str) or t not in FIELDS:
            raise SpecError(unknown_type_message(where_idx, t), at, field="type")
        where = f"{t} (layer {num})" if num is not None else t
        infos = {f.name: f for f in FIELDS[t]}
        unknown = [k for k in d if k != "type" and k not in infos]
        if unknown:
            known = ", ".join(infos) if infos else "none"
            raise SpecError(
                f'{where} has no field "{unknown[0]}". Its fields are: {known}.', at, t, unknown[0]
            )
        params: dict[str, Any] = {}
        for info in FIELDS[t]:
            if info.name not in d:
                if info.required:
                    raise SpecError(f'{where} needs the field "{info.name}" ({info.help}).', at, t, info.name)
                params[info.name] = copy.deepcopy(info.default)
            elif info.kind == "layers":
                params[info.name] = inner_layers(d[info.name], where, index, outer)
            else:
                params[info.name] = check_field(info, d[info.name], where, at, t)
        return cls(t, params)

    def to_dict(self) -> dict[str, Any]:
        if self.type in BLOCK_TYPES:
            return {"type": self.type, "layers": [layer.to_dict() for layer in self.params["layers"]]}
        return {"type": self.type, **copy.deepcopy(self.params)}

    @property
    def inner(self) -> tuple[LayerSpec, ...]:
        """A block's inner layers (empty for every other layer)."""
        return tuple(self.params.get("layers", ())) if self.type in BLOCK_TYPES else ()


def unknown_type_message(where: str, t: Any) -> str:
    """Why `t` is not a layer type, with the closest real one when there is one."""
    hint = ""
    if isinstance(t, str):
        close = difflib.get_close_matches(t, LAYER_TYPES, n=1, cutoff=0.5)
        lower = {x.lower(): x for x in LAYER_TYPES}
        if t.lower() in lower:
            close = [lower[t.lower()]]
        hint = f' Did you mean "{close[0]}"?' if close else ""
    shown = json.dumps(t) if isinstance(t, str) else describe_bad(t)
    return (
        f"{where} has an unknown type {shown}.{hint} Supported layer types: " + ", ".join(LAYER_TYPES) + "."
    )


def inner_layers(value: Any, where: str, index: int | None, outer: int | None) -> tuple[LayerSpec, ...]:
    """A block's inner layers, checked: a list of at most MAX_LAYERS - 1 layer objects (counted before
    any is read), each keeping a feature map, none of them a block (blocks go one level deep)."""
    if outer is not None:  # pragma: no cover - a block inside a block is refused by its type first
        raise SpecError(f"{where}: a block cannot hold another block.", outer, field="layers")
    if not isinstance(value, (list, tuple)):
        raise SpecError(
            f'{where}: "layers" must be a list of layer objects like [{{"type": "Conv2d", ...}}], '
            f"not {describe_bad(value)}.",
            index,
            "Residual",
            "layers",
        )
    if not value:
        raise SpecError(
            f"{where} has no inner layers: add at least one, e.g. a Conv2d.", index, "Residual", "layers"
        )
    if len(value) >= MAX_LAYERS:
        raise SpecError(
            f"{where} holds {len(value):,} layers; this app caps models at {MAX_LAYERS} layers, "
            "the layers inside blocks included.",
            index,
            "Residual",
            "layers",
        )
    for j, raw in enumerate(value):
        t = raw.get("type") if isinstance(raw, dict) else None
        if isinstance(t, str) and t in NOT_IN_BLOCK:
            n = f"{index + 1}.{j + 1}" if index is not None else f"{j + 1}"
            why = (
                "blocks go one level deep: put the second block after this one, not inside it"
                if t in BLOCK_TYPES
                else f"a block's inner layers keep a feature map, so its input can be added back: put the {t} "
                "after the block"
            )
            raise SpecError(f"{where}: inner layer {n} is a {t}; {why}.", index, "Residual", "layers")
    return tuple(
        LayerSpec.from_dict(raw, j, index if index is not None else -1) for j, raw in enumerate(value)
    )


def layer_count(layers: Any) -> int:
    """How many layers count against MAX_LAYERS: every layer, the layers inside blocks included (a block
    counts once more). `layers`: LayerSpecs or raw layer dicts (counted before any is checked)."""
    n = 0
    for layer in layers:
        if isinstance(layer, LayerSpec):
            n += 1 + len(layer.inner)
        else:
            inner = layer.get("layers") if isinstance(layer, dict) else None
            n += 1 + (len(inner) if isinstance(inner, (list, tuple)) else 0)
    return n

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
        if layer_count(self.layers) > MAX_LAYERS:  # every edit too: a copied block can pass the cap
            raise SpecError(
                f"The model would have {layer_count(self.layers):,} layers, counting the layers inside its "
                f"blocks; this app caps models at {MAX_LAYERS} layers."
            )

    @classmethod
    def from_dict(cls, d: Any) -> ModelSpec:
        """Validate a spec dict: {"input_shape": [C, H, W], "layers": [...]}. Raises SpecError."""
        example = '{"input_shape": [1, 28, 28], "layers": [{"type": "Conv2d", ...}, ...]}'
        if not isinstance(d, dict):
            raise SpecError(f"A model spec must be a JSON object like {example}, not {describe_bad(d)}.")
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
                f"not {describe_bad(shape)}.",
                field="input_shape",
            )
        names = ("channels", "height", "width")
        c, h, w = (
            as_int(v, "The input shape [C, H, W]", n, 1, MAX_INT_FIELD, None, None)
            for v, n in zip(shape, names, strict=True)
        )
        layers = d["layers"]
        if not isinstance(layers, (list, tuple)):
            raise SpecError(f'"layers" must be a list of layer objects, not {describe_bad(layers)}.')
        if len(layers) > MAX_LAYERS:
            raise SpecError(
                f"The model has {len(layers)} layers; this app caps models at {MAX_LAYERS} layers."
            )
        if layer_count(layers) > MAX_LAYERS:
            raise SpecError(
                f"The model has {layer_count(layers):,} layers, counting the layers inside its blocks; "
                f"this app caps models at {MAX_LAYERS} layers."
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
    return LayerSpec.from_dict({"type": layer_type, **DEFAULT_LAYERS.get(layer_type, {})})


def layer_label(layer: LayerSpec, resolved: dict[str, Any] | None = None) -> str:
    """A short label like "Conv2d(1→4, 3x3, p=1)"; `resolved` supplies inferred in_* values."""
    p = {**layer.params, **(resolved or {})}
    t = layer.type
    if t == "Conv2d":
        parts = [f"{p['in_channels']}→{p['out_channels']}", fmt_pair(p["kernel_size"])]
        if as_pair(p["stride"]) != (1, 1):
            parts.append(f"s={fmt_pair(p['stride']) if isinstance(p['stride'], list) else p['stride']}")
        pad = p["padding"]
        if isinstance(pad, str) or as_pair(pad) != (0, 0):
            parts.append(f"p={pad if not isinstance(pad, list) else fmt_pair(pad)}")
        if as_pair(p["dilation"]) != (1, 1):
            parts.append(f"d={fmt_pair(p['dilation']) if isinstance(p['dilation'], list) else p['dilation']}")
        if not p["bias"]:
            parts.append("no bias")
        return f"Conv2d({', '.join(parts)})"
    if t in ("MaxPool2d", "AvgPool2d"):
        stride = p["stride"] if p["stride"] is not None else p["kernel_size"]
        parts = [
            fmt_pair(p["kernel_size"]),
            f"s={stride if not isinstance(stride, list) else fmt_pair(stride)}",
        ]
        if as_pair(p["padding"]) != (0, 0):
            parts.append(
                f"p={p['padding'] if not isinstance(p['padding'], list) else fmt_pair(p['padding'])}"
            )
        if p["ceil_mode"]:
            parts.append("ceil")
        return f"{t}({', '.join(parts)})"
    if t == "AdaptiveAvgPool2d":
        return f"AdaptiveAvgPool2d(→{fmt_pair(p['output_size'])})"
    if t == "BatchNorm2d":
        return f"BatchNorm2d({p['num_features']})"
    if t == "LeakyReLU":
        return f"LeakyReLU({p['negative_slope']:g})"
    if t in ("Dropout", "Dropout2d"):
        return f"{t}(p={p['p']:g})"
    if t == "Linear":
        return f"Linear({p['in_features']}→{p['out_features']}{'' if p['bias'] else ', no bias'})"
    if t == "Residual":  # resolved["skip"]: "identity", "1x1" or "1x1, s=2", once the block has run
        n = len(layer.inner)
        return (
            f"Residual({n} layer{'s' if n != 1 else ''}"
            + (f", skip: {p['skip']}" if "skip" in p else "")
            + ")"
        )
    return t
