"""Tests for cnnlib.training and its helpers: TrainConfig validation, augmentation, model checks,
advice, and TrainingRun in its thread."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from cnnlib.data import load_dataset
from cnnlib.training import (
    DEFAULT_DEMO,
    DEMO_SPEC,
    ConfigError,
    RunSnapshot,
    SlotLimiter,
    TrainConfig,
    TrainingRun,
    adaptation_notes,
    augment_batch,
    augment_preview,
    chance_accuracy,
    check_model,
    guessing_note,
)
from cnnlib.training.advice import smaller_lr
from cnnlib.training.augment import affine_batch
from cnnlib.training.snapshot import MAX_LOSS_POINTS


@pytest.fixture(scope="module")
def shapes():
    return load_dataset("shapes", train_size=800, test_size=200)


@pytest.fixture(scope="module")
def tiny():
    return load_dataset("shapes", train_size=240, test_size=40, seed=7)


def small_cnn(classes: int = 4, channels: int = 3, side: int = 32) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(channels, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(4),
        nn.Flatten(),
        nn.Linear(8 * (side // 4) ** 2, classes),
    )


def run(model, bundle, slots=None, **cfg) -> TrainingRun:
    cfg.setdefault("num_threads", 1)
    return TrainingRun(model, bundle, TrainConfig(**cfg), slots=slots or SlotLimiter(4))


# ------------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    "kw, field, words",
    [
        ({"lr": 0}, "lr", "above 0"),
        ({"lr": -0.1}, "lr", "above 0"),
        ({"lr": 1e7}, "lr", "at most 1e+06"),
        ({"lr": float("inf")}, "lr", "number"),
        ({"lr": float("nan")}, "lr", "number"),
        ({"lr": "fast"}, "lr", "number"),
        ({"epochs": 0}, "epochs", "from 1"),
        ({"epochs": 2.5}, "epochs", "whole number"),
        ({"epochs": 10**6}, "epochs", "500"),
        ({"batch_size": 0}, "batch_size", "from 1"),
        ({"batch_size": 5000}, "batch_size", "4,096"),
        ({"batch_size": 100}, "batch_size", "larger than the 90 training images"),
        ({"optimizer": "rmsprop"}, "optimizer", "sgd, adam, adamw"),
        ({"scheduler": "exp"}, "scheduler", "one of"),
        ({"momentum": 1.5}, "momentum", "at most"),
        ({"weight_decay": -1}, "weight_decay", "at least 0"),
        ({"label_smoothing": 1.0}, "label_smoothing", "at most"),
        ({"augment": ("rotate", "zoom")}, "augment", "zoom"),
        ({"augment": 5}, "augment", "list"),
        ({"val_fraction": 0.9}, "val_fraction", "at most 0.5"),
        ({"patience": 3, "val_fraction": 0.0}, "patience", "validation"),
        ({"patience": -1}, "patience", "from 0"),
        ({"gamma": 0}, "gamma", "above 0"),
        ({"step_size": 0}, "step_size", "from 1"),
        ({"device": "tpu"}, "device", "auto"),
        ({"max_seconds": 0}, "max_seconds", "above 0"),
        ({"num_threads": 0}, "num_threads", "from 1"),
        ({"seed": -1}, "seed", "from 0"),
        ({"epochs": True}, "epochs", "whole number"),
    ],
)
def test_config_rejects(kw, field, words):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**kw).validate(100)
    assert info.value.field == field and words in str(info.value)


def test_config_good_and_normalised():
    cfg = TrainConfig(optimizer="SGD", augment=["flip", "rotate", "flip"], epochs=3.0).validate(1000)
    assert cfg.optimizer == "sgd" and cfg.augment == ("rotate", "flip") and cfg.epochs == 3
    assert TrainConfig().validate(1000) and DEFAULT_DEMO.validate(4000)
    assert TrainConfig(val_fraction=0.1).train_val_sizes(1000) == (900, 100)
    assert TrainConfig(val_fraction=0.0).train_val_sizes(7) == (7, 0)
    assert TrainConfig(batch_size=90, val_fraction=0.1).validate(100)  # exactly the training set
    with pytest.raises(ConfigError, match="too few"):
        TrainConfig(val_fraction=0.1, batch_size=1).validate(1)
    d = TrainConfig(augment=("color",)).to_dict()
    assert TrainConfig.from_dict(d) == TrainConfig(augment=("color",))
    with pytest.raises(ConfigError, match="Unknown training setting"):
        TrainConfig.from_dict({"learning_rate": 0.1})
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA"):
            TrainConfig(device="cuda").validate()


# ------------------------------------------------------------------------------- augmentation


def test_affine_matches_torchvision():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 20, 28)  # non-square on purpose
    for angle, tx, ty in [(0, 0, 0), (10, 0, 0), (-13, 2, -3), (90, 0, 0), (7.5, -3, 2)]:
        got = affine_batch(
            x, torch.full((4,), float(angle)), torch.full((4,), float(tx)), torch.full((4,), float(ty))
        )
        want = TF.affine(
            x,
            angle=angle,
            translate=[tx, ty],
            scale=1.0,
            shear=[0.0, 0.0],
            interpolation=v2.InterpolationMode.BILINEAR,
        )
        assert torch.allclose(got, want, atol=1e-4), (angle, tx, ty)
    # Different parameters per image in one call.
    angles, txs, tys = torch.tensor([5.0, -12.0]), torch.tensor([1.0, -2.0]), torch.tensor([0.0, 3.0])
    got = affine_batch(x[:2], angles, txs, tys)
    for i in range(2):
        want = TF.affine(
            x[i],
            angle=float(angles[i]),
            translate=[float(txs[i]), float(tys[i])],
            scale=1.0,
            shear=[0.0, 0.0],
            interpolation=v2.InterpolationMode.BILINEAR,
        )
        assert torch.allclose(got[i], want, atol=1e-4)


def test_augment_batch_flip_and_color_match_torchvision_formulas():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 3, 8, 8)
    out = augment_batch(x, ("flip",), g)
    flipped = [torch.equal(out[i], TF.horizontal_flip(x[i])) for i in range(64)]
    kept = [torch.equal(out[i], x[i]) for i in range(64)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True)) and 10 < sum(flipped) < 54
    # colour: the output equals torchvision's brightness, contrast, saturation for some factors.
    g = torch.Generator().manual_seed(1)
    out = augment_batch(x[:1], ("color",), g)
    g = torch.Generator().manual_seed(1)
    b, c, s = (0.7 + 0.6 * torch.rand(1, 1, 1, 1, generator=g).item() for _ in range(3))
    want = TF.adjust_saturation(TF.adjust_contrast(TF.adjust_brightness(x[:1], b), c), s)
    assert torch.allclose(out, want, atol=1e-5)


def test_augment_batch_shapes_ranges_and_seed():
    x = torch.rand(16, 1, 28, 28)
    for aug in [(), ("rotate",), ("shift",), ("rotate", "shift", "flip", "color")]:
        a = augment_batch(x, aug, torch.Generator().manual_seed(5))
        b = augment_batch(x, aug, torch.Generator().manual_seed(5))
        assert a.shape == x.shape and torch.equal(a, b) and 0 <= a.min() and a.max() <= 1
    shifted = augment_batch(x, ("shift",), torch.Generator().manual_seed(2))
    assert not torch.equal(shifted, x)


def test_augment_preview(shapes):
    p = augment_preview(shapes, ("rotate", "color"), n=5, seed=1, copies=2)
    assert p.original.shape == (5, 32, 32, 3) and p.augmented.shape == (10, 32, 32, 3)
    assert p.original.dtype == np.uint8 and p.augmented.dtype == np.uint8 and len(p.labels) == 5
    assert set(p.labels) <= set(shapes.classes)
    same = augment_preview(shapes, (), n=3, seed=1)
    assert np.array_equal(same.original, same.augmented)
    with pytest.raises(ConfigError):
        augment_preview(shapes, ("zoom",))


# ------------------------------------------------------------------------------- model checks


def test_check_model_messages(shapes):
    assert check_model(small_cnn(), shapes) == sum(p.numel() for p in small_cnn().parameters())
    with pytest.raises(ConfigError, match="outputs 10 values .* 4 classes"):
        check_model(small_cnn(classes=10), shapes)
    with pytest.raises(ConfigError, match="cannot take this dataset's 3 x 32 x 32"):
        check_model(small_cnn(channels=1, side=28), shapes)
    with pytest.raises(ConfigError, match="parameters"):
        check_model(nn.Sequential(nn.Flatten(), nn.Linear(3072, 8000), nn.Linear(8000, 4)), shapes)
    huge = nn.Sequential(nn.Conv2d(3, 512, 3, padding=1), nn.Flatten(), nn.LazyLinear(4))
    with pytest.raises(ConfigError, match="memory"):
        huge(torch.zeros(1, 3, 32, 32))
        check_model(huge, shapes, batch_size=4096)


def test_run_accepts_spec_dict_and_rejects_mismatch(shapes):
    r = TrainingRun(DEMO_SPEC, load_dataset("mnist-sample"), TrainConfig(epochs=1))
    assert r.spec is not None and r.status == "ready" and r.classes == [str(d) for d in range(10)]
    with pytest.raises(ConfigError, match="cannot take"):
        TrainingRun(DEMO_SPEC, shapes)
    # Same seed, same initial weights; spec as ModelSpec works too.
    from cnnlib.spec import ModelSpec

    a = TrainingRun(ModelSpec.from_dict(DEMO_SPEC), r.bundle, TrainConfig(seed=3))
    b = TrainingRun(DEMO_SPEC, r.bundle, TrainConfig(seed=3))
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True))


# ------------------------------------------------------------------------------- training


@pytest.mark.slow  # trains to well above chance (~10 s)
def test_learns_shapes_well_above_chance(shapes):
    torch.manual_seed(0)
    r = run(small_cnn(), shapes, epochs=4, batch_size=32, lr=3e-3, val_fraction=0.1)
    assert r.snapshot().status == "ready"
    r.start()
    assert r.wait(120)
    s = r.snapshot()
    assert s.status == "finished", s.message
    assert s.test_accuracy > 0.7  # chance is 0.25
    assert s.epoch == 4 and len(s.train_loss) == len(s.val_loss) == len(s.lr) == 4
    assert s.train_loss[-1] < s.train_loss[0] and s.step == s.total_steps == 4 * math.ceil(720 / 32)
    assert len(s.batch_loss) == s.total_steps and s.batch_step[-1] == s.total_steps
    assert s.examples_per_sec > 0 and s.elapsed > 0 and s.eta == 0 and s.done and s.progress == 1
    assert s.train_size == 720 and s.val_size == 80 and "test accuracy" in s.message
    assert next(r.model.parameters()).device.type == "cpu" and not r.model.training
    assert r.test_probs.shape == (200, 4)
    assert r.stop() is False  # stopping a finished run does nothing
    with pytest.raises(RuntimeError, match="already"):
        r.start()


def test_stop_within_a_batch_keeps_the_model(shapes):
    gate = threading.Event()
    release = threading.Event()

    class Gate(nn.Module):  # blocks in the 2nd training batch until released
        calls = 0

        def forward(self, x):
            Gate.calls += self.training  # the model check and evaluation run in eval mode
            if Gate.calls == 2 and self.training:
                gate.set()
                release.wait(10)
            return x

    model = nn.Sequential(Gate(), small_cnn())
    r = run(model, shapes, epochs=50, batch_size=16, val_fraction=0.0)
    r.start()
    assert gate.wait(30)
    assert r.stop() is True
    release.set()
    assert r.wait(30)
    s = r.snapshot()
    # The batch in flight completes, and no other batch starts.
    assert s.status == "stopped" and s.step == 2 and Gate.calls == 2 and "Stopped by you" in s.message
    weights = [p.clone() for p in r.model.parameters()]
    time.sleep(0.05)
    assert all(torch.equal(a, b) for a, b in zip(weights, r.model.parameters(), strict=True))
    assert s.test_accuracy is not None


@pytest.mark.slow  # trains until the loss is NaN: ~3 s
def test_nan_loss_fails_with_learning_rate_message(shapes):
    r = run(small_cnn(), shapes, epochs=3, optimizer="sgd", lr=10.0, momentum=0.99, val_fraction=0.0)
    r.start()
    assert r.wait(60)
    s = r.snapshot()
    assert s.status == "failed" and "learning rate" in s.message and "too high" in s.message
    assert s.step < s.total_steps and s.test_accuracy is None


def test_snapshot_consistent_while_training(tiny):
    r = run(small_cnn(), tiny, epochs=4, batch_size=8, val_fraction=0.1)
    r.start()
    seen = []
    while not r.wait(0.003):
        s = r.snapshot()
        assert isinstance(s, RunSnapshot)
        assert len(s.train_loss) == len(s.train_acc) == len(s.val_loss) == len(s.lr) == s.epoch
        assert len(s.batch_loss) == len(s.batch_step) == len(s.batch_lr)
        if s.batch_step:
            assert s.batch_step[-1] == s.step
        assert s.step <= s.total_steps and 0 <= s.progress <= 1
        with pytest.raises(AttributeError):
            s.status = "x"  # frozen
        seen.append(s.step)
    assert seen == sorted(seen) and r.snapshot().status == "finished"


def test_early_stopping_restores_best_weights(shapes):
    # Label noise + a high learning rate: validation loss soon stops improving.
    torch.manual_seed(1)
    r = run(
        small_cnn(), shapes, epochs=40, lr=0.05, optimizer="sgd", patience=2, val_fraction=0.2, batch_size=16
    )
    r.start()
    assert r.wait(120)
    s = r.snapshot()
    assert s.status == "early-stopped", s.message
    assert s.epoch < 40 and s.best_epoch == int(np.argmin(s.val_loss)) + 1
    assert s.epoch - s.best_epoch == 2 and "kept the weights" in s.message
    # The restored model really is the best epoch's: its validation loss is the recorded minimum.
    from cnnlib.data import stratified_split
    from cnnlib.training.loop import evaluate_split

    _, val_idx = stratified_split(shapes.train_labels, 0.2, 0)
    mean = torch.tensor(shapes.mean).view(1, 3, 1, 1)
    std = torch.tensor(shapes.std).view(1, 3, 1, 1)
    loss, _ = evaluate_split(r.model, shapes.train_images, shapes.train_labels, val_idx, mean, std)
    assert loss == pytest.approx(min(s.val_loss), rel=1e-4)


def test_schedulers_and_optimizers(tiny):
    for kw in (
        {"scheduler": "step", "step_size": 1, "gamma": 0.5, "optimizer": "sgd", "lr": 0.02},
        {"scheduler": "cosine", "optimizer": "adamw", "weight_decay": 0.01},
        {"scheduler": "onecycle", "label_smoothing": 0.1, "augment": ("rotate", "shift", "flip", "color")},
    ):
        r = run(small_cnn(), tiny, epochs=2, batch_size=32, val_fraction=0.0, **kw)
        r.start()
        assert r.wait(60)
        s = r.snapshot()
        assert s.status == "finished", s.message
        if kw["scheduler"] == "step":
            assert s.lr == pytest.approx((0.02, 0.01))
        else:
            assert s.batch_lr[0] != pytest.approx(s.batch_lr[-1])


def test_time_cap_stops_run(shapes):
    r = run(small_cnn(), shapes, epochs=500, batch_size=8, val_fraction=0.0, max_seconds=0.3)
    r.start()
    assert r.wait(60)
    s = r.snapshot()
    assert s.status == "stopped" and "time limit" in s.message


def test_queue_then_cancel_and_stale(shapes):
    slots = SlotLimiter(1, heartbeat_timeout=0.2)
    first = run(small_cnn(), shapes, slots=slots, epochs=500, batch_size=8, val_fraction=0.0)
    second = run(small_cnn(), shapes, slots=slots, epochs=1, val_fraction=0.0)
    third = run(small_cnn(), shapes, slots=slots, epochs=1, val_fraction=0.0)
    first.start()
    second.start()
    third.start()
    s2, s3 = second.snapshot(), third.snapshot()
    assert s2.status == "queued" and s2.queue_position == 1 and s3.queue_position == 2
    assert s2.queue_wait is not None and s2.queue_wait >= 0
    assert second.stop() is True
    assert second.wait(10) and second.snapshot().status == "stopped"
    assert "queue" in second.snapshot().message
    assert third.snapshot().queue_position == 1
    # The first run's page goes away: after its first heartbeat, silence stops it and frees the slot.
    first.heartbeat()
    assert first.wait(30)
    assert first.snapshot().status == "stopped" and "closed" in first.snapshot().message
    assert third.wait(60) and third.snapshot().status == "finished"


def test_loss_history_is_capped(tiny, monkeypatch):
    from cnnlib.training import snapshot as T

    monkeypatch.setattr(T, "MAX_LOSS_POINTS", 16)
    r = run(small_cnn(), tiny, epochs=5, batch_size=12, val_fraction=0.0)  # 100 batches
    r.start()
    assert r.wait(60)
    s = r.snapshot()
    assert 8 <= len(s.batch_loss) < 16 and s.batch_step == tuple(sorted(s.batch_step))
    assert s.batch_step[-1] <= s.total_steps
    assert MAX_LOSS_POINTS == 2000


def test_failed_worker_reports_error(shapes):
    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = small_cnn()
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            if self.calls > 3:  # passes the model check, then fails
                raise RuntimeError("kaboom")
            return self.inner(x)

    r = run(Boom(), shapes, epochs=1, val_fraction=0.0)
    r.start()
    assert r.wait(30)
    s = r.snapshot()
    assert s.status == "failed" and "kaboom" in s.error and s.message


# ------------------------------------------------------------------------------- learning rates that blow up


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_learning_rate_1e6_stops_the_run_with_a_message_naming_it(shapes, optimizer):
    # SGD's loss turns NaN; Adam's steps are about lr each, so its loss explodes but stays finite:
    # both must stop (not "finish" at chance level) and name the learning rate.
    r = run(small_cnn(), shapes, epochs=2, optimizer=optimizer, lr=1e6, val_fraction=0.0)
    r.start()
    assert r.wait(60)
    s = r.snapshot()
    assert s.status == "failed", s.message
    assert "learning rate (1e+06)" in s.message and "too high" in s.message, s.message
    assert "try 0.001" in s.message if optimizer == "adam" else "try 0.05" in s.message
    assert s.step < s.total_steps and s.test_accuracy is None
    if optimizer == "adam":
        assert "exploded to" in s.message and "it started at" in s.message


def test_smaller_lr_suggestions():
    assert smaller_lr(0.5, "sgd") == pytest.approx(0.05)
    assert smaller_lr(0.01, "adam") == pytest.approx(0.001)
    assert smaller_lr(1e6, "adam") == 0.001 and smaller_lr(1e6, "sgd") == 0.05
    assert smaller_lr(2.0, "sgd") == 0.05


def test_chance_accuracy_and_guessing_note():
    labels = torch.tensor([0, 0, 0, 1])
    assert chance_accuracy(labels) == 0.75 and chance_accuracy(torch.zeros(0, dtype=torch.long)) == 0.0
    cfg = TrainConfig(optimizer="sgd", lr=0.5)
    assert guessing_note(0.9, 0.25, cfg, [1.4, 1.0], 100, 10) == ""
    spiked = guessing_note(0.25, 0.25, cfg, [1.4, 9.0, 1.39], 100, 10)
    assert "no better than guessing" in spiked and "25%" in spiked and "learning rate (0.5)" in spiked
    assert "Try 0.05" in spiked
    assert "less than one epoch" in guessing_note(0.25, 0.25, cfg, [1.4], 3, 10)
    flat = guessing_note(0.26, 0.25, cfg, [1.4, 1.39], 100, 10)
    assert "near 0.05" in flat and "more epochs" in flat


def test_a_run_stuck_at_chance_says_so(shapes):
    # Every ReLU dead from the start (a huge negative bias): the net can only learn the class prior,
    # so it answers one class for every image, and the run must say it learned nothing.
    model = small_cnn()
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.fill_(-1e3)
    r = run(model, shapes, epochs=2, optimizer="adam", lr=1e-3, val_fraction=0.0)
    r.start()
    assert r.wait(60)
    s = r.snapshot()
    assert s.status == "finished"
    assert s.test_accuracy <= chance_accuracy(shapes.test_labels) + 1e-9
    assert "no better than guessing" in s.message and "near 0.001" in s.message, s.message


def test_a_run_that_learns_gets_no_guessing_note(shapes):
    r = run(small_cnn(), shapes, epochs=2, val_fraction=0.0)
    r.start()
    assert r.wait(60)
    s = r.snapshot()
    assert s.test_accuracy > 0.5 and "guessing" not in s.message


def test_adaptation_notes_say_what_changed():
    from cnnlib.spec import PRESETS, adapt_to_dataset

    spec = PRESETS["TinyCNN"]  # 1x28x28, 10 classes
    adapted = adapt_to_dataset(spec, (3, 32, 32), 4)
    notes = adaptation_notes(spec, adapted)
    assert notes == [
        "input 1×28×28 → 3×32×32 (the dataset's image size)",
        "last Linear layer 10 → 4 outputs (one per class)",
    ]
    assert adaptation_notes(spec, adapt_to_dataset(spec, (1, 28, 28), 10)) == []


def test_blow_up_under_a_scheduler_names_the_set_rate_and_the_scheduled_one(shapes):
    r = run(small_cnn(), shapes, epochs=2, optimizer="sgd", lr=1e6, scheduler="onecycle", val_fraction=0.0)
    r.start()
    assert r.wait(60)
    s = r.snapshot()
    assert s.status == "failed" and "learning rate (1e+06; " in s.message, s.message
    assert "as the onecycle scheduler set it" in s.message and "try 0.05" in s.message
