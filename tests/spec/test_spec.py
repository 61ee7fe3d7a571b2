"""Tests for cnnlib.spec with PyTorch as the oracle: shapes, counts, JSON, code, errors, fixes."""

from __future__ import annotations

import json
import random

import pytest
import torch
from torch import nn

from cnnlib import spec as S
from cnnlib.spec import PRESETS, ModelSpec, SpecError
from cnnlib.spec.formatting import format_rf


def torch_shapes(model: nn.Sequential, input_shape) -> list[tuple[int, ...]]:
    """Each child's output shape (without batch) from a real forward pass on a zero batch."""
    model.eval()
    x = torch.zeros(2, *input_shape)  # [N=2, C, H, W]
    shapes = []
    with torch.no_grad():
        for child in model:
            x = child(x)
            shapes.append(tuple(x.shape[1:]))
    return shapes


def exec_code(code: str) -> type:
    namespace: dict = {}
    exec(compile(code, "<generated>", "exec"), namespace)
    return namespace["Net"]


# ---------------------------------------------------------------------------------------------
# Random valid specs


def random_pair(rng: random.Random, lo: int, hi: int):
    if rng.random() < 0.2:
        return [rng.randint(lo, hi), rng.randint(lo, hi)]
    return rng.randint(lo, hi)


# Every type in LAYER_TYPES is swept (a new one too, with its defaults until it gets a random branch
# below): these need a [C, H, W] input, Linear a flat one; Flatten is placed by random_spec; Conv2d
# and Linear are drawn more often.
SPATIAL_ONLY = {"Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d", "Dropout2d"}
WEIGHTS = {"Conv2d": 3, "Linear": 2}


def layer_types(flat: bool) -> list[str]:
    """The types random_layer draws from, each repeated by its weight."""
    if flat:
        kinds = [t for t in S.LAYER_TYPES if t not in SPATIAL_ONLY]
    else:
        kinds = [t for t in S.LAYER_TYPES if t not in ("Linear", "Flatten")]
    return [t for t in kinds for _ in range(WEIGHTS.get(t, 1))]


