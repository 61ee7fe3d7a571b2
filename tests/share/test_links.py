"""Page states as links: every schema round-trips random valid states, and hostile links only ever give
the defaults plus a message, with bounded work."""

from __future__ import annotations

import base64
import json
import random
import sys
import zlib

import numpy as np
import pytest

from cnnlib.inference import DRAW_LINK
from cnnlib.kernels import KERNELS, KERNELS_LINK, SAMPLE_NAMES
from cnnlib.shapes import SHAPES_LINK
from cnnlib.share import FRAME_LINK, Field, LinkSchema, pack, slug, unpack
from cnnlib.share.fields import MAX_KEYS, same
from cnnlib.spec import BUILDER_LINK, PRESETS, ModelSpec, SpecError, spec_from_token, spec_to_token
from cnnlib.training import TRAINING_LINK
from tests.spec.test_spec import RANDOM_SPECS

SCHEMAS = [KERNELS_LINK, SHAPES_LINK, BUILDER_LINK, TRAINING_LINK, DRAW_LINK, FRAME_LINK]


def random_value(schema: LinkSchema, f: Field, rng: random.Random):
    """A random valid value of field f (as the page would hold it)."""
    key = (schema.page, f.key)
    if f.kind == "choice":
        return rng.choice([v for _, v in f.choices])
    if f.kind == "bool":
        return rng.random() < 0.5
    if f.kind == "int":
        return rng.randint(int(f.lo), int(min(f.hi, 10**6)))
    if f.kind == "float":
        return round(rng.uniform(f.lo, min(f.hi, 10.0)), 4)
    if key == ("kernels", "weights"):
        n = rng.choice([3, 5, 7])
        return rng.choice([np.round(rng.uniform(-5, 5), 2), 1 / 9, -0.5]) * np.ones((n, n)) + np.eye(n)
    if key == ("kernels", "padding"):
        return rng.choice(["same", "valid", rng.randint(0, 8)])
    if key == ("kernels", "pixel"):
        return (rng.randint(0, 300), rng.randint(0, 300))
    if schema.page == "shapes":
        if f.key == "mode":
            return rng.choice(["one", "stack"])
        if f.key == "p":
            return rng.choice(["same", "valid", (rng.randint(0, 5), rng.randint(0, 5))])
        if f.key == "input":
            return (rng.randint(1, 3), rng.randint(1, 64), rng.randint(1, 64))
        if f.key == "stack":
            return [
                {"type": "Conv2d", "out_channels": rng.randint(1, 64), "kernel_size": 3},
                {"type": "ReLU"},
            ]
        lo = 1 if f.key in ("size", "k", "s", "d") else 0
        a = rng.randint(lo, 50)
        return (a, a) if rng.random() < 0.5 else (a, rng.randint(lo, 50))
    if f.key == "model":
        if schema.page == "draw":
            return "pretrained"
        pool = [*PRESETS.values(), *RANDOM_SPECS[:50]] + (["demo"] if schema.page == "training" else [])
        return rng.choice(pool)
    if key == ("training", "data"):
        return rng.choice(["shapes", "mnist-sample", "mnist", "fashion-mnist", "cifar10"])
    if key == ("training", "images"):
        return rng.choice([None, rng.randint(20, 10**6)])
    if key == ("training", "aug"):
        return tuple(a for a in ("rotate", "shift", "flip", "color") if rng.random() < 0.5)
    if key == ("training", "compare"):
        return rng.choice(
            [
                None,
                ("batchnorm", True),
                ("dropout", round(rng.uniform(0.05, 0.95), 2)),
                ("weight_decay", rng.choice([0.0, 1e-4, 0.001, 0.5])),
                (
                    "augment",
                    tuple(a for a in ("rotate", "shift", "flip", "color") if rng.random() < 0.5) or ("flip",),
                ),
                ("train_size", rng.randint(20, 10**6)),
                ("optimizer", rng.choice(["sgd", "adam", "adamw"])),
                ("epochs", rng.randint(1, 500)),
            ]
        )
    if key == ("draw", "pen"):
        return rng.randrange(8, 41, 2)
    if schema.page == "frame":
        return {
            "lesson": rng.choice(["edges_and_kernels", "upload"]),
            "class": "ABC234",
            "key": "k" * 32,
            "screen": "S-_" * 30,
        }[f.key]
    raise AssertionError(f"no generator for {key}")


def equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=0, atol=1e-12)
    if isinstance(a, ModelSpec) or isinstance(b, ModelSpec):
        da = a.to_dict() if isinstance(a, ModelSpec) else a
        db = b.to_dict() if isinstance(b, ModelSpec) else b
        return da == db
    return same(a, b) or a == b


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.page)
def test_random_valid_states_round_trip(schema):
    rng = random.Random(hash(schema.page) % 1000)
    for _ in range(200):
        state = {f.key: random_value(schema, f, rng) for f in schema.fields if rng.random() < 0.7}
        params = schema.encode(state)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
        parsed = schema.parse(params)
        assert parsed.ignored == (), (params, parsed.ignored)
        for key, value in state.items():
            got = parsed.values.get(key, schema.field(key).default)
            assert equal(got, value), (schema.page, key, value, got, params)


def test_defaults_are_left_out_of_links():
    for schema in SCHEMAS:
        assert schema.encode(schema.defaults) == {}, schema.page


def test_readable_keys_for_the_kernels_page():
    params = KERNELS_LINK.encode({"kernel": "Sobel y", "stride": 2, "padding": 1, "pixel": (12, 7)})
    assert params == {"kernel": "sobel_y", "stride": "2", "padding": "1", "pixel": "12,7"}
    assert {slug(n) for n in SAMPLE_NAMES} <= {w for w, _ in KERNELS_LINK.field("image").choices}
    assert {slug(n) for n in KERNELS} <= {w for w, _ in KERNELS_LINK.field("kernel").choices}


HOSTILE = [
    ({"stride": "abc"}, "stride", "not a whole number"),
    ({"stride": "999"}, "stride", "outside"),
    ({"bias": "nan"}, "bias", "ordinary number"),
    ({"kernel": "<script>"}, "kernel", "not one of"),
    ({"weights": ",".join(["1"] * 10**6)}, "weights", "too long"),
    ({"weights": "1,2;3"}, "weights", "square"),
    ({"weights": "1,x,0;0,0,0;0,0,0"}, "weights", "row 1, column 2"),
    ({"pixel": "1,2,3"}, "pixel", "row,col"),
    ({"unknown": "1"}, "unknown", "not a setting"),
    ({"padding": "-1"}, "padding", "outside"),
]


@pytest.mark.parametrize(("params", "key", "words"), HOSTILE)
def test_hostile_kernel_params_are_ignored_with_a_reason(params, key, words):
    parsed = KERNELS_LINK.parse(params)
    assert key not in parsed.values
    assert any(i.key == key and words in i.reason for i in parsed.ignored), parsed.ignored
    assert key in parsed.message() and "ignored" in parsed.message()


class CountedParams(dict):
    """A link's parameters that count how many of them the parser reads."""

    read = 0

    def items(self):
        for item in super().items():
            self.read += 1
            yield item


def test_a_link_with_thousands_of_keys_is_cut_short():
    """Bounded work: the parser stops reading after MAX_KEYS + 1 keys (its time: benchmarks/bench_limits.py)."""
    params = CountedParams({f"k{i}": "x" * 100 for i in range(100_000)})
    parsed = KERNELS_LINK.parse(params)
    assert params.read == MAX_KEYS + 1
    assert len(parsed.ignored) == MAX_KEYS + 1 and "more than" in parsed.ignored[-1].reason


def test_repeated_keys_and_lists_use_the_last_value():
    assert KERNELS_LINK.parse({"stride": ["2", "3"]}).values == {"stride": 3}


