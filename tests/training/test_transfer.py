"""Transfer learning from the bundled digit model: copied layers, a new head, frozen bit for bit."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cnnlib.data import load_dataset
from cnnlib.inference import load_pretrained_bundle
from cnnlib.spec import build_model
from cnnlib.training import (
    ComparisonJob,
    SlotLimiter,
    TrainConfig,
    TrainingRun,
    as_pretrained_input,
    parameter_split,
    transfer_model,
    transfer_spec,
)


@pytest.fixture(scope="module")
def pre():
    return load_pretrained_bundle()


def _head(model) -> str:
    return [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)][-1] + "."


@pytest.mark.parametrize("freeze", [True, False])
@pytest.mark.parametrize("classes", [2, 4, 26])
def test_every_layer_but_the_head_is_the_pretrained_one(pre, freeze, classes):
    model, spec = transfer_model(pre, classes, freeze, seed=3)
    head = _head(model)
    source = pre.model.state_dict()
    for name, t in model.state_dict().items():
        if name.startswith(head):
            assert t.shape[0] == classes
        else:
            assert torch.equal(t, source[name]), name
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    assert all(flags[n] for n in flags if n.startswith(head))
    assert all(flags[n] != freeze for n in flags if not n.startswith(head))
    trainable, frozen = parameter_split(model)
    assert trainable + frozen == sum(p.numel() for p in build_model(spec).parameters())
    head_params = sum(p.numel() for n, p in model.named_parameters() if n.startswith(head))
    assert (trainable, frozen) == (
        (head_params, trainable + frozen - head_params) if freeze else (trainable, 0)
    )


def test_the_spec_and_its_refusals(pre):
    spec = transfer_spec(pre.spec, 4)
    assert [layer.type for layer in spec.layers] == [layer["type"] for layer in pre.spec["layers"]]
    with pytest.raises(ValueError, match="2 to 1,000"):
        transfer_spec(pre.spec, 1)
    with pytest.raises(ValueError, match="no Linear"):
        transfer_spec(
            {"input_shape": [1, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 2, "kernel_size": 3}]}, 3
        )


def test_colour_images_become_the_digit_models_input(pre):
    shapes = load_dataset("shapes")
    got = as_pretrained_input(shapes, pre)
    assert got.input_shape == (1, 28, 28) and got.train_images.shape == (len(shapes.train), 1, 28, 28)
    assert got.mean == (pytest.approx(pre.mean),) and got.std == (pytest.approx(pre.std),)
    x = shapes.train_images[:16].float()
    grey = (0.2989 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
    want = F.interpolate(grey, size=(28, 28), mode="area").round().clamp(0, 255).to(torch.uint8)
    assert torch.equal(got.train_images[:16], want)
    assert torch.equal(got.train_labels, shapes.train_labels) and got.classes == shapes.classes
    same = as_pretrained_input(load_dataset("mnist-sample"), pre)
    assert torch.equal(same.train_images, load_dataset("mnist-sample").train_images)


@pytest.mark.slow
def test_frozen_layers_are_unchanged_bit_for_bit_after_training(pre):
    data = as_pretrained_input(load_dataset("shapes"), pre)
    model, spec = transfer_model(pre, data.num_classes, freeze=True, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    run = TrainingRun(
        model, data, TrainConfig(epochs=1, train_size=200, batch_size=50, num_threads=1), slots=SlotLimiter(2)
    )
    run.spec = spec
    run.start()
    assert run.wait(600) and run.status == "finished", run.snapshot().message
    record = run.record()
    assert record is not None and record.spec == spec.to_dict()
    head = _head(model)
    for name, t in record.state_dict.items():
        if name.startswith(head):
            assert not torch.equal(t, before[name]), f"the head learned: {name}"
        elif "running" not in name and "num_batches" not in name:
            assert torch.equal(t, before[name]), f"frozen: {name}"


@pytest.mark.slow
def test_transfer_against_scratch_as_one_comparison():
    job = ComparisonJob.create(
        None,
        load_dataset("shapes"),
        TrainConfig(epochs=1, train_size=40, batch_size=20, num_threads=1),
        "pretrained",
        "frozen",
        slots=SlotLimiter(1),
    )
    a, b = job.runs
    assert a.spec == b.spec and parameter_split(a.model)[1] == 0 and parameter_split(b.model)[1] > 0
    job.start()
    assert job.wait(600) and [r.status for r in job.runs] == ["finished", "finished"]
    rows = job.table()
    assert rows[1].trainable < rows[1].params == rows[0].params == rows[0].trainable
