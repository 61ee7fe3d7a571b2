"""The Residual block (issue 26) with PyTorch as the oracle: shapes, parameters, MACs, receptive field,
the skip's projection, the generated code, the depth rule, the layer cap, and one training step."""

from __future__ import annotations

import json
import random

import pytest
import torch
from torch import nn

from cnnlib import spec as S
from cnnlib.spec import ModelSpec, SpecError
from cnnlib.spec.residual import skip_stride

KEEP_MAP: list[dict] = [
    {"type": "ReLU"},
    {"type": "BatchNorm2d"},
    {"type": "LeakyReLU", "negative_slope": 0.1},
    {"type": "Tanh"},
    {"type": "Dropout2d", "p": 0.2},
    {"type": "MaxPool2d", "kernel_size": 2},
    {"type": "AvgPool2d", "kernel_size": 3, "stride": 1, "padding": 1},
    {"type": "AdaptiveAvgPool2d", "output_size": 3},
    {"type": "Conv2d", "out_channels": 3, "kernel_size": [1, 3], "padding": [0, 1], "bias": False},
]


def exec_code(code: str) -> type:
    namespace: dict = {}
    exec(compile(code, "<generated>", "exec"), namespace)
    return namespace["Net"]


def random_layer(rng: random.Random) -> dict:
    """A layer that keeps a feature map (a block's inner layer, or a layer between blocks)."""
    return dict(rng.choice(KEEP_MAP))


STEM = {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}


def block(*layers: dict) -> dict:
    return {"type": "Residual", "layers": list(layers)}


