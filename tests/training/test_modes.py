"""mode_comparison: train against eval mode for Dropout and BatchNorm2d, checked against torch itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlib.spec import ModelSpec, build_model
from cnnlib.training.one_step import mode_comparison


def _spec(*middle: dict) -> ModelSpec:
    return ModelSpec.from_dict(
        {
            "input_shape": [1, 12, 12],
            "layers": [
                {"type": "Conv2d", "out_channels": 4, "kernel_size": 3},
                *middle,
                {"type": "ReLU"},
                {"type": "Flatten"},
                {"type": "Dropout", "p": 0.5},
                {"type": "Linear", "out_features": 3},
            ],
        }
    )


@pytest.mark.parametrize("seed", range(8))
def test_each_layer_against_torch_on_the_input_it_received(seed):
    torch.manual_seed(seed)
    model = build_model(_spec({"type": "BatchNorm2d"}, {"type": "Dropout2d", "p": 0.3}))
    model.train()
    x = torch.randn(6, 1, 12, 12)  # [B, C, H, W]
    with torch.no_grad():
        model(x)  # running statistics move away from 0 and 1
    before = {k: v.clone() for k, v in model.state_dict().items()}
    got = mode_comparison(model, x, seed=seed)
    assert not got.demo and [layer.kind for layer in got.layers] == ["batchnorm", "dropout", "dropout"]
    assert [layer.name.split(":")[0] for layer in got.layers] == ["layer 2", "layer 3", "layer 6"]
    for k, v in model.state_dict().items():  # the model and its statistics are untouched
        assert torch.equal(v, before[k]), k
    assert model.training, "the model's own mode is kept"

    bn_in = model[0](x).detach()  # [6, 4, 10, 10]: what layer 2 received
    bn = model[1]
    mean, var = bn_in.mean(dim=(0, 2, 3)), bn_in.var(dim=(0, 2, 3), unbiased=False)
    by_batch = (bn_in - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + bn.eps)
    by_batch = by_batch * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)
    by_running = (bn_in - bn.running_mean.view(1, -1, 1, 1)) / torch.sqrt(
        bn.running_var.view(1, -1, 1, 1) + bn.eps
    )
    by_running = by_running * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)
    first = got.layers[0]
    np.testing.assert_allclose(first.inputs, bn_in[0, 0].flatten()[:8].double().numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        first.train, by_batch[0, 0].flatten()[:8].detach().double().numpy(), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(
        first.eval, by_running[0, 0].flatten()[:8].detach().double().numpy(), rtol=1e-4, atol=1e-5
    )

    for layer in got.layers[1:]:  # dropout: eval is the identity, train is 0 or x / (1 - p)
        np.testing.assert_array_equal(layer.eval, layer.inputs)
        p = 0.3 if "Dropout2d" in layer.name else 0.5
        for a, b in zip(layer.inputs, layer.train, strict=True):
            assert b == 0 or np.isclose(b, a / (1 - p), rtol=1e-6)

    with torch.no_grad(), torch.random.fork_rng():
        model_eval = build_model(_spec({"type": "BatchNorm2d"}, {"type": "Dropout2d", "p": 0.3}))
        model_eval.load_state_dict(before)
        ref = model_eval.eval()(x)[0].double().numpy()
    np.testing.assert_allclose(got.logits_eval, ref, rtol=1e-5, atol=1e-6)
    assert not np.allclose(got.logits_train, got.logits_eval), "the modes differ for this model"


def test_the_dropout_mask_is_the_seeds_own():
    torch.manual_seed(0)
    model = build_model(_spec())
    x = torch.randn(4, 1, 12, 12)
    a, b = mode_comparison(model, x, seed=3), mode_comparison(model, x, seed=3)
    np.testing.assert_array_equal(a.layers[0].train, b.layers[0].train)
    np.testing.assert_array_equal(a.logits_train, b.logits_train)


def test_a_model_without_such_layers_gets_a_demonstration_on_conv1():
    torch.manual_seed(1)
    spec = ModelSpec.from_dict(
        {
            "input_shape": [1, 8, 8],
            "layers": [
                {"type": "Conv2d", "out_channels": 2, "kernel_size": 3},
                {"type": "ReLU"},
                {"type": "Flatten"},
                {"type": "Linear", "out_features": 2},
            ],
        }
    )
    model = build_model(spec)
    x = torch.randn(3, 1, 8, 8)
    got = mode_comparison(model, x)
    assert got.demo and [layer.kind for layer in got.layers] == ["dropout", "batchnorm"]
    conv_out = model[0](x).detach()
    np.testing.assert_allclose(got.layers[0].inputs, conv_out[0, 0].flatten()[:8].double().numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        got.logits_train, got.logits_eval
    )  # nothing in the model changes with the mode


def test_bad_batches_are_refused_in_words():
    model = build_model(_spec())
    with pytest.raises(ValueError, match="at least 2 images"):
        mode_comparison(model, torch.randn(1, 1, 12, 12))
    with pytest.raises(ValueError, match="at least 2 images"):
        mode_comparison(model, torch.randn(12, 12))
