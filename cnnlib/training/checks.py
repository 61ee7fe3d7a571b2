"""The model of a training run: built from a spec with a seeded initialisation, and checked.

resolve_model turns a ModelSpec, a spec dict or an nn.Module into the module to train;
check_model makes sure it takes the dataset's images, outputs one score per class and fits the
server (parameters, estimated training memory), raising ConfigError (field "model") with what
to change. check_model prices everything on the meta device, so TrainingRun calls it before
resolve_model builds anything: an oversized model is refused before any real allocation.
"""

from __future__ import annotations

import threading
from typing import Any

import torch
from torch import nn

from cnnlib.data import DatasetBundle
from cnnlib.training.config import ConfigError

__all__ = ["check_model"]


MAX_PARAMETERS = 20_000_000  # a model bigger than this is too big for a shared classroom server
MAX_RUN_MEMORY_BYTES = 1_500_000_000  # estimated training memory of one run (weights, grads, activations)


def resolve_model(model_or_spec: Any, seed: int) -> tuple[nn.Module, Any]:
    """(module, spec or None). A spec (ModelSpec or dict) is built with a seeded initialisation."""
    if isinstance(model_or_spec, nn.Module):
        return model_or_spec, None
    from cnnlib.spec import ModelSpec, build_model  # lazy: spec is optional for nn.Module callers

    spec = ModelSpec.from_dict(model_or_spec) if isinstance(model_or_spec, dict) else model_or_spec
    if not isinstance(spec, ModelSpec):
        raise ConfigError(
            f"Expected a ModelSpec, a spec dict or an nn.Module, got {type(model_or_spec).__name__}.", "model"
        )
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):  # seeded init without touching others' RNG
        torch.manual_seed(seed)
        model = build_model(spec)
    return model, spec


_INIT_LOCK = threading.Lock()


def check_model(model: Any, bundle: DatasetBundle, batch_size: int = 64) -> int:
    """Check that the model takes the dataset's images, outputs one score per class and fits the
    server; return its parameter count. Raises ConfigError (field "model") with what to change.

    `model` is a ModelSpec, a spec dict or an nn.Module. Everything is priced on the meta device
    (`cnnlib.spec.estimate_memory`): nothing of the student's model runs here, so a model whose
    activations would take gigabytes is refused before a byte of them is allocated; what must
    really run runs in the training child.
    """
    from cnnlib.spec import ModelSpec, SpecError, estimate_memory

    c, h, w = bundle.input_shape
    k = bundle.num_classes
    if isinstance(model, dict):
        model = ModelSpec.from_dict(model)
    if not isinstance(model, (ModelSpec, nn.Module)):
        raise ConfigError(
            f"Expected a ModelSpec, a spec dict or an nn.Module, got {type(model).__name__}.", "model"
        )
    try:
        est = estimate_memory(model, batch_size, training=True, input_shape=(c, h, w))
    except SpecError as exc:
        raise ConfigError(
            f"The model cannot take this dataset's {c} x {h} x {w} images: {str(exc).splitlines()[0]} "
            f"Set the model's input shape to {c} x {h} x {w} (the Model builder can adapt it).",
            "model",
        ) from None
    if est.params > MAX_PARAMETERS:
        raise ConfigError(
            f"The model has {est.params:,} parameters; this server trains at most {MAX_PARAMETERS:,}. "
            "Use fewer channels or a smaller Linear layer (a pooling layer before Flatten helps most).",
            "model",
        )
    if tuple(est.output_shape) != (k,):
        got = " x ".join(str(s) for s in est.output_shape) or "1"
        raise ConfigError(
            f"The model outputs {got} values per image but the dataset has {k} classes "
            f"({', '.join(bundle.classes[:6])}{', ...' if k > 6 else ''}): end the model with a Linear "
            f"layer whose out_features is {k}.",
            "model",
        )
    if est.total_bytes > MAX_RUN_MEMORY_BYTES:
        raise ConfigError(
            f"Training this model with batch size {batch_size} needs about {est.total_bytes / 1e9:.1f} GB of "
            f"memory; this server allows {MAX_RUN_MEMORY_BYTES / 1e9:.1f} GB per run. Lower the batch size "
            "or use fewer channels.",
            "model",
        )
    return est.params
