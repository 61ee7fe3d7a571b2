"""ComparisonJob: two runs that differ in one thing, trained in turn; the model changes against torch."""

from __future__ import annotations

import time

import pytest
import torch

from cnnlib.data import load_dataset
from cnnlib.spec import ModelSpec, build_model
from cnnlib.training import (
    CHANGES,
    ComparisonJob,
    ConfigError,
    SlotLimiter,
    TrainConfig,
    with_batchnorm,
    with_dropout,
)

SPEC = {
    "input_shape": [3, 32, 32],
    "layers": [
        {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 4},
        {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "Flatten"},
        {"type": "Linear", "out_features": 16},
        {"type": "ReLU"},
        {"type": "Linear", "out_features": 4},
    ],
}


def _count(spec: ModelSpec) -> int:
    return sum(p.numel() for p in build_model(spec).parameters())


def test_dropout_goes_before_every_linear_and_adds_no_parameters():
    got = with_dropout(SPEC, 0.3)
    types = [layer.type for layer in got.layers]
    assert types.count("Dropout") == 2
    assert all(types[i - 1] == "Dropout" for i, t in enumerate(types) if t == "Linear")
    assert _count(got) == _count(ModelSpec.from_dict(SPEC))
    model = build_model(got).eval()
    ref = build_model(ModelSpec.from_dict(SPEC)).eval()
    x = torch.randn(2, 3, 32, 32)
    assert model(x).shape == ref(x).shape == (2, 4)
    with pytest.raises(ConfigError, match="already has dropout 0.3"):
        with_dropout(got, 0.3)
    with pytest.raises(ConfigError, match="from 0"):
        with_dropout(SPEC, 1.5)
    stronger = with_dropout(got, 0.5)  # an existing Dropout takes the new p
    assert [layer.params["p"] for layer in stronger.layers if layer.type == "Dropout"] == [0.5, 0.5]
    off = with_dropout(got, 0)  # p = 0: dropout off, the layers before Linear taken out
    assert [layer.type for layer in off.layers] == [layer["type"] for layer in SPEC["layers"]]
    with pytest.raises(ConfigError, match="already has no dropout"):
        with_dropout(SPEC, 0)


def test_batchnorm_after_every_conv_adds_two_parameters_per_channel():
    got = with_batchnorm(SPEC)
    types = [layer.type for layer in got.layers]
    assert [types[i + 1] for i, t in enumerate(types) if t == "Conv2d"] == ["BatchNorm2d", "BatchNorm2d"]
    assert _count(got) == _count(ModelSpec.from_dict(SPEC)) + 2 * (4 + 8)  # weight and bias per channel
    with pytest.raises(ConfigError, match="none to add"):
        with_batchnorm(got)


def test_bad_changes_are_refused_before_anything_is_built():
    bundle = load_dataset("shapes")
    with pytest.raises(ConfigError, match="cannot be compared"):
        ComparisonJob.create(SPEC, bundle, TrainConfig(), "colour")
    with pytest.raises(ConfigError, match="same optimizer"):
        ComparisonJob.create(SPEC, bundle, TrainConfig(optimizer="sgd"), "optimizer", "sgd")
    with pytest.raises(ConfigError):
        ComparisonJob.create(SPEC, bundle, TrainConfig(), "train_size", 5)  # below the minimum
    assert set(CHANGES) >= {"dropout", "batchnorm", "weight_decay", "augment", "train_size", "optimizer"}


@pytest.mark.parametrize("change", ["batchnorm", "weight_decay"])
def test_the_two_runs_go_in_turn_with_the_same_seed_and_fill_the_table(change):
    bundle = load_dataset("shapes")
    base = TrainConfig(epochs=2, batch_size=50, train_size=100, seed=2, num_threads=1)
    slots = SlotLimiter(1)
    job = ComparisonJob.create(SPEC, bundle, base, change, slots=slots, backend="thread")
    a, b = job.runs
    assert a.config.seed == b.config.seed == 2
    job.start()
    assert job.active is a and not job.done
    assert job.wait(600) and job.done and job.active is None
    assert a.status == b.status == "finished"
    rows = job.table()
    assert [r.run for r in rows] == ["A", "B"]
    assert all(r.test_acc is not None and r.train_acc is not None and r.val_acc is not None for r in rows)
    assert rows[0].setting != rows[1].setting and job.description.startswith("same run, but")
    assert rows[1].params == rows[0].params + (24 if change == "batchnorm" else 0)


def test_stopping_during_a_means_b_never_starts():
    bundle = load_dataset("shapes")
    job = ComparisonJob.create(
        SPEC,
        bundle,
        TrainConfig(epochs=50, num_threads=1),
        "weight_decay",
        slots=SlotLimiter(1),
        backend="thread",
    )
    job.start()
    job.stop()
    assert job.wait(120) and job.done
    assert job.runs[0].status == "stopped" and job.runs[1].snapshot().status == "ready"


@pytest.mark.parametrize(
    "text, value",
    [
        ("weight_decay:0.001", ("weight_decay", 0.001)),
        ("dropout:0.5", ("dropout", 0.5)),
        ("batchnorm", ("batchnorm", True)),
        ("augment:shift+rotate", ("augment", ("rotate", "shift"))),
        ("optimizer:SGD", ("optimizer", "sgd")),
        ("train_size:200", ("train_size", 200)),
        ("none", None),
        ("", None),
    ],
)
def test_a_comparison_reads_from_and_writes_to_a_link(text, value):
    from cnnlib.training import format_change, parse_change

    assert parse_change(text) == value
    assert parse_change(format_change(value)) == value


@pytest.mark.parametrize(
    "text", ["bogus:1", "lr:-1", "lr:nan", "train_size:5", "epochs:1.5", "augment:", "optimizer:x"]
)
def test_a_bad_comparison_in_a_link_is_refused_in_words(text):
    from cnnlib.training import parse_change

    with pytest.raises(ValueError, match=r"\w+"):
        parse_change(text)


def test_b_does_not_start_when_the_page_has_gone():
    """A page that heartbeats and then leaves: A ends (stopped as stale, or finished) and B never starts."""
    bundle = load_dataset("shapes")
    slots = SlotLimiter(1, heartbeat_timeout=0.5)
    base = TrainConfig(epochs=1, batch_size=50, train_size=100, num_threads=1)
    job = ComparisonJob.create(SPEC, bundle, base, "weight_decay", slots=slots, backend="thread")
    job.heartbeat()  # watched once, then never again: by the time A has finished, nobody watches
    time.sleep(0.7)
    job.start()
    assert job.wait(600) and job.done
    assert job.runs[1].snapshot().status == "ready", "nobody is watching: B is not trained"
