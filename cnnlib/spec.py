"""Model specs: a CNN as JSON-able data, checked layer by layer against PyTorch itself.

A `ModelSpec` is an input shape [C, H, W] plus an ordered list of `LayerSpec`s whose fields use
torch's constructor argument names, e.g.

    {"input_shape": [1, 28, 28],
     "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}, ...]}

`summarize` runs every real layer on the meta device (no memory, no arithmetic), so each output
shape is PyTorch's own; `build_model` returns the `nn.Sequential` (children named "0", "1", ...,
the indices into `spec.layers`). Anything that cannot run raises `SpecError` naming the layer,
with a message a student can act on and, where one exists, a one-click `fix` for `apply_fix`.

This module is the public face (import from here); the code lives in flat modules beside it:

    spec_fields.py    caps, layer types and docs, FIELDS, SpecError, field validation
    spec_model.py     LayerSpec, ModelSpec (JSON in and out), default_layer, layer_label
    spec_edit.py      edits that return new specs, apply_fix, adapt_to_dataset
    spec_analysis.py  summarize, check, totals, build_model: shapes, params, MACs, receptive field, caps
    spec_format.py    format_shape/count/bytes/rf, summary_records, explain_params
    spec_code.py      to_pytorch_code
"""

from __future__ import annotations

from cnnlib.spec_analysis import (
    LayerSummary,
    Totals,
    build_model,
    check,
    output_shape,
    summarize,
    summarize_partial,
    totals,
)
from cnnlib.spec_code import to_pytorch_code
from cnnlib.spec_edit import (
    adapt_to_dataset,
    add_layer,
    apply_fix,
    duplicate_layer,
    move_layer,
    num_classes,
    remove_layer,
    replace_layer,
    set_input_shape,
    set_layer_field,
    set_num_classes,
)
from cnnlib.spec_fields import (
    AUTO,
    BYTES_PER_VALUE,
    FIELDS,
    IMAGE_LAYERS,
    LAYER_DOCS,
    LAYER_TYPES,
    MAX_ACTIVATION_BYTES,
    MAX_INPUT_CHANNELS,
    MAX_INPUT_SIDE,
    MAX_INT_FIELD,
    MAX_JSON_BYTES,
    MAX_LAYERS,
    MAX_PARAMS,
    MIN_INPUT_SIDE,
    SHAPE_KEEPING,
    FieldInfo,
    SpecError,
)
from cnnlib.spec_format import (
    explain_params,
    format_bytes,
    format_count,
    format_rf,
    format_shape,
    summary_records,
)
from cnnlib.spec_model import LayerSpec, ModelSpec, default_layer, layer_label

__all__ = [
    "AUTO",
    "BYTES_PER_VALUE",
    "FIELDS",
    "IMAGE_LAYERS",
    "LAYER_DOCS",
    "LAYER_TYPES",
    "MAX_ACTIVATION_BYTES",
    "MAX_INPUT_CHANNELS",
    "MAX_INPUT_SIDE",
    "MAX_INT_FIELD",
    "MAX_JSON_BYTES",
    "MAX_LAYERS",
    "MAX_PARAMS",
    "MIN_INPUT_SIDE",
    "SHAPE_KEEPING",
    "FieldInfo",
    "LayerSpec",
    "LayerSummary",
    "ModelSpec",
    "SpecError",
    "Totals",
    "adapt_to_dataset",
    "add_layer",
    "apply_fix",
    "build_model",
    "check",
    "default_layer",
    "duplicate_layer",
    "explain_params",
    "format_bytes",
    "format_count",
    "format_rf",
    "format_shape",
    "layer_label",
    "move_layer",
    "num_classes",
    "output_shape",
    "remove_layer",
    "replace_layer",
    "set_input_shape",
    "set_layer_field",
    "set_num_classes",
    "summarize",
    "summarize_partial",
    "summary_records",
    "to_pytorch_code",
    "totals",
]
