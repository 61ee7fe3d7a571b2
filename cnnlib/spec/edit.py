"""Editing model specs: every helper returns a new ModelSpec (specs are immutable).

Add, remove, move, duplicate and replace layers, set a field or the input shape, set the number
of classes, apply a SpecError's one-click `fix`, and `adapt_to_dataset` (refit a spec to a
dataset's input shape and class count). Every edit is validated; a bad one raises SpecError.
`insert_positions` / `default_position` / `position_label`: where a new layer can go (by default
right after the layer being edited), in words that count layers from 1.
"""

from __future__ import annotations

import json
from typing import Any

from cnnlib.spec.analysis import check, output_shape
from cnnlib.spec.fields import FIELDS, MAX_JSON_BYTES, MAX_LAYERS, SpecError, fmt_shape
from cnnlib.spec.model import LayerSpec, ModelSpec, default_layer, layer_count
from cnnlib.spec.token import compact_layer

# ----------------------------------------------------------------------------------------------
# Where a new layer goes


__all__ = [
    "insert_positions",
    "default_position",
    "position_label",
    "add_layer",
    "remove_layer",
    "move_layer",
    "duplicate_layer",
    "set_layer_field",
    "set_input_shape",
    "num_classes",
    "set_num_classes",
    "apply_fix",
    "adapt_to_dataset",
    "block_text",
    "inner_layers_from_text",
]


def insert_positions(n_layers: int) -> list[int]:
    """Where a new layer can go: 0 (before the first layer) to n_layers (the end)."""
    return list(range(max(0, int(n_layers)) + 1))


def default_position(n_layers: int, around: int) -> int:
    """The position offered first while layer `around` (0-based) is edited: right after it."""
    if n_layers <= 0:
        return 0
    return max(0, min(int(around), n_layers - 1)) + 1


def position_label(spec: ModelSpec, position: int, around: int) -> str:
    """An insert position in words, layers counted from 1, the edited layer `around` named as such:
    "after layer 7 (Linear), the one you edit", "before layer 3 (ReLU)", "at the end (after layer 9)"."""
    n = len(spec.layers)
    if n == 0:
        return "as the first layer"
    around = max(0, min(int(around), n - 1))
    if position == around + 1:
        end = ", at the end" if position == n else ""
        return f"after layer {around + 1} ({spec.layers[around].type}), the one you edit{end}"
    if position == around:
        return f"before layer {around + 1} ({spec.layers[around].type}), the one you edit"
    if position >= n:
        return f"at the end (after layer {n}, {spec.layers[-1].type})"
    return f"before layer {position + 1} ({spec.layers[position].type})"


# ----------------------------------------------------------------------------------------------
# Editing: every helper returns a new spec.


def _to_layer(layer: LayerSpec | dict[str, Any] | str, index: int | None = None) -> LayerSpec:
    if isinstance(layer, LayerSpec):
        return LayerSpec.from_dict(layer.to_dict(), index)
    if isinstance(layer, str):
        if layer not in FIELDS:
            LayerSpec.from_dict({"type": layer}, index)  # raises the unknown-type message
        return default_layer(layer)
    return LayerSpec.from_dict(layer, index)


def _check_index(spec: ModelSpec, index: int, allow_end: bool = False) -> int:
    n = len(spec.layers) + (1 if allow_end else 0)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
        shown = index + 1 if isinstance(index, int) and not isinstance(index, bool) else index
        raise SpecError(f"There is no layer {shown}: the model has {len(spec.layers)} layers.", None)
    return index


def add_layer(
    spec: ModelSpec, layer: LayerSpec | dict[str, Any] | str, index: int | None = None
) -> ModelSpec:
    """Insert a layer (a LayerSpec, a dict, or a type name for its defaults) at index (end if None)."""
    index = len(spec.layers) if index is None else _check_index(spec, index, allow_end=True)
    if layer_count(spec.layers) >= MAX_LAYERS:
        raise SpecError(f"This app caps models at {MAX_LAYERS} layers (the layers inside blocks count too).")
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
        ):  # an explicit count stays explicit: the number that arrives (the fix itself says auto)
            new = set_layer_field(new, e.fix["layer"], e.fix["field"], e.fix.get("arrives", e.fix["value"]))
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
            f"This model outputs {fmt_shape(out)} values per image, not one score for each of the "
            f"{num_classes} classes: end it with a Linear layer (out_features {num_classes}).",
            len(new.layers) - 1 if new.layers else None,
            new.layers[-1].type if new.layers else None,
        )
    return new


# ----------------------------------------------------------------------------------------------
# A block's inner layers as text (the Model builder edits a Residual block as JSON)


def block_text(layer: LayerSpec) -> str:
    """A block's inner layers as a JSON list, one layer a line, fields at their defaults left out."""
    lines = [json.dumps(compact_layer(x)) for x in layer.inner]
    return "[\n" + ",\n".join(f"  {x}" for x in lines) + "\n]"


def inner_layers_from_text(text: str) -> list[Any]:
    """The JSON list a student typed for a block's inner layers (each layer is then checked by
    `set_layer_field`); SpecError saying what is wrong with the text."""
    if len(text) > MAX_JSON_BYTES:
        raise SpecError(f"The text is {len(text):,} characters; a model spec is at most {MAX_JSON_BYTES:,}.")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(
            f"The inner layers are not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}). Write a list "
            'like [{"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "ReLU"}].'
        ) from None
    except (RecursionError, ValueError):
        raise SpecError("The inner layers are nested too deeply or hold a number too long to read.") from None
    if not isinstance(value, list):
        raise SpecError('The inner layers must be a JSON list [...] of layer objects like {"type": "ReLU"}.')
    return value
