"""Hostile links that carry Residual blocks (issue 26): refused in words before any layer is read or built.

A block's inner layers count against MAX_LAYERS, so a short token whose one block holds thousands of
layers (a few hundred characters: they compress to nothing) is refused from the raw JSON's lengths,
before a single layer is validated; a block inside a block is refused at the first one.
"""

from __future__ import annotations

import pytest

from cnnlib import spec as S
from cnnlib.share import pack
from cnnlib.spec import BUILDER_LINK, MAX_LAYERS
from cnnlib.training.link import TRAINING_LINK

RELU = {"type": "ReLU"}
CONV = {"type": "Conv2d", "out_channels": 64, "kernel_size": 3, "padding": 1}


def token_of(layers: list) -> str:
    return pack({"input_shape": [1, 28, 28], "layers": layers})


HUGE_BLOCK = token_of([{"type": "Residual", "layers": [RELU] * 3000}])  # 48 KB of JSON: under the unpack cap
MANY_BLOCKS = token_of([{"type": "Residual", "layers": [RELU] * 30}] * 90)  # 90 x 31 = 2,790 layers
CONV_BOMB = token_of([{"type": "Residual", "layers": [CONV] * 5000}])  # over the unpack cap itself
NESTED = token_of(
    [
        {
            "type": "Residual",
            "layers": [{"type": "Residual", "layers": [{"type": "Residual", "layers": [RELU]}]}],
        }
    ]
)


@pytest.fixture
def layers_read(monkeypatch) -> list[int]:
    """Counts every layer object validated (LayerSpec.from_dict) and every model built."""
    calls: list[int] = []
    real = S.LayerSpec.from_dict.__func__  # type: ignore[attr-defined]

    def counting(cls, d, index=None, outer=None):
        calls.append(1)
        return real(cls, d, index, outer)

    monkeypatch.setattr(S.LayerSpec, "from_dict", classmethod(counting))
    monkeypatch.setattr(S.analysis, "build_model", lambda spec: pytest.fail("nothing is built"))
    return calls


@pytest.mark.parametrize(("token", "words"), [(HUGE_BLOCK, "3,001 layers"), (MANY_BLOCKS, "2,790 layers")])
def test_a_huge_block_is_refused_before_any_layer_is_read(layers_read, token, words):
    assert len(token) < 1000  # a short link
    with pytest.raises(ValueError) as e:
        S.parse_model(token)
    message = str(e.value)
    assert (
        words in message
        and f"caps models at {MAX_LAYERS} layers" in message
        and "inside its blocks" in message
    )
    assert layers_read == []


def test_a_nested_block_is_refused_at_the_first_block(layers_read):
    with pytest.raises(ValueError, match="one level deep"):
        S.parse_model(NESTED)
    assert layers_read == [1]  # the outer block only: refused from its raw inner list, none of them read


@pytest.mark.parametrize("schema", [BUILDER_LINK, TRAINING_LINK], ids=["builder", "training"])
@pytest.mark.parametrize(
    ("token", "words"),
    [
        (HUGE_BLOCK, "caps models"),
        (MANY_BLOCKS, "caps models"),
        (NESTED, "one level deep"),
        (CONV_BOMB, "64,000"),
    ],
    ids=["huge", "many", "nested", "bomb"],
)
def test_every_model_link_ignores_it_with_a_reason(schema, token, words):
    parsed = schema.parse({"model": token})
    assert "model" not in parsed.values and [i.key for i in parsed.ignored] == ["model"]
    assert words in parsed.ignored[0].reason


def test_a_fitting_block_still_comes_through():
    spec = S.PRESETS["Small ResNet"]
    parsed = BUILDER_LINK.parse({"model": S.spec_to_token(spec)})
    assert parsed.values["model"] == spec and not parsed.ignored