def random_layer(rng: random.Random, flat: bool) -> dict:
    t = rng.choice(layer_types(flat))
    d: dict = {"type": t}
    if t == "Conv2d":
        d["out_channels"] = rng.randint(1, 6)
        d["kernel_size"] = random_pair(rng, 1, 4)
        if rng.random() < 0.3:
            d["stride"] = random_pair(rng, 1, 2)
        r = rng.random()
        if r < 0.15 and d.get("stride", 1) == 1:
            d["padding"] = "same"
        elif r < 0.25:
            d["padding"] = "valid"
        elif r < 0.7:
            d["padding"] = random_pair(rng, 0, 2)
        if rng.random() < 0.2:
            d["dilation"] = random_pair(rng, 1, 2)
        if rng.random() < 0.2:
            d["bias"] = False
    elif t in ("MaxPool2d", "AvgPool2d"):
        k = rng.randint(1, 3)
        d["kernel_size"] = k
        if rng.random() < 0.3:
            d["stride"] = rng.randint(1, 3)
        if rng.random() < 0.3:
            d["padding"] = rng.randint(0, k // 2)
        if rng.random() < 0.2:
            d["ceil_mode"] = True
    elif t == "AdaptiveAvgPool2d":
        d["output_size"] = random_pair(rng, 1, 5)
    elif t == "LeakyReLU":
        d["negative_slope"] = round(rng.uniform(0, 0.3), 3)
    elif t in ("Dropout", "Dropout2d"):
        d["p"] = round(rng.uniform(0, 0.9), 2)
    elif t == "Linear":
        d["out_features"] = rng.randint(1, 20)
        if rng.random() < 0.2:
            d["bias"] = False
    elif t == "Residual":  # 1-3 inner layers that keep a feature map (never a block: one level deep)
        inner = [random_layer(rng, False) for _ in range(rng.randint(1, 3))]
        d["layers"] = [x for x in inner if x["type"] != "Residual"] or [{"type": "ReLU"}]
    return d


def random_spec(rng: random.Random) -> ModelSpec:
    c = rng.choice([1, 3])
    h, w = rng.randint(4, 20), rng.randint(4, 20)
    layers: list[dict] = []
    flat = False
    for _ in range(rng.randint(0, 9)):
        if not flat and rng.random() < 0.15:
            layers.append({"type": "Flatten"})
            flat = True
            continue
        layers.append(random_layer(rng, flat))
    if rng.random() < 0.6:
        if not flat:
            layers.append({"type": "Flatten"})
        layers.append({"type": "Linear", "out_features": rng.randint(2, 10)})
    return ModelSpec.from_dict({"input_shape": [c, h, w], "layers": layers})


def explicit(spec: ModelSpec) -> ModelSpec:
    """The spec with every inferred in_channels / num_features / in_features written out."""
    for row in S.summarize(spec):
        name = {"Conv2d": "in_channels", "BatchNorm2d": "num_features", "Linear": "in_features"}.get(row.type)
        if name:
            spec = S.set_layer_field(spec, row.index, name, row.input_shape[0])
    return spec


def valid_random_specs(n: int, seed: int = 1234) -> list[ModelSpec]:
    rng = random.Random(seed)
    specs, tries = [], 0
    while len(specs) < n:
        tries += 1
        s = random_spec(rng)
        if S.check(s) is None:
            # half of them with the inferred in_* values written out, as a tutorial would
            specs.append(explicit(s) if rng.random() < 0.5 else s)
    assert tries < 3 * n, "the generator should mostly produce valid specs"
    return specs


RANDOM_SPECS = valid_random_specs(300)


def test_the_random_specs_sweep_every_layer_type():
    assert {layer.type for spec in RANDOM_SPECS for layer in spec.layers} == set(S.LAYER_TYPES)


@pytest.mark.slow  # ~20 s
def test_random_specs_summary_matches_torch():
    for spec in RANDOM_SPECS:
        summary = S.summarize(spec)
        model = S.build_model(spec)
        assert [name for name, _ in model.named_children()] == [str(i) for i in range(len(spec.layers))]
        assert [row.output_shape for row in summary] == torch_shapes(model, spec.input_shape), spec.to_json()
        for row, child in zip(summary, model, strict=True):
            assert row.params == sum(p.numel() for p in child.parameters())
            assert row.trainable_params == sum(p.numel() for p in child.parameters() if p.requires_grad)
            assert row.state_bytes == sum(t.numel() * t.element_size() for t in child.state_dict().values())
            assert row.type == type(child).__name__


@pytest.mark.slow  # a sweep of 300 random specs (~50 s): the full suite runs it, the quick check does not
def test_random_specs_round_trip_json_and_code():
    torch.manual_seed(0)
    for spec in RANDOM_SPECS:
        again = ModelSpec.from_json(spec.to_json())
        assert ModelSpec.from_json(spec.to_json(indent=None)) == spec
        assert again == spec
        assert ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
        model = S.build_model(spec).eval()
        net = exec_code(S.to_pytorch_code(spec))().eval()
        assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in model.parameters())
        net.layers.load_state_dict(model.state_dict())
        x = torch.randn(2, *spec.input_shape)  # [N, C, H, W]
        with torch.no_grad():
            assert torch.equal(net(x), model(x))


def _macs_of(child: nn.Module, out_numel: int) -> int:
    """Multiply-adds by definition: a conv's C_in x k x k per output value, a Linear's in x out."""
    if isinstance(child, nn.Conv2d):
        kh, kw = child.kernel_size
        return child.in_channels * kh * kw * out_numel
    if isinstance(child, nn.Linear):
        return child.in_features * child.out_features
    return 0


def test_macs_match_definition():
    for spec in RANDOM_SPECS[:80]:
        for row, child in zip(S.summarize(spec), S.build_model(spec), strict=True):
            if isinstance(child, S.Residual):  # its inner layers' MACs and its 1x1 projection's
                down = 0 if child.downsample is None else _macs_of(child.downsample[0], row.output_numel)
                inner = sum(_macs_of(c, r.output_numel) for c, r in zip(child.body, row.inner, strict=True))
                assert row.macs == inner + down
            elif isinstance(child, nn.Conv2d):
                kh, kw = child.kernel_size
                assert row.macs == child.in_channels * kh * kw * row.output_numel
            elif isinstance(child, nn.Linear):
                assert row.macs == child.in_features * child.out_features
            else:
                assert row.macs == 0


