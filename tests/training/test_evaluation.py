"""Unit tests for cnnlib.training.evaluation: confusion matrix, per-class metrics, evaluate, filters, feature maps,
the overfitting flag and the weights export (checked against hand counts, formulas and torch)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from cnnlib.data import normalize
from cnnlib.training import (
    conv_feature_maps,
    cpu_state_dict,
    evaluate,
    export_weights,
    first_layer_filters,
    overfitting_flag,
)
from cnnlib.training.evaluation import confusion_matrix, load_exported, per_class_metrics, predict_proba


def _bundle(n=64, c=1, hw=8, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, c, hw, hw), generator=g, dtype=torch.uint8)  # [N, C, H, W]
    labels = torch.randint(0, k, (n,), generator=g)  # [N]
    return SimpleNamespace(
        test_images=images,
        test_labels=labels,
        classes=[f"c{i}" for i in range(k)],
        mean=(0.5,) * c,
        std=(0.25,) * c,
    )


def _model(c=1, k=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(c, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(6 * 2 * 2, k),
    )


@pytest.mark.parametrize("seed", range(20))
def test_confusion_matrix_matches_hand_count(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 12))
    n = int(rng.integers(0, 300))
    y, p = rng.integers(0, k, n), rng.integers(0, k, n)
    hand = np.zeros((k, k), dtype=np.int64)
    for t, q in zip(y, p, strict=True):
        hand[t, q] += 1
    np.testing.assert_array_equal(confusion_matrix(y, p, k), hand)


def test_confusion_matrix_small_example_and_errors():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    with pytest.raises(ValueError):
        confusion_matrix([0, 1], [0], 2)
    with pytest.raises(ValueError):
        confusion_matrix([0, 3], [0, 1], 3)


@pytest.mark.parametrize("seed", range(20))
def test_per_class_metrics_match_scikit_learn_and_the_formulas(seed):
    rng = np.random.default_rng(100 + seed)
    k = int(rng.integers(2, 10))
    n = int(rng.integers(1, 400))
    y = rng.integers(0, k, n)
    p = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n))  # mostly right, some wrong
    cm = confusion_matrix(y, p, k)
    m = per_class_metrics(cm)
    # An independent oracle: scikit-learn's own confusion matrix and metrics (dev requirement only).
    from sklearn import metrics as sk

    assert np.array_equal(cm, sk.confusion_matrix(y, p, labels=list(range(k))))
    prec, rec, f1, support = sk.precision_recall_fscore_support(y, p, labels=list(range(k)), zero_division=0)
    np.testing.assert_allclose(m.precision, prec)
    np.testing.assert_allclose(m.recall, rec)
    np.testing.assert_allclose(m.f1, f1)
    assert np.array_equal(m.support, support)
    assert np.trace(cm) / n == pytest.approx(sk.accuracy_score(y, p))  # the confusion identity
    for c in range(k):
        tp = int(np.sum((y == c) & (p == c)))
        fp = int(np.sum((y != c) & (p == c)))
        fn = int(np.sum((y == c) & (p != c)))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        assert m.precision[c] == pytest.approx(prec)
        assert m.recall[c] == pytest.approx(rec)
        assert m.f1[c] == pytest.approx(f1)
        assert m.support[c] == np.sum(y == c)
    assert np.all(np.isfinite(m.f1))


def test_metrics_of_a_never_predicted_class_are_zero_not_nan():
    m = per_class_metrics(confusion_matrix([0, 1, 2], [0, 0, 0], 3))
    assert m.precision.tolist() == pytest.approx([1 / 3, 0, 0])
    assert m.recall.tolist() == pytest.approx([1, 0, 0])
    assert m.f1[1] == 0 and m.f1[2] == 0


def test_evaluate_matches_a_direct_torch_forward():
    bundle = _bundle(n=70, k=3)
    model = _model()
    model.train()
    ev = evaluate(model, bundle, batch_size=16)
    assert model.training, "evaluate restores the model's mode"
    model.eval()
    with torch.no_grad():
        logits = model(normalize(bundle.test_images, (bundle.mean, bundle.std)))  # [N, K]
    probs = torch.softmax(logits, 1).numpy()
    np.testing.assert_allclose(ev.probabilities, probs, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ev.predictions, probs.argmax(1))
    y = bundle.test_labels.numpy()
    assert ev.accuracy == pytest.approx(float((probs.argmax(1) == y).mean()))
    assert ev.confusion.sum() == 70 and ev.num_examples == 70
    np.testing.assert_array_equal(ev.confusion, confusion_matrix(y, probs.argmax(1), 3))
    for t, p, count in ev.misclassified_cells():
        idx = ev.cell_indices(t, p)
        assert len(idx) == count and t != p
        assert np.all(y[idx] == t) and np.all(probs.argmax(1)[idx] == p)
    counts = [c for _, _, c in ev.misclassified_cells()]
    assert counts == sorted(counts, reverse=True)


def test_evaluate_max_examples_and_class_count_mismatch():
    bundle = _bundle(n=50, k=3)
    assert evaluate(_model(), bundle, max_examples=20).num_examples == 20
    with pytest.raises(ValueError, match="4 scores"):
        evaluate(_model(k=4), bundle)


def test_predict_proba_rows_sum_to_one():
    bundle = _bundle(n=10, c=3, k=5)
    probs = predict_proba(_model(c=3, k=5), bundle.test_images, bundle.mean, bundle.std)
    assert probs.shape == (10, 5)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)


def test_first_layer_filters():
    model = _model(c=3)
    np.testing.assert_array_equal(first_layer_filters(model), model[0].weight.detach().numpy())
    assert first_layer_filters(nn.Sequential(nn.Flatten(), nn.Linear(4, 2))) is None


def test_feature_maps_are_the_conv_blocks_outputs():
    bundle = _bundle(n=2, c=1)
    model = _model().eval()
    maps = conv_feature_maps(model, bundle.test_images[0], bundle.mean, bundle.std)
    names = [name for name, _ in maps]
    assert len(names) == 2 and names[0].startswith("Layer 1: Conv2d") and "BatchNorm2d" in names[0]
    assert names[1].startswith("Layer 5: Conv2d") and names[1].endswith("ReLU")
    x = normalize(bundle.test_images[:1], (bundle.mean, bundle.std))  # [1, 1, 8, 8]
    with torch.no_grad():
        a = model[2](model[1](model[0](x)))  # [1, 4, 8, 8]
        b = model[5](model[4](model[3](a)))  # [1, 6, 2, 2]
    np.testing.assert_allclose(maps[0][1], a[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(maps[1][1], b[0].numpy(), rtol=1e-5, atol=1e-6)


def test_feature_maps_of_a_non_sequential_model_use_hooks():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.head = nn.Linear(2 * 6 * 6, 3)

        def forward(self, x):
            return self.head(torch.relu(self.conv(x)).flatten(1))

    net = Net()
    image = torch.randint(0, 256, (1, 8, 8), dtype=torch.uint8)
    net.train()
    maps = conv_feature_maps(net, image, (0.5,), (0.25,))
    assert len(maps) == 1 and maps[0][1].shape == (2, 6, 6)
    assert net.training, "the model's mode is restored"


@pytest.mark.parametrize(
    ("train", "val", "expected"),
    [
        ([1.0, 0.8, 0.6, 0.5, 0.4], [1.0, 0.9, 0.85, 0.95, 1.1], True),  # classic overfitting
        ([1.0, 0.8, 0.6, 0.5, 0.4], [1.0, 0.8, 0.6, 0.55, 0.5], False),  # both falling
        ([1.0, 0.8, 0.6, 0.5], [1.0, 0.8, 0.6, 0.7], False),  # only one epoch up: not yet
        ([1.0, 1.1, 1.2, 1.3], [1.0, 1.1, 1.2, 1.3], False),  # both rising: diverging, not overfitting
        ([1.0, 0.5], [1.0, 2.0], False),  # too short to judge
        ([1.0, 0.8, 0.6, 0.5], [0.5, 0.5, 0.501, 0.502], False),  # flat within tolerance
        ([1.0, float("nan"), 0.5], [1.0, 1.2, 1.4], False),
    ],
)
def test_overfitting_flag(train, val, expected):
    verdict = overfitting_flag(train, val)
    assert verdict.overfitting is expected
    assert verdict.message
    if expected:
        assert verdict.since_epoch == 3 and "validation loss rose" in verdict.message


def test_export_weights_round_trip_with_weights_only():
    model = _model(c=3, k=4)
    spec = {"input_shape": [3, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 4}]}
    data = export_weights(
        spec, model.state_dict(), ["a", "b", "c", "d"], (0.1, 0.2, 0.3), (0.5, 0.5, 0.5), "shapes"
    )
    back = load_exported(data)  # weights_only=True: fails on any pickled class
    assert back["spec"] == spec and back["classes"] == ["a", "b", "c", "d"] and back["dataset"] == "shapes"
    assert back["mean"] == pytest.approx([0.1, 0.2, 0.3])
    fresh = _model(c=3, k=4, seed=1)
    fresh.load_state_dict(back["state_dict"])
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value)
    assert b"torch.nn.modules" not in data


def test_cpu_state_dict_is_a_detached_copy():
    model = _model()
    sd = cpu_state_dict(model)
    with torch.no_grad():
        model[0].weight.add_(1.0)
    assert not torch.equal(sd["0.weight"], model[0].weight)
