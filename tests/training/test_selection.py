"""Tests for cnnlib.training.selection and the settings behind it: a smaller training set
(`TrainConfig.train_size`, stratified and seeded), shuffled labels (`label_noise`, validation and
test labels never touched), their validation, and a run that memorises random labels."""

from __future__ import annotations

import pytest
import torch

from cnnlib.data import load_dataset, stratified_split
from cnnlib.training import (
    DEMO_SPEC,
    MIN_TRAIN_SIZE,
    ConfigError,
    SlotLimiter,
    TrainConfig,
    TrainingRun,
    guessing_note,
    training_data,
)
from cnnlib.training.advice import chance_accuracy
from cnnlib.training.selection import SUBSET_STREAM, noisy_labels, stratified_subset


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist-sample")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------- the subset


@pytest.mark.parametrize("n", [20, 37, 200, 999, 3600])
def test_stratified_subset_counts_follow_the_class_shares(mnist, n):
    labels = mnist.train_labels[:3600]  # [M] the sample's classes are not exactly balanced
    idx = stratified_subset(labels, n, seed=3)
    assert idx.shape == (n,) and idx.unique().numel() == n and int(idx.max()) < len(labels)
    counts = torch.bincount(labels[idx], minlength=10).double()  # [10]
    exact = torch.bincount(labels, minlength=10).double() * n / len(labels)
    assert int(counts.sum()) == n
    assert ((counts - exact).abs() < 1).all(), (counts, exact)  # within one image of the share


def test_stratified_subset_is_exact_on_balanced_classes_and_deterministic_per_seed():
    labels = torch.arange(10).repeat(50)  # [500], 50 per class
    idx = stratified_subset(labels, 200, seed=7)
    assert torch.equal(torch.bincount(labels[idx]), torch.full((10,), 20))
    assert torch.equal(idx, stratified_subset(labels, 200, seed=7))
    assert not torch.equal(idx, stratified_subset(labels, 200, seed=8))
    assert torch.equal(stratified_subset(labels, 500, seed=1).sort().values, torch.arange(500))
    with pytest.raises(ValueError):
        stratified_subset(labels, 501, seed=0)


# ------------------------------------------------------------------------------- the noise


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 0.5, 0.77, 1.0])
@pytest.mark.parametrize("m", [1, 7, 200, 1001])
def test_noise_replaces_exactly_round_fraction_times_n_labels(fraction, m):
    labels = torch.randint(0, 10, (m,), generator=gen(m))  # [m]
    new, replaced = noisy_labels(labels, fraction, 10, seed=5)
    assert new.shape == labels.shape and new.dtype == labels.dtype and replaced.dtype == torch.bool
    assert int(replaced.sum()) == round(fraction * m)
    assert torch.equal(new[~replaced], labels[~replaced])  # the others keep their labels
    assert int(new.min()) >= 0 and int(new.max()) < 10
    assert (new != labels).sum() <= replaced.sum()  # a draw may land on the true class
    again, replaced_again = noisy_labels(labels, fraction, 10, seed=5)
    assert torch.equal(again, new) and torch.equal(replaced_again, replaced)


def test_replaced_labels_are_uniform_draws_so_a_tenth_keep_their_class():
    labels = torch.zeros(20_000, dtype=torch.long)  # [M] all class 0
    new, replaced = noisy_labels(labels, 1.0, 10, seed=0)
    counts = torch.bincount(new, minlength=10).double()  # [10], 2,000 each expected
    chi2 = float(((counts - 2000) ** 2 / 2000).sum())
    assert chi2 < 30, counts  # 9 degrees of freedom: p < 0.001 beyond ~27.9
    wrong = float((new != labels).double().mean())  # label_noise * (K - 1) / K = 0.9
    assert wrong == pytest.approx(0.9, abs=0.01) and bool(replaced.all())


# ------------------------------------------------------------------------------- the run's data


def test_defaults_give_the_split_the_loop_always_used(mnist):
    cfg = TrainConfig().validate(len(mnist.train))
    data = training_data(mnist.train_labels, cfg, 10, gen(cfg.seed))
    train_idx, val_idx = stratified_split(mnist.train_labels, cfg.val_fraction, cfg.seed)
    assert torch.equal(data.train_idx, train_idx) and torch.equal(data.val_idx, val_idx)
    assert data.labels is mnist.train_labels and not data.replaced.any()
    no_val = training_data(mnist.train_labels, TrainConfig(val_fraction=0), 10, gen())
    assert no_val.val_idx is None and torch.equal(no_val.train_idx, torch.arange(len(mnist.train)))


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_subset_and_noise_touch_training_labels_only(mnist, seed):
    before = mnist.train_labels.clone()
    plain = training_data(mnist.train_labels, TrainConfig(seed=seed), 10, gen(seed))
    cfg = TrainConfig(train_size=200, label_noise=0.5, seed=seed).validate(len(mnist.train))
    data = training_data(mnist.train_labels, cfg, 10, gen(seed))
    assert torch.equal(mnist.train_labels, before)  # the shared bundle is never written
    assert torch.equal(data.val_idx, plain.val_idx)  # the same validation images ...
    assert torch.equal(data.labels[data.val_idx], before[data.val_idx])  # ... with their true labels
    assert len(data.train_idx) == 200 and data.train_idx.unique().numel() == 200
    assert set(data.train_idx.tolist()) <= set(plain.train_idx.tolist())  # out of the training part
    assert torch.equal(torch.bincount(before[data.train_idx]), torch.full((10,), 20))  # stratified
    assert int(data.replaced.sum()) == 100
    outside = torch.ones(len(before), dtype=torch.bool)
    outside[data.train_idx] = False
    assert torch.equal(data.labels[outside], before[outside])  # only training positions change
    kept = data.train_idx[~data.replaced]
    assert torch.equal(data.labels[kept], before[kept])
    clean = training_data(mnist.train_labels, TrainConfig(train_size=200, seed=seed), 10, gen(seed))
    assert torch.equal(clean.train_idx, data.train_idx)  # the noise picks no other images
    assert torch.equal(
        clean.train_idx,
        plain.train_idx[stratified_subset(before[plain.train_idx], 200, seed + SUBSET_STREAM)],
    )


