"""A model spec as a short URL-safe token, so a link can carry a whole model: "v1.<base64>".

The token is the spec's compact JSON (fields at their defaults left out), packed by
cnnlib.share.pack (zlib, URL-safe base64, a version prefix), so `spec_to_token` of every preset is a
few hundred characters. `spec_from_token` is for untrusted input: the pack's limits (token length,
unpacked size: a zip bomb of 10^5 layers is refused, not unpacked) and then `ModelSpec.from_dict`.
Every refusal is a SpecError saying what is wrong.
"""

from __future__ import annotations

from typing import Any

from cnnlib.share import PackError, pack, unpack
from cnnlib.spec.fields import FIELDS, SpecError
from cnnlib.spec.model import LayerSpec, ModelSpec

__all__ = ["spec_to_token", "spec_from_token"]


def compact_layer(layer: LayerSpec) -> dict[str, Any]:
    """One layer as a dict without the fields at their defaults (a block's inner layers likewise)."""
    if layer.inner:
        return {"type": layer.type, "layers": [compact_layer(x) for x in layer.inner]}
    d: dict[str, Any] = {"type": layer.type}
    for info in FIELDS[layer.type]:
        value = layer.params.get(info.name)
        if info.required or value != info.default:
            d[info.name] = value
    return d


def compact_dict(spec: ModelSpec) -> dict[str, Any]:
    """The spec as a dict without the fields at their defaults (`ModelSpec.from_dict` restores them)."""
    return {"input_shape": list(spec.input_shape), "layers": [compact_layer(x) for x in spec.layers]}


def spec_to_token(spec: ModelSpec) -> str:
    """The spec as a link token ("v1." + URL-safe base64 of its compressed compact JSON)."""
    return pack(compact_dict(spec))


def spec_from_token(token: str) -> ModelSpec:
    """The spec a token holds; SpecError for anything else, with a message naming what is wrong."""
    try:
        data = unpack(token, "model link")
    except PackError as exc:
        raise SpecError(str(exc)) from None
    return ModelSpec.from_dict(data)
