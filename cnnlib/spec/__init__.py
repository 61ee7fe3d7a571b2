"""Model specs: a CNN as JSON-able data, checked layer by layer against PyTorch itself.

A `ModelSpec` is an input shape [C, H, W] plus an ordered list of `LayerSpec`s whose fields use
torch's constructor argument names, e.g.

    {"input_shape": [1, 28, 28],
     "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}, ...]}

`summarize` runs every real layer on the meta device (no memory, no arithmetic), so each output
shape is PyTorch's own; `build_model` returns the `nn.Sequential` (children named "0", "1", ...,
the indices into `spec.layers`). Anything that cannot run raises `SpecError` naming the layer,
with a message a student can act on and, where one exists, a one-click `fix` for `apply_fix`.
`{"type": "Residual", "layers": [...]}` is a block (a ResNet skip connection): its input is added to
what its inner layers compute (one level deep; its inner layers count against MAX_LAYERS).
`PRESETS` holds the named models (the Digit CNN every page starts from, the tutorials' TinyCNN and
SimpleCNNs, LeNet-5, a small VGG).

This package's public face is this module; the modules inside it:

    fields.py      caps, layer types and docs, FIELDS, SpecError, field validation
    model.py       LayerSpec, ModelSpec (JSON in and out), default_layer, layer_label, layer_count
    meta.py        LayerSummary; one layer run on the meta device (shape, counts, MACs, receptive field)
    residual.py    the Residual block (a skip connection, a 1x1 projection when shapes differ)
    analysis.py    summarize, check, totals, build_model: shapes, params, MACs, receptive field
    edit.py        edits that return new specs, apply_fix, adapt_to_dataset
    formatting.py  format_shape/count/bytes/rf, summary_records, explain_params
    codegen.py     to_pytorch_code
    presets.py     PRESETS, PRESET_NOTES, DEFAULT_PRESET (DIGIT_CNN, the app's one model), preset_label
    memory.py      estimate_memory / check_memory: a model's memory priced on the meta device
                   (spec or module) before anything runs; MAX_SERVER_WORK_BYTES
    token.py       a spec as a link token (spec_to_token / spec_from_token)
    link.py        the Model builder's link state (BUILDER_LINK) and the model field of links
"""

from __future__ import annotations

from cnnlib.spec import (
    analysis,
    codegen,
    edit,
    fields,
    formatting,
    link,
    memory,
    meta,
    model,
    presets,
    residual,
    token,
)
from cnnlib.spec.analysis import *  # noqa: F403
from cnnlib.spec.codegen import *  # noqa: F403
from cnnlib.spec.edit import *  # noqa: F403
from cnnlib.spec.fields import *  # noqa: F403
from cnnlib.spec.formatting import *  # noqa: F403
from cnnlib.spec.link import *  # noqa: F403
from cnnlib.spec.memory import *  # noqa: F403
from cnnlib.spec.meta import *  # noqa: F403
from cnnlib.spec.model import *  # noqa: F403
from cnnlib.spec.presets import *  # noqa: F403
from cnnlib.spec.residual import *  # noqa: F403
from cnnlib.spec.token import *  # noqa: F403

__all__ = [
    *analysis.__all__,
    *codegen.__all__,
    *edit.__all__,
    *fields.__all__,
    *formatting.__all__,
    *link.__all__,
    *memory.__all__,
    *meta.__all__,
    *model.__all__,
    *presets.__all__,
    *residual.__all__,
    *token.__all__,
]
