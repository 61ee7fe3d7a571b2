"""`TrainedModel`: a trained model as plain data, the one record every part of the app reads.

A training run makes one (`TrainingRun.record()`), the Training page keeps it in the session as a
dict (`to_dict()`), the weights export writes that dict with `torch.save` (`to_bytes()`), and Draw &
predict and the bundled pretrained model read one back (`from_dict`, `from_bytes`) and rebuild the
network (`build()`). The dict form is the one stored and exported since the start:

    {"spec", "state_dict", "classes", "mean", "std", "dataset"}    + "name", "test_accuracy" when known

plus any other keys a stored file has (the pretrained file's epochs, seed, ...), kept in `extra`.
Only tensors and plain Python data: `torch.load(f, weights_only=True)` reads it back, and no
pickled module is ever written.

Why here, a small module of its own, and not in cnnlib.training: cnnlib.training imports
cnnlib.inference (its feature maps), and cnnlib.inference reads these records, so a record inside
either package would make an import circle between the two. Both import it from here, and
cnnlib.training re-exports it beside `TrainingRun`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnlib.spec import ModelSpec, build_model

__all__ = ["REQUIRED_KEYS", "TrainedModel"]


REQUIRED_KEYS = ("spec", "state_dict", "classes")
KNOWN_KEYS = ("name", "spec", "state_dict", "classes", "dataset", "test_accuracy", "mean", "std")


def floats(value: Any) -> list[float]:
    """A per-channel statistic (a number, a sequence, an array or a tensor) as a list of floats."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return [float(v) for v in np.asarray(value, dtype=np.float64).reshape(-1)]


@dataclass
class TrainedModel:
    """A trained model's spec, weights, class names and input statistics (mean and std per channel).

    `spec` is a `ModelSpec.to_dict()`; `state_dict` maps parameter names to tensors (kept as given:
    `TrainingRun.record()` stores CPU copies); `test_accuracy` is None when unknown.
    """

    spec: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    classes: list[str]
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    dataset: str = ""
    name: str = ""
    test_accuracy: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- the dict form ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The stored form: spec, state_dict, classes, mean, std, dataset; name and test_accuracy
        when known; then the extra keys. No tensor is copied."""
        out: dict[str, Any] = {"name": self.name} if self.name else {}
        out.update(
            spec=self.spec,
            state_dict=self.state_dict,
            classes=list(self.classes),
            dataset=self.dataset,
        )
        if self.test_accuracy is not None:
            out["test_accuracy"] = self.test_accuracy
        out.update(mean=list(self.mean), std=list(self.std))
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainedModel:
        """Read the stored form back (a session record, an exported or a bundled file).

        Raises ValueError when `data` is not a mapping or lacks spec, state_dict or classes. The
        spec may also be a ModelSpec (anything with `to_dict()`); mean and std may be numbers,
        sequences or tensors. No tensor is copied.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"A trained model is a dict, got {type(data).__name__}.")
        missing = [k for k in REQUIRED_KEYS if k not in data]
        if missing:
            raise ValueError(f"This trained model lacks {', '.join(missing)}.")
        spec = data["spec"]
        accuracy = data.get("test_accuracy")
        return cls(
            spec=spec.to_dict() if hasattr(spec, "to_dict") else dict(spec),
            state_dict=dict(data["state_dict"]),
            classes=[str(c) for c in data["classes"]],
            mean=floats(data.get("mean", [])),
            std=floats(data.get("std", [])),
            dataset=str(data.get("dataset") or ""),
            name=str(data.get("name") or ""),
            test_accuracy=None if accuracy is None else float(accuracy),
            extra={k: v for k, v in data.items() if k not in KNOWN_KEYS},
        )

    # -- the file form ---------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """`torch.save` of the dict form, every tensor a detached CPU copy (readable with
        `torch.load(f, weights_only=True)`)."""
        payload = self.to_dict()
        payload["state_dict"] = {k: v.detach().cpu().clone() for k, v in self.state_dict.items()}
        buf = io.BytesIO()
        torch.save(payload, buf)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainedModel:
        """Read `to_bytes` output back, with weights_only=True (safe against pickled code)."""
        return cls.from_dict(torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))

    # -- the network ------------------------------------------------------------------------------
    def build(self) -> nn.Module:
        """The network with these weights, on the CPU, in eval mode.

        Raises SpecError for a spec that cannot be built and RuntimeError (load_state_dict, strict)
        for weights that do not fit it.
        """
        model = build_model(ModelSpec.from_dict(self.spec))
        state = {k: v.detach().to("cpu") for k, v in self.state_dict.items()}
        model.load_state_dict(state, strict=True)
        model.eval()
        return model

    @property
    def weight_bytes(self) -> int:
        """Bytes the weights take in memory."""
        return sum(t.numel() * t.element_size() for t in self.state_dict.values())