def conv(cout: int, stride: int = 1, k: int = 3) -> dict:
    return {"type": "Conv2d", "out_channels": cout, "kernel_size": k, "padding": k // 2, "stride": stride}


def spec_of(layers: list[dict], shape: list[int] | None = None) -> ModelSpec:
    return ModelSpec.from_dict({"input_shape": shape or [1, 12, 12], "layers": layers})


def random_inner(rng: random.Random) -> list[dict]:
    """1-4 inner layers: mostly convs that keep or halve the size, sometimes anything that keeps a map."""
    out: list[dict] = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.6:
            out.append(conv(rng.randint(1, 6), rng.choice([1, 1, 2]), rng.choice([1, 3, 5])))
        else:
            out.append(random_layer(rng))
    return out


def random_residual_spec(rng: random.Random) -> ModelSpec:
    layers: list[dict] = [conv(rng.randint(1, 5))] if rng.random() < 0.7 else []
    for _ in range(rng.randint(1, 3)):
        layers.append(block(*random_inner(rng)))
        if rng.random() < 0.5:
            layers.append(random_layer(rng) if rng.random() < 0.5 else {"type": "ReLU"})
    if rng.random() < 0.7:
        layers += [{"type": "Flatten"}, {"type": "Linear", "out_features": rng.randint(2, 10)}]
    c, h, w = rng.choice([1, 3]), rng.randint(6, 24), rng.randint(6, 24)
    return spec_of(layers, [c, h, w])


def residual_specs(n: int, seed: int = 26) -> list[ModelSpec]:
    rng, specs, tries = random.Random(seed), list[ModelSpec](), 0
    while len(specs) < n:
        tries += 1
        spec = random_residual_spec(rng)
        if S.check(spec) is None:
            specs.append(spec)
    assert tries < 4 * n, f"{tries} tries for {n} valid specs"
    return specs


SPECS = residual_specs(60)


def blocks_of(spec: ModelSpec) -> list[int]:
    return [i for i, layer in enumerate(spec.layers) if layer.type == "Residual"]


def test_random_blocks_match_torch_layer_by_layer():
    """Every block's shape, parameters, buffers and inner rows are torch's; the skip adds the input."""
    torch.manual_seed(0)
    with_projection = identity = 0
    for spec in SPECS:
        model = S.build_model(spec).eval()
        x = torch.randn(2, *spec.input_shape)  # [N, C, H, W]
        with torch.no_grad():
            for row, child in zip(S.summarize(spec), model, strict=True):
                y = child(x)
                assert row.output_shape == tuple(y.shape[1:]), spec.to_json()
                assert row.params == sum(p.numel() for p in child.parameters())
                assert row.state_bytes == sum(
                    t.numel() * t.element_size() for t in child.state_dict().values()
                )
                if isinstance(child, S.Residual):
                    h = x
                    for inner_row, inner in zip(row.inner, child.body, strict=True):
                        assert inner_row.input_shape == tuple(h.shape[1:])
                        h = inner(h)  # [N, C', H', W']
                        assert inner_row.output_shape == tuple(h.shape[1:])
                        assert inner_row.params == sum(p.numel() for p in inner.parameters())
                    skip = x if child.downsample is None else child.downsample(x)
                    assert torch.equal(y, h + skip)  # the block adds its input (or its projection)
                    assert (child.downsample is None) == (tuple(x.shape[1:]) == row.output_shape)
                    assert (
                        row.skip == "identity"
                        if child.downsample is None
                        else row.skip.startswith("1x1 conv+BN")
                    )
                    with_projection += child.downsample is not None
                    identity += child.downsample is None
                x = y
        assert torch.isfinite(x).all()
    assert with_projection > 10 and identity > 10  # the sweep covers both kinds of skip


def test_projection_is_torchvisions_downsample():
    """A 1x1 conv without bias and a BatchNorm, stride 2 when the size halves (torchvision's ResNet)."""
    spec = spec_of([STEM, block(conv(8, 2), {"type": "BatchNorm2d"})])
    down = S.build_model(spec)[1].downsample
    assert isinstance(down[0], nn.Conv2d) and isinstance(down[1], nn.BatchNorm2d)
    assert (down[0].in_channels, down[0].out_channels, down[0].kernel_size) == (4, 8, (1, 1))
    assert down[0].stride == (2, 2) and down[0].bias is None and down[1].num_features == 8
    row = S.summarize(spec)[1]
    assert row.label == "Residual(2 layers, skip: 1x1, s=2)"
    assert row.params == (4 * 8 * 9 + 8) + 16 + (4 * 8 + 16)
    assert (
        S.explain_params(spec, 1)
        == "312 in its 2 inner layers + 48 in the skip's 1x1 conv and BatchNorm = 360 (the addition itself learns nothing)"
    )


@pytest.mark.parametrize(
    ("size_in", "size_out", "stride"),
    [(28, 28, 1), (28, 14, 2), (7, 4, 2), (7, 3, 3), (12, 1, 12), (10, 8, None), (5, 6, None)],
)
def test_skip_stride_is_torchs_1x1_conv_size(size_in, size_out, stride):
    assert skip_stride(size_in, size_out) == stride
    if stride is not None:
        y = nn.Conv2d(1, 1, 1, stride=stride)(torch.zeros(1, 1, size_in, 3))
        assert y.shape[2] == size_out


def test_macs_and_receptive_field():
    spec = spec_of([STEM, block(conv(8, 2), {"type": "ReLU"}, conv(8))])
    stem, res = S.summarize(spec)
    assert res.macs == 8 * 6 * 6 * 4 * 9 + 8 * 6 * 6 * 8 * 9 + 8 * 6 * 6 * 4  # two 3x3 convs + the 1x1 skip
    # the inner path's receptive field: stem 3, then 3x3 s2 -> 5 (jump 2), then 3x3 -> 9
    assert [r.receptive_field for r in res.inner] == [5, 5, 9] and res.receptive_field == 9 and res.jump == 2


def test_receptive_field_matches_gradients():
    """The block's receptive field is where one output's input gradient is non-zero (convs set to 1)."""
    spec = spec_of([conv(1, k=3), block(conv(1, 2), conv(1, k=5)), block(conv(1, 1, k=3))], [1, 32, 32])
    row = S.summarize(spec)[-1]
    model = S.build_model(spec).eval()  # the skip's BatchNorm in eval mode: no batch statistics mixing
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.constant_(m.weight, 1.0)
    x = torch.zeros(1, 1, 32, 32, requires_grad=True)  # [1, 1, H, W]
    model(x)[0, 0, 5, 5].backward()
    rows, cols = (x.grad[0, 0] != 0).nonzero().unbind(1)
    assert (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)) == (row.receptive_field,) * 2


