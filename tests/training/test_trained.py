"""Tests for cnnlib.trained.TrainedModel and TrainingRun.record(): the one trained-model record."""

from __future__ import annotations

import pytest
import torch

from cnnlib.data import load_dataset
from cnnlib.inference import model_from_record
from cnnlib.spec import ModelSpec, build_model
from cnnlib.trained import TrainedModel
from cnnlib.training import SlotLimiter, TrainConfig, TrainingRun, export_weights
from cnnlib.training.evaluation import load_exported

SPEC = {
    "input_shape": [3, 32, 32],
    "layers": [
        {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 4},
        {"type": "Flatten"},
        {"type": "Linear", "out_features": 4},
    ],
}


def _record(**kw) -> TrainedModel:
    torch.manual_seed(0)
    model = build_model(ModelSpec.from_dict(SPEC))
    base = dict(
        spec=ModelSpec.from_dict(SPEC).to_dict(),
        state_dict=model.state_dict(),
        classes=["circle", "square", "diagonal", "ring"],
        mean=[0.5, 0.5, 0.5],
        std=[0.25, 0.25, 0.25],
        dataset="shapes",
    )
    return TrainedModel(**{**base, **kw})


def test_dict_form_is_the_stored_one_and_round_trips():
    rec = _record(name="My CNN", test_accuracy=0.75)
    d = rec.to_dict()
    assert set(d) == {"name", "spec", "state_dict", "classes", "dataset", "test_accuracy", "mean", "std"}
    assert TrainedModel.from_dict(d) == rec
    # The export's form: no name, no accuracy when unknown.
    assert set(_record().to_dict()) == {"spec", "state_dict", "classes", "dataset", "mean", "std"}


def test_from_dict_reads_older_and_looser_records():
    d = _record().to_dict()
    d.update(mean=(0.5,), std=torch.tensor([0.25]), epochs=3)  # scalars/tuples/tensors, extra keys
    rec = TrainedModel.from_dict(d)
    assert rec.mean == [0.5] and rec.std == [0.25] and rec.test_accuracy is None
    assert rec.extra == {"epochs": 3} and rec.to_dict()["epochs"] == 3
    with pytest.raises(ValueError, match="state_dict"):
        TrainedModel.from_dict({"spec": SPEC, "classes": []})
    with pytest.raises(ValueError):
        TrainedModel.from_dict([1, 2])


def test_bytes_are_weights_only_and_build_the_same_network():
    rec = _record(test_accuracy=0.5)
    data = rec.to_bytes()
    assert b"torch.nn.modules" not in data
    back = TrainedModel.from_bytes(data)
    x = torch.rand(2, 3, 32, 32)  # [B, C, H, W]
    with torch.no_grad():
        assert torch.equal(back.build()(x), model_from_record(rec.to_dict())(x))
    assert not back.build().training and back.weight_bytes == rec.weight_bytes > 0


def test_export_weights_is_the_records_dict_form():
    rec = _record()
    data = export_weights(rec.spec, rec.state_dict, rec.classes, rec.mean, rec.std, rec.dataset)
    back = load_exported(data)
    assert set(back) == set(rec.to_dict()) and TrainedModel.from_dict(back).classes == rec.classes


def test_training_run_record_and_claim():
    bundle = load_dataset("shapes", train_size=240, test_size=40, seed=7)
    run = TrainingRun(SPEC, bundle, TrainConfig(epochs=1, batch_size=60, num_threads=1), slots=SlotLimiter(2))
    assert run.record() is None  # nothing trained yet
    run.start()
    assert run.wait(60) and run.status == "finished"
    rec = run.record(name="tiny")
    assert rec is not None and rec.name == "tiny" and rec.dataset == "shapes"
    assert rec.classes == list(bundle.classes) and rec.test_accuracy == run.snapshot().test_accuracy
    assert all(t.device.type == "cpu" for t in rec.state_dict.values())
    assert not run.recorded and run.claim_record() and run.recorded and not run.claim_record()
