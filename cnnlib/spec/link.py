"""The Model builder's state as a link: the model itself, `?model=lenet_5` or `?model=v1.<token>`.

`model` is a preset's name as a link word (simplecnn, lenet_5, ...) when the model is exactly that
preset, else the whole spec as a token (cnnlib.spec.token: a few hundred characters, checked like an
uploaded file). The same field carries the model of a Training link.
"""

from __future__ import annotations

from typing import Any

from cnnlib.share import FRAME_KEYS, Field, LinkSchema, slug
from cnnlib.spec.fields import SpecError
from cnnlib.spec.model import ModelSpec
from cnnlib.spec.presets import DEFAULT_PRESET, PRESETS
from cnnlib.spec.token import spec_from_token, spec_to_token

__all__ = ["parse_model", "format_model", "BUILDER_LINK"]


_BY_WORD = {slug(name): name for name in PRESETS}


def parse_model(text: str) -> ModelSpec:
    """A preset's link word (or name) or a spec token -> the spec; ValueError naming the problem."""
    word = slug(text)
    if word in _BY_WORD:
        return PRESETS[_BY_WORD[word]]
    if not text.startswith("v"):
        raise ValueError(f"{text[:40]!r} is not a preset ({', '.join(_BY_WORD)}) nor a model token")
    try:
        return spec_from_token(text)
    except SpecError as exc:
        raise ValueError(str(exc).rstrip(".")) from None


def format_model(spec: Any) -> str:
    """A preset's link word when `spec` is exactly a preset, else its token."""
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec.from_dict(spec)
    d = spec.to_dict()
    for name, preset in PRESETS.items():
        if preset.to_dict() == d:
            return slug(name)
    return spec_to_token(spec)


def model_field(default: ModelSpec | None, key: str = "model") -> Field:
    return Field(key, "custom", default, "model", max_len=6000, parse_fn=parse_model, format_fn=format_model)


BUILDER_LINK = LinkSchema(
    "builder", (model_field(PRESETS[DEFAULT_PRESET]),), title="Model builder", shared_keys=FRAME_KEYS
)