def _grad_footprint(model: nn.Sequential, in_hw: tuple[int, int], out_pos: tuple[int, int]):
    x = torch.zeros(1, 1, *in_hw, requires_grad=True)  # [1, 1, H, W]
    y = model(x)  # [1, C, H', W']
    y[0, 0, out_pos[0], out_pos[1]].backward()
    nz = (x.grad[0, 0] != 0).nonzero()
    return (int(nz[:, 0].min()), int(nz[:, 1].min())), (
        int(nz[:, 0].max() - nz[:, 0].min() + 1),
        int(nz[:, 1].max() - nz[:, 1].min() + 1),
    )


def test_receptive_field_and_jump_match_gradients():
    """The receptive field is where the input gradient of one output unit is non-zero."""
    rng = random.Random(7)
    for _ in range(25):
        layers = []
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.6:
                layers.append(
                    {
                        "type": "Conv2d",
                        "out_channels": 1,
                        "kernel_size": random_pair(rng, 1, 4),
                        "stride": random_pair(rng, 1, 2),
                        "dilation": random_pair(rng, 1, 2),
                    }
                )
            else:
                layers.append(
                    {"type": "AvgPool2d", "kernel_size": rng.randint(1, 3), "stride": rng.randint(1, 3)}
                )
        spec = ModelSpec.from_dict({"input_shape": [1, 64, 64], "layers": layers})
        row = S.summarize(spec)[-1]
        model = S.build_model(spec)
        for m in model:
            if isinstance(m, nn.Conv2d):
                nn.init.constant_(m.weight, 1.0)
        rf = row.receptive_field if isinstance(row.receptive_field, tuple) else (row.receptive_field,) * 2
        jump = row.jump if isinstance(row.jump, tuple) else (row.jump,) * 2
        start0, size0 = _grad_footprint(model, (64, 64), (0, 0))
        assert size0 == rf, spec.to_json()
        if row.output_shape[1] > 1 and row.output_shape[2] > 1:
            start1, _ = _grad_footprint(model, (64, 64), (1, 1))
            assert (start1[0] - start0[0], start1[1] - start0[1]) == jump


def test_receptive_field_known_values():
    rows = S.summarize(PRESETS["SimpleCNN"])
    assert [r.receptive_field for r in rows[:6]] == [3, 3, 4, 8, 8, 10]
    assert [r.jump for r in rows[:6]] == [1, 1, 2, 2, 2, 4]
    assert format_rf(rows[7]) == "whole image"
    gap = ModelSpec.from_dict(
        {"input_shape": [1, 8, 8], "layers": [{"type": "AdaptiveAvgPool2d", "output_size": 1}]}
    )
    assert S.summarize(gap)[0].receptive_field == 8


# ---------------------------------------------------------------------------------------------
# Broken specs


def spec_d(layers, shape=(1, 28, 28)):
    return {"input_shape": list(shape), "layers": layers}


C3 = {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}
FLAT = {"type": "Flatten"}
LIN = {"type": "Linear", "out_features": 10}
POOL = {"type": "MaxPool2d", "kernel_size": 2}