# ------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kw, field, words",
    [
        ({"train_size": 19}, "train_size", f"at least {MIN_TRAIN_SIZE}"),
        ({"train_size": -5}, "train_size", "at least"),
        ({"train_size": 50.5}, "train_size", "whole number"),
        ({"train_size": "lots"}, "train_size", "whole number"),
        ({"train_size": 3601}, "train_size", "at most 3,600"),
        ({"train_size": 100, "batch_size": 128}, "batch_size", "larger than the 100 training images"),
        ({"label_noise": -0.1}, "label_noise", "at least 0 and at most 1"),
        ({"label_noise": 1.01}, "label_noise", "at most 1"),
        ({"label_noise": float("nan")}, "label_noise", "number"),
        ({"label_noise": "half"}, "label_noise", "number"),
    ],
)
def test_config_rejects_bad_sizes_and_noise(kw, field, words):
    with pytest.raises(ConfigError) as err:
        TrainConfig(**kw).validate(4000)
    assert err.value.field == field and words in err.value.message, err.value.message


def test_config_accepts_the_range_and_sizes_the_run():
    for size in (MIN_TRAIN_SIZE, 200, 3600):
        cfg = TrainConfig(train_size=size, batch_size=20, label_noise=1.0).validate(4000)
        assert cfg.train_val_sizes(4000) == (size, 400)
    cfg = TrainConfig(train_size=200.0, val_fraction=0).validate(4000)
    assert cfg.train_size == 200 and cfg.train_val_sizes(4000) == (200, 0)
    assert TrainConfig.from_dict(TrainConfig(train_size=50, label_noise=0.3).to_dict()).train_size == 50


def test_guessing_note_blames_the_shuffled_labels():
    note = guessing_note(0.1, 0.11, TrainConfig(label_noise=1.0), [2.3, 0.1], 50, 10)
    assert "100% of its training labels were replaced" in note


# ------------------------------------------------------------------------------- a run


def train(bundle, backend: str = "thread", **cfg) -> TrainingRun:
    cfg.setdefault("num_threads", 1)
    run = TrainingRun(DEMO_SPEC, bundle, TrainConfig(**cfg), slots=SlotLimiter(4), backend=backend)
    run.start()
    assert run.wait(timeout=300)
    return run


def test_a_run_trains_on_the_subset_in_its_own_process(mnist):
    run = train(mnist, "process", train_size=40, batch_size=20, epochs=1, label_noise=0.5)  # config pickled
    assert run.backend == "process"
    snap = run.snapshot()
    assert snap.status == "finished" and snap.train_size == 40 and snap.val_size == 400
    assert snap.steps_per_epoch == 2 and snap.step == 2 and len(snap.val_acc) == 1


def test_with_random_labels_training_accuracy_leaves_validation_behind(mnist):
    """200 images, every label replaced: the network memorises them (train accuracy climbs) while
    validation, measured on true labels, stays near chance. The mechanics, on one seed; the
    benchmark (benchmarks/bench_overfit.py) measures the effect over seeds."""
    run = train(mnist, train_size=200, label_noise=1.0, epochs=15, batch_size=32, lr=2e-3, val_fraction=0.05)
    snap = run.snapshot()
    assert snap.status == "finished" and snap.train_size == 200
    assert snap.train_acc[-1] > snap.val_acc[-1] + 0.2, (snap.train_acc, snap.val_acc)
    assert max(snap.val_acc) < 0.3 and snap.test_accuracy < 0.3  # nothing that carries over
    # The shuffled labels are named whenever the run is no better than guessing (guessing_note's rule;
    # the Digit CNN lands 10-13 % here, either side of chance + 2 points, by seed and dropout masks)
    guessing = snap.test_accuracy <= chance_accuracy(mnist.test_labels) + 0.02
    assert ("replaced by random ones" in snap.message) == guessing, (snap.test_accuracy, snap.message)
