"""Model specs: a CNN as JSON-able data, checked layer by layer against PyTorch itself.

A `ModelSpec` is an input shape [C, H, W] plus an ordered list of `LayerSpec`s whose fields use
torch's constructor argument names, e.g.

    {"input_shape": [1, 28, 28],
     "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}, ...]}

`summarize` runs every real layer on the meta device (no memory, no arithmetic), so each output
shape is PyTorch's own; `build_model` returns the `nn.Sequential` (children named "0", "1", ...,
the indices into `spec.layers`). Anything that cannot run raises `SpecError` naming the layer,
with a message a student can act on and, where one exists, a one-click `fix` for `apply_fix`.
`PRESETS` holds the named models (the tutorials' TinyCNN and SimpleCNNs, LeNet-5, a small VGG).

This package's public face is this module; the modules inside it:

    fields.py      caps, layer types and docs, FIELDS, SpecError, field validation
    model.py       LayerSpec, ModelSpec (JSON in and out), default_layer, layer_label
    analysis.py    summarize, check, totals, build_model: shapes, params, MACs, receptive field
    edit.py        edits that return new specs, apply_fix, adapt_to_dataset
    formatting.py  format_shape/count/bytes/rf, summary_records, explain_params
    codegen.py     to_pytorch_code
    presets.py     PRESETS, PRESET_NOTES, DEFAULT_PRESET
    memory.py      estimate_memory / check_memory: a model's memory priced on the meta device
                   (spec or module) before anything runs; MAX_SERVER_WORK_BYTES
    token.py       a spec as a link token (spec_to_token / spec_from_token)
    link.py        the Model builder's link state (BUILDER_LINK) and the model field of links
"""

from __future__ import annotations

from cnnlib.spec.analysis import (
    LayerSummary,
    build_model,
    check,
    output_shape,
    summarize,
    summarize_partial,
    totals,
)
from cnnlib.spec.codegen import (
    to_pytorch_code,
)
from cnnlib.spec.edit import (
    adapt_to_dataset,
    add_layer,
    apply_fix,
    default_position,
    duplicate_layer,
    insert_positions,
    move_layer,
    num_classes,
    position_label,
    remove_layer,
    set_input_shape,
    set_layer_field,
    set_num_classes,
)
from cnnlib.spec.fields import (
    AUTO,
    FIELDS,
    LAYER_DOCS,
    LAYER_TYPES,
    MAX_INPUT_CHANNELS,
    MAX_INPUT_SIDE,
    MAX_INT_FIELD,
    MAX_LAYERS,
    MAX_PARAMS,
    SHAPE_KEEPING,
    FieldInfo,
    SpecError,
)
from cnnlib.spec.formatting import (
    explain_params,
    format_bytes,
    format_count,
    format_rf,
    format_shape,
    summary_records,
)
from cnnlib.spec.link import (
    BUILDER_LINK,
    format_model,
    model_field,
    parse_model,
)
from cnnlib.spec.memory import (
    MAX_SERVER_WORK_BYTES,
    MemoryBudgetError,
    MemoryEstimate,
    check_memory,
    estimate_memory,
)
from cnnlib.spec.model import (
    LayerSpec,
    ModelSpec,
    default_layer,
    layer_label,
)
from cnnlib.spec.presets import (
    DEFAULT_PRESET,
    PRESET_NOTES,
    PRESETS,
)
from cnnlib.spec.token import (
    spec_from_token,
    spec_to_token,
)

__all__ = [
    "BUILDER_LINK",
    "default_position",
    "insert_positions",
    "position_label",
    "format_model",
    "model_field",
    "parse_model",
    "spec_from_token",
    "spec_to_token",
    "AUTO",
    "DEFAULT_PRESET",
    "FIELDS",
    "FieldInfo",
    "LAYER_DOCS",
    "LAYER_TYPES",
    "LayerSpec",
    "LayerSummary",
    "MAX_INPUT_CHANNELS",
    "MAX_INPUT_SIDE",
    "MAX_INT_FIELD",
    "MAX_LAYERS",
    "MAX_PARAMS",
    "MAX_SERVER_WORK_BYTES",
    "MemoryBudgetError",
    "MemoryEstimate",
    "ModelSpec",
    "PRESETS",
    "PRESET_NOTES",
    "SHAPE_KEEPING",
    "SpecError",
    "adapt_to_dataset",
    "add_layer",
    "apply_fix",
    "build_model",
    "check_memory",
    "check",
    "default_layer",
    "duplicate_layer",
    "estimate_memory",
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
    "set_input_shape",
    "set_layer_field",
    "set_num_classes",
    "summarize",
    "summarize_partial",
    "summary_records",
    "to_pytorch_code",
    "totals",
]