def test_shared_keys_are_left_to_the_frame():
    parsed = KERNELS_LINK.parse({"present": "1", "class": "ABCD23", "step": "2"})
    assert parsed.values == {} and parsed.ignored == ()
    frame = FRAME_LINK.parse({"present": "1", "class": "abcd23", "step": "2", "stride": "3"})
    assert frame.values == {"present": True, "class": "ABCD23", "step": 2}


# ------------------------------------------------------------------------------- packed state


def test_spec_tokens_round_trip_every_preset_and_random_specs():
    for spec in [*PRESETS.values(), *RANDOM_SPECS]:
        token = spec_to_token(spec)
        assert token.startswith("v1.") and len(token) < 2000
        assert spec_from_token(token).to_dict() == spec.to_dict()
    assert max(len(spec_to_token(s)) for s in PRESETS.values()) < 400


def _token(raw: bytes) -> str:
    return "v1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("", "empty"),
        ("v2.abc", "another version"),
        ("nonsense", "does not start"),
        ("v1.@@@", "characters"),
        ("v1.a", "base64"),
        (_token(b"not zlib at all"), "could not be unpacked"),
        (_token(zlib.compress(b"{not json")), "not JSON"),
        (_token(zlib.compress(b"[1, 2]")), "JSON object"),
        (
            _token(
                zlib.compress(json.dumps({"input_shape": [1, 28, 28], "layers": [{"type": "Nope"}]}).encode())
            ),
            "Nope",
        ),
        (_token(zlib.compress(b'{"a": 1}')[:-4]), "incomplete"),
        ("v1." + "A" * 10_000, "characters long"),
    ],
)
def test_bad_spec_tokens_say_what_is_wrong(token, words):
    with pytest.raises(SpecError, match=words):
        spec_from_token(token)


def test_a_zip_bomb_of_100000_layers_is_refused_after_bounded_work(monkeypatch):
    """Refused by the unpacker's size limit, never decoded into a spec (its time:
    benchmarks/bench_limits.py)."""
    bomb = {"input_shape": [1, 28, 28], "layers": [{"type": "ReLU"}] * 100_000}
    token = pack(bomb)
    assert len(token) < 6000  # small in a link ...
    token_module = sys.modules["cnnlib.spec.token"]
    built = []
    monkeypatch.setattr(token_module.ModelSpec, "from_dict", lambda data: built.append(data))
    limit = f"unpacks to more than {sys.modules['cnnlib.share.tokens'].MAX_JSON_CHARS:,} characters"
    with pytest.raises(SpecError, match=limit):  # ... but never unpacked past the limit
        spec_from_token(token)
    assert built == []
    monkeypatch.undo()
    parsed = BUILDER_LINK.parse({"model": token})
    assert "model" not in parsed.values and "more than" in parsed.message()


def test_a_spec_of_too_many_layers_is_refused_by_the_spec_itself():
    token = pack({"input_shape": [1, 28, 28], "layers": [{"type": "ReLU"}] * 150})
    with pytest.raises(SpecError, match="layers"):
        spec_from_token(token)


def test_pack_round_trips_json_values():
    for value in [[1, 2, 3], {"a": [1, {"b": "c"}]}, "text", 3.5]:
        assert unpack(pack(value)) == value


def test_shapes_stack_link_checks_its_layers():
    good = pack([{"type": "Conv2d", "out_channels": 8, "kernel_size": 3}, {"type": "ReLU"}])
    assert SHAPES_LINK.parse({"stack": good}).values["stack"][1] == {"type": "ReLU"}
    for bad in (
        [{"type": "Evil"}],
        [{"type": "ReLU", "x": {"nested": 1}}],
        [{"type": "ReLU"}] * 51,
        {"a": 1},
    ):
        parsed = SHAPES_LINK.parse({"stack": pack(bad)})
        assert "stack" not in parsed.values and parsed.ignored


def test_quiz_and_uploads_are_never_in_links():
    assert "each student" in SHAPES_LINK.parse({"mode": "quiz"}).message()
    assert "uploaded dataset" in TRAINING_LINK.parse({"data": "upload"}).message()
    assert "session" in DRAW_LINK.parse({"model": "my model"}).message()
