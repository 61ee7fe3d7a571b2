"""The bundled pretrained digit model: `load_pretrained` and `load_pretrained_bundle`.

The model file (`cnnlib/data/<name>_cnn.pt`, made by `scripts/train_pretrained.py`) is a
`cnnlib.trained.TrainedModel` in its dict form (spec, state_dict, classes, accuracy, mean, std, and
how it was trained) loaded with `torch.load(weights_only=True)`, never a pickled module. A missing,
corrupt or mismatched file raises `PretrainedError` with a message that says how to recreate it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from cnnlib.data import DATA_DIR
from cnnlib.inference.model_input import MNIST_MEAN, MNIST_STD, scalar_stat
from cnnlib.spec import ModelSpec
from cnnlib.trained import REQUIRED_KEYS, TrainedModel

__all__ = ["PretrainedError", "pretrained_path", "load_pretrained_bundle", "load_pretrained"]


class PretrainedError(RuntimeError):
    """The bundled model file is missing, unreadable or does not fit its spec."""


@dataclass
class PretrainedBundle:
    """Everything stored with a bundled model."""

    model: nn.Module
    spec: dict
    classes: list[str]
    test_accuracy: float
    mean: float
    std: float
    info: dict


def pretrained_path(name: str = "mnist") -> Path:
    """The bundled model file for `name`: DATA_DIR / "<name>_cnn.pt" (DATA_DIR read at each call)."""
    return DATA_DIR / f"{name}_cnn.pt"


def load_pretrained_bundle(name: str = "mnist", path: Path | str | None = None) -> PretrainedBundle:
    """Load a bundled model (spec + state_dict, read with weights_only=True) on the CPU, in eval mode.

    Raises PretrainedError with a readable message when the file is missing, corrupt or does not
    match its spec.
    """
    file = Path(path) if path is not None else pretrained_path(name)
    script = "python scripts/train_pretrained.py"
    if not file.is_file():
        raise PretrainedError(f"The pretrained model file {file.name} is missing. Create it with `{script}`.")
    try:
        blob = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling/zip error means the same thing here
        raise PretrainedError(
            f"The pretrained model file {file.name} could not be read ({type(err).__name__}); it may be "
            f"corrupt or incomplete. Recreate it with `{script}`."
        ) from err
    if not isinstance(blob, dict) or not set(REQUIRED_KEYS) <= set(blob):
        raise PretrainedError(
            f"The pretrained model file {file.name} lacks {sorted(REQUIRED_KEYS)}. Recreate it with `{script}`."
        )
    try:
        record = TrainedModel.from_dict(blob)
        spec = ModelSpec.from_dict(record.spec)
        model = record.build()  # on the CPU, in eval mode
    except Exception as err:  # noqa: BLE001
        raise PretrainedError(
            f"The pretrained model in {file.name} does not match its own spec ({err}). Recreate it with `{script}`."
        ) from err
    for p in model.parameters():
        p.requires_grad_(False)  # shared by every session: nothing may train it
    return PretrainedBundle(
        model=model,
        spec=spec.to_dict(),
        classes=record.classes,
        test_accuracy=float("nan") if record.test_accuracy is None else record.test_accuracy,
        mean=scalar_stat(record.mean or MNIST_MEAN),
        std=scalar_stat(record.std or MNIST_STD),
        info={k: v for k, v in blob.items() if k not in ("state_dict", "spec")},
    )


def load_pretrained(name: str = "mnist") -> tuple[nn.Module, dict, list[str]]:
    """The bundled pretrained model: (model in eval mode on the CPU, spec dict, class names)."""
    bundle = load_pretrained_bundle(name)
    return bundle.model, bundle.spec, bundle.classes