# (name, input to from_dict/from_json, layer index, words in the message, fix kind or None)
BROKEN = [
    ("not json", "{not json", None, "not valid JSON", None),
    ("json list", "[1, 2, 3]", None, "must be a JSON object", None),
    ("no layers", {"input_shape": [1, 28, 28]}, None, '"layers"', None),
    ("bad key", {"input_shape": [1, 28, 28], "layers": [], "lr": 3}, None, '"lr"', None),
    ("shape too short", {"input_shape": [28, 28], "layers": []}, None, "input_shape", None),
    (
        "shape text",
        {"input_shape": [1, "28", 28], "layers": []},
        None,
        'the text "28" (remove the quotes)',
        None,
    ),
    ("layers not list", {"input_shape": [1, 28, 28], "layers": {"type": "ReLU"}}, None, "list", None),
    ("layer not object", spec_d([C3, "ReLU"]), 1, "must be an object", None),
    ("no type", spec_d([C3, {"out_features": 3}]), 1, 'no "type"', None),
    ("unknown type", spec_d([C3, {"type": "Conv3d"}]), 1, 'Did you mean "Conv2d"', None),
    ("lowercase type", spec_d([{"type": "relu"}]), 0, 'Did you mean "ReLU"', None),
    ("missing field", spec_d([{"type": "Conv2d", "out_channels": 4}]), 0, '"kernel_size"', None),
    (
        "unknown field",
        spec_d([{"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "kernel": 3}]),
        0,
        '"kernel"',
        None,
    ),
    ("kernel 0", spec_d([{"type": "Conv2d", "out_channels": 4, "kernel_size": 0}]), 0, "at least 1", None),
    ("negative padding", spec_d([{**C3, "padding": -1}]), 0, "at least 0", None),
    ("string number", spec_d([C3, {**C3, "out_channels": "16"}]), 1, 'the text "16"', None),
    ("bool for int", spec_d([{**C3, "kernel_size": True}]), 0, "true/false", None),
    ("float for int", spec_d([{**C3, "out_channels": 2.5}]), 0, "whole number", None),
    ("string for bool", spec_d([{**C3, "bias": "yes"}]), 0, "true or false", None),
    ("dropout p 2", spec_d([C3, {"type": "Dropout", "p": 2}]), 1, "between 0 and 1", None),
    ("bad pair", spec_d([{**C3, "kernel_size": [3, 3, 3]}]), 0, "pair", None),
    ("bad padding text", spec_d([{**C3, "padding": "full"}]), 0, '"same" or "valid"', None),
    ("in_features text", spec_d([FLAT, {**LIN, "in_features": "lots"}]), 1, '"auto"', None),
    # shape-level: the spec parses, then cannot run
    ("input 1x1", spec_d([C3], (1, 1, 1)), None, "at least 2 x 2", "set_input"),
    ("input 1 pixel high", spec_d([C3], (3, 1, 32)), None, "at least 2 x 2", "set_input"),
    ("input too big", spec_d([C3], (1, 5000, 28)), None, "caps images at 1024 x 1024", "set_input"),
    ("input not a list", {"input_shape": "1, 28, 28", "layers": []}, None, "three numbers", None),
    ("input float", {"input_shape": [1, 28.5, 28], "layers": []}, None, "not 28.5", None),
    ("input negative", {"input_shape": [1, -28, 28], "layers": []}, None, "at least 1, got -28", None),
    ("empty file", "", None, "not valid JSON", None),
    ("json string", '"SimpleCNN"', None, "must be a JSON object", None),
    ("json null", "null", None, "must be a JSON object", None),
    ("deeply nested junk", "[" * 100_000 + "]" * 100_000, None, "nested too deeply", None),
    (
        "nested junk in a field",
        '{"input_shape": [1, 28, 28], "layers": [{"type": "Conv2d", "out_channels": '
        + "[" * 900
        + "]" * 900
        + ', "kernel_size": 3}]}',
        0,
        "must be a whole number like 3, not [[[",
        None,
    ),
    (
        "a number with 5000 digits",
        '{"input_shape": [1, 28, 28], "layers": [{"type": "Linear", "out_features": ' + "9" * 5000 + "}]}",
        None,
        "thousands of digits",
        None,
    ),
    ("huge number", spec_d([{**C3, "out_channels": 10**30}]), 0, "at most 1,000,000, got 1e+30.", None),
    ("huge float", spec_d([{**C3, "out_channels": 1e308}]), 0, "got 1e+308.", None),
    ("zero channels", spec_d([{**C3, "out_channels": 0}]), 0, "at least 1, got 0", None),
    ("negative features", spec_d([FLAT, {**LIN, "out_features": -5}]), 1, "at least 1, got -5", None),
    ("stride 0", spec_d([{**C3, "stride": 0}]), 0, "stride must be at least 1", None),
    ("NaN", '{"input_shape": [1, 28, 28], "layers": [{"type": "Dropout", "p": NaN}]}', 0, "not nan", None),
    ("type not text", spec_d([{"type": ["Conv2d"]}]), 0, "unknown type", None),
    ("layers null", {"input_shape": [1, 28, 28], "layers": None}, None, "not null", None),
    ("linear first on the image", spec_d([LIN]), 0, "feature map of shape 1 x 28 x 28", "insert"),
    ("input 0 channels", spec_d([C3], (0, 28, 28)), None, "at least 1", None),
    ("too many channels", spec_d([C3], (100, 28, 28)), None, "at most 64", None),
    ("linear before flatten", spec_d([C3, {"type": "ReLU"}, LIN]), 2, "insert a Flatten", "insert"),
    ("bn after flatten", spec_d([C3, FLAT, {"type": "BatchNorm2d"}, LIN]), 2, "Flatten at layer 2", "move"),
    ("conv after linear", spec_d([C3, FLAT, LIN, C3]), 3, "flat vector of 10 features", "remove"),
    ("pool after flatten", spec_d([C3, FLAT, POOL]), 2, "move it before the Flatten", "move"),
    ("dropout2d after flatten", spec_d([C3, FLAT, {"type": "Dropout2d"}]), 2, "use Dropout", "replace"),
    (
        "in_features wrong",
        spec_d([{**C3, "in_channels": 1}, POOL, FLAT, {**LIN, "in_features": 392}]),
        3,
        "expects 392 input features but receives 1568 (8 x 14 x 14)",
        "set_field",
    ),
    (
        "in_channels wrong",
        spec_d([C3, {**C3, "in_channels": 4}]),
        1,
        "expects 4 input channels but receives 8",
        "set_field",
    ),
    (
        "num_features wrong",
        spec_d([C3, {"type": "BatchNorm2d", "num_features": 16}]),
        1,
        "receives 8",
        "set_field",
    ),
    ("shrinks below 1 (pool)", spec_d([POOL] * 5, (1, 28, 28)), 4, "smaller than its 2x2 window", "remove"),
    (
        "kernel bigger than map",
        spec_d([{"type": "Conv2d", "out_channels": 2, "kernel_size": 7}], (1, 5, 5)),
        0,
        "too small for its 7x7 kernel",
        "set_field",
    ),
    ("pool padding too big", spec_d([{**POOL, "padding": 2}]), 0, "more than half", "set_field"),
    (
        "same with stride",
        spec_d([{**C3, "padding": "same", "stride": 2}]),
        0,
        '"same" only works with stride 1',
        "set_field",
    ),
    (
        "too many params",
        spec_d([C3, FLAT, {"type": "Linear", "out_features": 100_000}]),
        2,
        "50,000,000",
        None,
    ),
    ("too much activation", spec_d([{**C3, "out_channels": 4096}], (3, 512, 512)), 0, "1 GB", None),
    (
        "too many layers",
        spec_d([{"type": "ReLU"}] * (S.MAX_LAYERS + 1)),
        None,
        f"{S.MAX_LAYERS} layers",
        None,
    ),
]


def load(source) -> ModelSpec:
    return ModelSpec.from_json(source) if isinstance(source, str) else ModelSpec.from_dict(source)


@pytest.mark.parametrize("name,source,index,words,fix_kind", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_specs_raise_on_the_right_layer(name, source, index, words, fix_kind):
    with pytest.raises(SpecError) as info:
        spec = load(source)
        S.summarize(spec)
    e = info.value
    assert isinstance(e, ValueError)
    assert e.layer_index == index, e.message
    assert words in e.message, e.message
    assert (e.fix or {}).get("kind") == fix_kind
    if index is not None and isinstance(source, dict) and isinstance(source.get("layers"), list):
        layer = source["layers"][index]
        if isinstance(layer, dict) and layer.get("type") in S.LAYER_TYPES:
            assert e.layer_type == layer["type"]
            assert f"(layer {index + 1})" in e.message  # messages count layers from 1
    if e.fix:
        assert e.fix["label"]
        fixed = S.apply_fix(spec, e.fix)
        after = S.check(fixed)
        assert after is None or after.layer_index != index or after.message != e.message


def test_shape_errors_are_real_torch_errors():
    """Where the builder says a layer cannot run, PyTorch refuses it too."""
    cases = [
        (spec_d([POOL] * 5), [nn.MaxPool2d(2)] * 5),
        (spec_d([{"type": "Conv2d", "out_channels": 2, "kernel_size": 7}], (1, 5, 5)), [nn.Conv2d(1, 2, 7)]),
        (spec_d([C3, {"type": "ReLU"}, LIN]), [nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Linear(8, 10)]),
        (spec_d([{**POOL, "padding": 2}]), [nn.MaxPool2d(2, padding=2)]),
    ]
    for d, layers in cases:
        assert S.check(ModelSpec.from_dict(d)) is not None
        with pytest.raises(RuntimeError):
            nn.Sequential(*layers)(torch.zeros(1, *d["input_shape"]))


def test_apply_fix_makes_simplecnn_variant_run():
    spec = PRESETS["SimpleCNN"]
    broken = S.set_layer_field(spec, 3, "out_channels", 32)  # 32 x 7 x 7 = 1568 arrive at Linear(392, 64)
    e = S.check(broken)
    assert e.layer_index == 7
    assert e.message == (
        "Linear (layer 8) expects 392 input features but receives 1568 (32 x 7 x 7): "
        "set in_features back to auto (it follows what arrives) or to 1568."
    )
    assert e.fix == {  # issue 25: auto, not a pinned 1568 that the next conv change breaks again
        "kind": "set_field",
        "layer": 7,
        "field": "in_features",
        "value": "auto",
        "label": "Set in_features of layer 8 to auto (it follows what arrives: 1,568 features now)",
        "arrives": 1568,
    }
    fixed = S.apply_fix(broken, e.fix)
    assert S.check(fixed) is None and fixed.layers[7].params["in_features"] == "auto"
    assert S.check(S.set_layer_field(fixed, 3, "out_channels", 8)) is None  # one more change: still runs
    no_flatten = S.remove_layer(spec, 6)
    e = S.check(no_flatten)
    assert e.fix["kind"] == "insert" and e.layer_index == 6
    assert S.apply_fix(no_flatten, e.fix) == spec


def test_summarize_partial_keeps_the_good_layers():
    spec = ModelSpec.from_dict(spec_d([C3, POOL, C3, LIN]))
    rows, e = S.summarize_partial(spec)
    assert [r.index for r in rows] == [0, 1, 2] and e.layer_index == 3
    with pytest.raises(SpecError):
        S.build_model(spec)
    with pytest.raises(SpecError):
        S.to_pytorch_code(spec)


# ---------------------------------------------------------------------------------------------
# Editing helpers, defaults, totals, adapt


def test_edit_helpers_return_new_specs():
    spec = PRESETS["SimpleCNN"]
    n = len(spec.layers)
    added = S.add_layer(spec, "Dropout", 9)
    assert len(added.layers) == n + 1 and added.layers[9].type == "Dropout" and len(spec.layers) == n
    assert S.add_layer(spec, {"type": "ReLU"}).layers[-1].type == "ReLU"
    assert S.remove_layer(spec, 0).layers == spec.layers[1:]
    moved = S.move_layer(spec, 1, 0)
    assert [x.type for x in moved.layers[:2]] == ["ReLU", "Conv2d"]
    assert S.move_layer(moved, 0, 1) == spec
    assert S.move_layer(spec, 0, -5).layers[0] == spec.layers[0]
    dup = S.duplicate_layer(spec, 0)
    assert dup.layers[0] == dup.layers[1]
    assert S.set_input_shape(spec, [3, 32, 32]).input_shape == (3, 32, 32)
    with pytest.raises(SpecError):
        S.remove_layer(spec, n)
    with pytest.raises(SpecError):
        S.set_layer_field(spec, 0, "kernel_size", -3)
    with pytest.raises(SpecError):
        S.add_layer(spec, "Conv3d")


def test_default_layers_valid_and_documented():
    assert set(S.LAYER_TYPES) == set(S.FIELDS) == set(S.LAYER_DOCS)
    for t in S.LAYER_TYPES:
        layer = S.default_layer(t)
        assert layer.type == t
        d = layer.to_dict()
        assert S.LayerSpec.from_dict(d) == layer
        assert list(d) == ["type"] + [f.name for f in S.FIELDS[t]]
        # each default layer can be appended to a running conv stem (before or after a Flatten)
        base = ModelSpec.from_dict(spec_d([C3] + ([FLAT] if t == "Linear" else [])))
        assert S.check(S.add_layer(base, t)) is None, t


def test_totals_and_formatting():
    spec = PRESETS["SimpleCNN"]
    t = S.totals(spec)
    model = S.build_model(spec)
    assert t.params == t.trainable_params == 26_138 == sum(p.numel() for p in model.parameters())
    assert t.size_mb == pytest.approx(26_138 * 4 / 1e6)
    assert t.activation_bytes == 4 * (784 + sum(s.output_numel for s in S.summarize(spec)))
    assert t.output_shape == (10,)
    bn = S.totals(PRESETS["BatchNorm + Dropout CNN"])
    assert bn.size_mb * 1e6 == sum(
        x.numel() * x.element_size()
        for x in S.build_model(PRESETS["BatchNorm + Dropout CNN"]).state_dict().values()
    )
    assert S.format_count(26_138) == "26,138" and S.format_count(12_345_678) == "12.3 M"
    assert S.format_bytes(47_600) == "47.6 KB" and S.format_bytes(12) == "12 B"
    assert S.format_shape((8, 14, 14)) == "8 × 14 × 14"
    rec = S.summary_records(S.summarize(spec))
    assert rec[7]["params"] == 25_152 and rec[7]["% params"] == pytest.approx(96.2)
    assert rec[0]["layer"] == "Conv2d(1→4, 3x3, p=1)"


def test_labels():
    def label(d):
        return S.summarize(ModelSpec.from_dict(spec_d([d], (3, 32, 32))))[0].label

    assert label({**C3, "stride": 2, "bias": False}) == "Conv2d(3→8, 3x3, s=2, p=1, no bias)"
    assert label({**C3, "padding": "same", "dilation": 2}) == "Conv2d(3→8, 3x3, p=same, d=2)"
    assert label({"type": "MaxPool2d", "kernel_size": [2, 3]}) == "MaxPool2d(2x3, s=2x3)"
    assert label({"type": "AdaptiveAvgPool2d", "output_size": 4}) == "AdaptiveAvgPool2d(→4x4)"
    assert label({"type": "BatchNorm2d"}) == "BatchNorm2d(3)"
    assert label({"type": "Dropout", "p": 0.25}) == "Dropout(p=0.25)"


def test_explain_params_matches_torch():
    spec = PRESETS["BatchNorm + Dropout CNN"]
    rows = S.summarize(spec)
    assert S.explain_params(spec, 0) == "3 in × 32 out × 3 × 3 kernel = 864 weights + 32 biases = 896"
    assert S.explain_params(spec, 1).startswith("32 channels × 2")
    assert S.explain_params(spec, 14).endswith(f"= {rows[14].params:,}")
    assert "no parameters" in S.explain_params(spec, 2)


def test_adapt_to_dataset():
    simple = PRESETS["SimpleCNN"]
    assert S.adapt_to_dataset(simple, (1, 28, 28), 10) == simple
    cifar = S.adapt_to_dataset(simple, (3, 32, 32), 4)
    assert S.output_shape(cifar) == (4,)
    assert cifar.layers[0].params["in_channels"] == 3 and cifar.layers[7].params["in_features"] == 512
    with pytest.raises(SpecError, match="no Linear layer"):
        S.adapt_to_dataset(ModelSpec.from_dict(spec_d([C3])), (1, 28, 28), 10)
    with pytest.raises(SpecError, match="cannot take the dataset's 1 x 4 x 4 images") as info:
        S.adapt_to_dataset(PRESETS["LeNet-5"], (1, 4, 4), 10)
    assert info.value.layer_index is not None
    tail = ModelSpec.from_dict(
        spec_d([C3, FLAT, LIN, {"type": "Linear", "out_features": 3}, {"type": "Sigmoid"}])
    )
    assert S.output_shape(S.adapt_to_dataset(tail, (1, 28, 28), 7)) == (7,)


def test_json_accepts_bytes_and_rejects_binary():
    spec = PRESETS["TinyCNN"]
    assert ModelSpec.from_json(spec.to_json().encode()) == spec
    with pytest.raises(SpecError, match="not UTF-8 text"):
        ModelSpec.from_json(b"\xff\xfe\x00\x81")
    with pytest.raises(SpecError, match="not UTF-8 text"):
        ModelSpec.from_json(b'{"input_shape": [1, 28, 28], "layers": [{"type": "\xff\xfe"}]}')
    with pytest.raises(SpecError, match="not UTF-8 text"):
        ModelSpec.from_json(spec.to_json().encode("utf-16"))
    assert ModelSpec.from_json(b"\xef\xbb\xbf" + spec.to_json().encode()) == spec  # a BOM is fine
    assert ModelSpec.from_json(json.dumps({**spec.to_dict(), "name": "mine"})) == spec


def test_num_classes():
    spec = PRESETS["SimpleCNN"]
    assert S.num_classes(spec) == 10
    five = S.set_num_classes(spec, 5)
    assert S.num_classes(five) == 5 and S.output_shape(five) == (5,)
    conv_only = ModelSpec.from_dict(spec_d([C3]))
    assert S.num_classes(conv_only) is None
    with pytest.raises(SpecError, match="no Linear layer"):
        S.set_num_classes(conv_only, 3)
    with pytest.raises(SpecError, match="at least 1"):
        S.set_num_classes(spec, 0)


def test_raised_errors_are_fresh_objects():
    """summarize caches its analysis; each raise must be a new SpecError, or the cached one's traceback
    would grow with every raise and keep every caller's frames alive."""
    spec = ModelSpec.from_dict(spec_d([C3, LIN]))
    seen = []
    for _ in range(3):
        with pytest.raises(SpecError) as info:
            S.summarize(spec)
        seen.append(info.value)
        depth, tb = 0, info.value.__traceback__
        while tb is not None:
            depth, tb = depth + 1, tb.tb_next
        assert depth <= 3
    assert len({id(e) for e in seen}) == 3
    assert S.check(spec) is not S.check(spec) and S.check(spec).message == seen[0].message
    S.check(spec).fix["index"] = 99  # a caller's change does not leak into the cache
    assert S.check(spec).fix["index"] == 1


def test_fuzzed_json_raises_only_spec_errors():
    """Truncated, byte-flipped and spliced files: a SpecError or a valid spec, never another exception."""
    rng = random.Random(5)
    sources = [s.to_json().encode() for s in PRESETS.values()] + [RANDOM_SPECS[0].to_json().encode()]
    junk = [b"\x00", b"\xff", b"{", b"}", b"[", b"]", b'"', b",", b":", b"-", b"1e999", b"null", b"9" * 5000]
    for _ in range(600):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 4)):
            r, at = rng.random(), rng.randrange(len(data))
            if r < 0.3:
                del data[at:]
            elif r < 0.6:
                data[at] = rng.randrange(256)
            else:
                data[at:at] = rng.choice(junk)
            if not data:
                data = bytearray(b" ")
        try:
            S.check(ModelSpec.from_json(bytes(data)))
        except SpecError:
            pass


def test_to_json_reads_one_layer_per_line():
    spec = PRESETS["SimpleCNN"]
    lines = spec.to_json().splitlines()
    assert lines[1] == '  "input_shape": [1, 28, 28],' and len(lines) == len(spec.layers) + 5
    assert lines[4] == '    {"type": "ReLU"},'
    assert json.loads(spec.to_json()) == spec.to_dict() == json.loads(spec.to_json(indent=None))
    assert "\n" not in spec.to_json(indent=None)
    assert json.loads(ModelSpec((1, 4, 4)).to_json()) == {"input_shape": [1, 4, 4], "layers": []}


def test_fix_labels_name_the_layer_type():
    e = S.check(ModelSpec.from_dict(spec_d([POOL] * 5)))
    assert e.fix["label"] == "Remove layer 5 (MaxPool2d)"  # counted from 1
    e = S.check(ModelSpec.from_dict(spec_d([C3], (1, 1, 1))))
    assert e.fix == {"kind": "set_input", "input_shape": [1, 28, 28], "label": "Set the input to 1 x 28 x 28"}
    assert S.check(S.apply_fix(ModelSpec.from_dict(spec_d([C3], (1, 1, 1))), e.fix)) is None