def test_generated_code_runs_and_matches_the_summary():
    torch.manual_seed(1)
    for spec in SPECS[:30]:
        code = S.to_pytorch_code(spec)
        assert "class Residual(nn.Module):" in code
        net = exec_code(code)().eval()
        model = S.build_model(spec).eval()
        assert sum(p.numel() for p in net.parameters()) == S.totals(spec).params
        net.layers.load_state_dict(model.state_dict())  # same children, same keys
        x = torch.randn(2, *spec.input_shape)  # [N, C, H, W]
        with torch.no_grad():
            out = net(x)
            assert tuple(out.shape[1:]) == S.output_shape(spec) and torch.equal(out, model(x))
    assert "class Residual" not in S.to_pytorch_code(S.PRESETS["SimpleCNN"])


def test_json_and_token_round_trip():
    for spec in SPECS:
        assert ModelSpec.from_json(spec.to_json()) == spec == ModelSpec.from_json(spec.to_json(indent=None))
        assert ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
        assert S.spec_from_token(S.spec_to_token(spec)) == spec
        assert S.parse_model(S.format_model(spec)) == spec


def test_a_block_inside_a_block_is_refused_clearly():
    with pytest.raises(SpecError, match="one level deep") as e:
        spec_of([STEM, block(conv(4), block(conv(4)))])
    assert e.value.layer_index == 1 and "inner layer 2.2 is a Residual" in e.value.message
    for t in ("Flatten", "Linear"):
        with pytest.raises(SpecError, match=f"put the {t} after the block"):
            spec_of([block({"type": t} if t == "Flatten" else {"type": t, "out_features": 3})])


@pytest.mark.parametrize(
    ("layers", "words"),
    [
        ([block()], "has no inner layers"),
        ([{"type": "Residual", "layers": 3}], '"layers" must be a list'),
        ([{"type": "Residual"}], 'needs the field "layers"'),
        (
            [STEM, block({"type": "Conv2d", "kernel_size": 3})],
            'Conv2d (layer 2.1) needs the field "out_channels"',
        ),
        (
            [STEM, block({"type": "Conv2d", "out_channels": 4, "kernel_size": 0})],
            "Conv2d (layer 2.1): kernel_size",
        ),
        ([STEM, block({"type": "Conv3d"})], 'Layer 2.1 has an unknown type "Conv3d"'),
    ],
)
def test_bad_blocks_are_refused_naming_the_inner_layer(layers, words):
    with pytest.raises(SpecError) as e:
        spec_of(layers)
    assert words in e.value.message


@pytest.mark.parametrize(
    ("layers", "words", "index"),
    [
        (
            [STEM, block(conv(4, k=1), {"type": "Conv2d", "out_channels": 4, "kernel_size": 3})],
            "cannot match",
            1,
        ),
        (
            [STEM, block({"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3})],
            "(layer 2.1, inside the Residual block) expects 3 input channels but receives 4",
            1,
        ),
        ([STEM, {"type": "Flatten"}, block(conv(4))], "needs a feature map", 2),
        (
            [STEM, block({"type": "MaxPool2d", "kernel_size": 13})],
            "(layer 2.1, inside the Residual block) receives a feature map of only 12 x 12",
            1,
        ),
    ],
)
def test_blocks_that_cannot_run_say_why(layers, words, index):
    err = S.check(spec_of(layers))
    assert err is not None and words in err.message and err.layer_index == index, err
    assert err.layer_type == "Residual"


def test_the_layer_cap_counts_the_inner_layers():
    relu = {"type": "ReLU"}
    fits = [STEM, block(*[relu] * 97)]  # 1 + 1 + 97 = 99 layers
    spec = spec_of(fits)
    assert S.layer_count(spec.layers) == 99 and S.check(spec) is None
    assert S.check(S.add_layer(spec, "ReLU")) is None  # the 100th
    with pytest.raises(SpecError, match="caps models at 100 layers"):
        S.add_layer(S.add_layer(spec, "ReLU"), "ReLU")
    with pytest.raises(SpecError, match="counting the layers inside its blocks"):
        spec_of([*[relu] * 50, block(*[relu] * 50)])
    with pytest.raises(SpecError, match="counting the layers inside its blocks"):
        S.duplicate_layer(spec, 1)  # a copied block passes the cap
    with pytest.raises(SpecError, match="counting the layers inside its blocks"):
        S.set_layer_field(spec_of([STEM, block(relu), block(relu)]), 2, "layers", [relu] * 98)
    with pytest.raises(SpecError, match="holds 100 layers"):
        S.LayerSpec.from_dict(block(*[relu] * 100))


def test_default_block_and_edits():
    layer = S.default_layer("Residual")
    assert [x.type for x in layer.inner] == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d"]
    spec = S.add_layer(spec_of([STEM]), "Residual")
    row = S.summarize(spec)[1]
    assert row.skip == "1x1 conv+BN 4→8" and row.output_shape == (8, 12, 12)
    again = S.set_layer_field(spec, 1, "layers", [conv(4)])
    assert S.summarize(again)[1].skip == "identity"
    assert S.LayerSpec.from_dict(layer.to_dict()) == layer


def test_memory_counts_the_blocks_inner_activations():
    spec = spec_of([STEM, block(conv(8, 2), {"type": "ReLU"})])
    row = S.summarize(spec)[1]
    assert row.activation_numel == 8 * 6 * 6 * 4  # two inner outputs, the skip's, the sum
    assert S.totals(spec).activation_bytes == 4 * (144 + 4 * 144 + 4 * 288)


def test_small_resnet_preset():
    spec = S.PRESETS["Small ResNet"]
    rows = S.summarize(spec)
    assert [r.skip for r in rows if r.type == "Residual"] == [
        "identity",
        "1x1 conv+BN 8→16, s=2",
        "1x1 conv+BN 16→32, s=2",
    ]
    assert S.totals(spec).params == 19_810 == sum(p.numel() for p in S.build_model(spec).parameters())
    assert "19,810" in S.PRESET_NOTES["Small ResNet"]
    assert S.parse_model("small_resnet") == spec


def test_training_takes_a_spec_with_a_block():
    """One epoch of 2 steps on 40 synthetic shapes, in a thread: the block's weights move."""
    from cnnlib.data import load_dataset
    from cnnlib.training import TrainConfig, TrainingRun

    bundle = load_dataset("shapes", train_size=40, test_size=8)
    spec = S.adapt_to_dataset(S.PRESETS["Small ResNet"], bundle.input_shape, len(bundle.classes))
    run = TrainingRun(spec, bundle, TrainConfig(epochs=1, batch_size=32, seed=0), backend="thread")
    before = {k: v.clone() for k, v in run.model.state_dict().items()}
    run.start()
    assert run.wait(120)
    snap = run.snapshot()
    assert snap.status == "finished", snap.message
    assert snap.step == snap.total_steps == 2
    after = run.model.state_dict()
    assert not torch.equal(before["3.body.0.weight"], after["3.body.0.weight"])
    assert not torch.equal(before["5.downsample.0.weight"], after["5.downsample.0.weight"])


def test_slow_motions_mode_comparison_names_the_skip():
    """Train vs eval mode lists each BatchNorm once: a block's inner ones as 6.2, its skip's as the skip."""
    from cnnlib.training.one_step.modes import mode_comparison

    model = S.build_model(S.PRESETS["Small ResNet"])
    names = [layer.name for layer in mode_comparison(model, torch.randn(4, 1, 28, 28)).layers]
    assert (
        len(names) == len(set(names))
        and "layer 6, skip: BatchNorm2d(16)" in names
        and "layer 6.2: BatchNorm2d(16)" in names
    )


def test_feature_maps_and_grad_cam_read_the_blocks():
    """Draw & predict's feature maps show each block's output (after the ReLU that follows it), and
    Grad-CAM reads the last block's, as it reads the last conv of a plain model."""
    from cnnlib.inference.explain import feature_maps, grad_cam

    model = S.build_model(S.PRESETS["Small ResNet"]).eval()
    x = torch.rand(1, 1, 28, 28)  # [1, C, H, W]
    maps = feature_maps(model, x)
    assert [(name.split(":")[0], m.shape) for name, m in maps][1:] == [
        ("Layer 4", (8, 28, 28)),
        ("Layer 6", (16, 14, 14)),
        ("Layer 8", (32, 7, 7)),
    ]
    assert "Residual block (5 layers + skip) → ReLU" in maps[-1][0]
    with torch.no_grad():
        expected = model[:9](x)[0].numpy()  # [32, 7, 7]: through layer 9, the ReLU after the last block
    assert maps[-1][1] == pytest.approx(expected, abs=1e-6)
    cam = grad_cam(model, x)
    assert cam.shape == (28, 28) and 0 <= cam.min() and cam.max() <= 1
