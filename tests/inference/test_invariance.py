"""Tests for cnnlib.inference.invariance: the drawing shifted, turned and scaled (against torch.roll,
torch.rot90 and torchvision's affine), sweeps in one batch equal to per-image predictions, bounds,
and the FGSM nudge against a gradient computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnlib import inference as inf
from cnnlib.inference import (
    MAX_SWEEP,
    SWEEP_KINDS,
    fgsm_nudge,
    predict_moved,
    sweep,
    sweep_values,
    transform_drawing,
)
from cnnlib.inference.model_input import MNIST_MEAN, MNIST_STD
from tests.inference.test_invariance_helpers import drawing28, small_model


def rolled(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """x [28, 28] moved dx right and dy down with zero fill (torch.roll, then the wrapped part blanked)."""
    out = torch.roll(x, shifts=(dy, dx), dims=(0, 1))
    if dy > 0:
        out[:dy, :] = 0
    elif dy < 0:
        out[dy:, :] = 0
    if dx > 0:
        out[:, :dx] = 0
    elif dx < 0:
        out[:, dx:] = 0
    return out


# ------------------------------------------------------------- transform_drawing


def test_identity_is_exact_for_every_accepted_shape():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(28, 28, generator=gen)
    for shape in ((28, 28), (1, 28, 28)):
        out = transform_drawing(x.reshape(shape))
        assert out.shape == shape and out.dtype == torch.float32
        torch.testing.assert_close(out, x.reshape(shape), rtol=0, atol=0)
    out = transform_drawing(x.numpy(), shift=(0, 0), angle=0, scale=1)  # numpy in, tensor out
    torch.testing.assert_close(out, x, rtol=0, atol=0)


def test_integer_shifts_equal_torch_roll_with_zero_fill():
    gen = torch.Generator().manual_seed(1)
    for _ in range(60):
        x = torch.rand(28, 28, generator=gen)
        dx, dy = (int(v) for v in torch.randint(-10, 11, (2,), generator=gen))
        torch.testing.assert_close(transform_drawing(x, shift=(dx, dy)), rolled(x, dx, dy), rtol=0, atol=1e-6)


def test_every_shift_of_the_range_at_the_corners():
    x = torch.rand(28, 28, generator=torch.Generator().manual_seed(2))
    for dx in (-10, 10):
        for dy in (-10, 0, 10):
            torch.testing.assert_close(
                transform_drawing(x, shift=(dx, dy)), rolled(x, dx, dy), atol=1e-6, rtol=0
            )


def test_two_45_degree_turns_are_rot90_counterclockwise_on_a_centred_pattern():
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    # a smooth, centred, lopsided blob (bilinear resampling twice blurs sharp edges)
    blob = torch.exp(-(((xx - 13.5 - 3) / 4) ** 2 + ((yy - 13.5) / 2.5) ** 2))  # [28, 28], off to the right
    twice = transform_drawing(transform_drawing(blob, angle=45), angle=45)
    expected = torch.rot90(blob, 1, dims=(0, 1))  # counterclockwise as shown: right goes up
    assert (twice - expected).abs().max() < 0.1  # two bilinear resamplings blur a little
    assert (twice - torch.rot90(blob, -1, dims=(0, 1))).abs().max() > 0.5  # the other way is far off
    # the blob's mass moved up (smaller row), not down
    rows = (twice.sum(1) * torch.arange(28.0)).sum() / twice.sum()
    assert rows < 13.5 - 2


@pytest.mark.parametrize("angle, scale", [(30.0, 1.0), (-45.0, 1.0), (0.0, 1.5), (20.0, 0.8), (-10.0, 1.2)])
def test_rotation_and_scale_match_torchvision_affine(angle, scale):
    tvf = pytest.importorskip("torchvision.transforms.functional")
    from torchvision.transforms import InterpolationMode

    x = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(3))
    ours = transform_drawing(x, shift=(2, -3), angle=angle, scale=scale)
    # affine's angle turns clockwise (its rotate() counterclockwise, as ours)
    ref = tvf.affine(
        x,
        angle=-angle,
        translate=[2, -3],
        scale=scale,
        shear=[0.0, 0.0],
        interpolation=InterpolationMode.BILINEAR,
    )
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, atol=1e-4, rtol=0)


def test_scale_grows_the_ink_about_the_centre():
    x = torch.zeros(28, 28)
    x[10:18, 10:18] = 1.0  # a centred square of 8 px
    big, small = transform_drawing(x, scale=1.5), transform_drawing(x, scale=0.5)
    assert float(big.sum()) == pytest.approx(64 * 1.5**2, rel=0.05)
    assert float(small.sum()) == pytest.approx(64 * 0.5**2, rel=0.02)
    torch.testing.assert_close(big, big.flip(0).flip(1))  # still centred


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"shift": (11, 0)}, "shift x must be between -10 and 10"),
        ({"shift": (0, -10.5)}, "shift y must be between -10 and 10"),
        ({"angle": 46}, "angle must be between -45 and 45"),
        ({"angle": float("nan")}, "angle must be a finite number"),
        ({"scale": 0.49}, "scale must be between 0.5 and 1.5"),
        ({"scale": 2}, "scale must be between 0.5 and 1.5"),
        ({"scale": "big"}, "scale must be a number"),
        ({"shift": (1, 2, 3)}, "shift must be (dx, dy)"),
    ],
)
def test_values_outside_the_bounds_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        transform_drawing(torch.zeros(28, 28), **kwargs)


@pytest.mark.parametrize("shape", [(3, 28, 28), (28, 27), (2, 1, 28, 28), (784,)])
def test_other_shapes_are_refused(shape):
    with pytest.raises(ValueError, match=r"\[28, 28\] or \[1, 28, 28\]"):
        transform_drawing(torch.zeros(shape))


def test_a_nan_pixel_is_refused():
    x = torch.zeros(28, 28)
    x[3, 4] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        transform_drawing(x)


# ------------------------------------------------------------- sweep


def test_sweep_values_are_the_sliders_ranges():
    assert sweep_values("shift_x") == [float(v) for v in range(-10, 11)]
    assert sweep_values("shift_y") == sweep_values("shift_x")
    assert sweep_values("angle") == [float(v) for v in range(-45, 46, 5)] and len(sweep_values("angle")) == 19
    assert sweep_values("scale") == pytest.approx([0.5 + 0.1 * i for i in range(11)])
    assert all(len(sweep_values(k)) <= MAX_SWEEP for k in SWEEP_KINDS)
    with pytest.raises(ValueError, match="unknown sweep"):
        sweep_values("shear")


def per_image(model, img, pose, mean, std) -> np.ndarray:
    shift, angle, scale = pose
    moved = transform_drawing(img, shift=shift, angle=angle, scale=scale)  # [28, 28]
    return inf.predict(model, ((moved - mean) / std).reshape(1, 1, 28, 28))  # [K]


@pytest.mark.parametrize("kind", list(SWEEP_KINDS))
def test_the_batch_equals_per_image_predictions_with_the_bundled_model(kind):
    bundle = inf.load_pretrained_bundle()
    img = drawing28()
    others = {"shift": (2, -1), "angle": 10.0, "scale": 0.9}
    probs = sweep(bundle.model, img, kind, mean=bundle.mean, std=bundle.std, **others)
    values = sweep_values(kind)
    assert probs.shape == (len(values), len(bundle.classes)) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    for v, row in zip(values, probs, strict=True):
        shift, angle, scale = others["shift"], others["angle"], others["scale"]
        if kind == "shift_x":
            shift = (v, shift[1])
        elif kind == "shift_y":
            shift = (shift[0], v)
        elif kind == "angle":
            angle = v
        else:
            scale = v
        np.testing.assert_allclose(
            row,
            per_image(bundle.model, img, (shift, angle, scale), bundle.mean, bundle.std),
            atol=1e-6,
            rtol=0,
        )


def test_the_bundled_model_reads_the_centred_drawing_and_loses_it_far_off():
    bundle = inf.load_pretrained_bundle()
    probs = sweep(bundle.model, drawing28(), "shift_x", mean=bundle.mean, std=bundle.std)
    assert bundle.classes[int(probs[10].argmax())] == "7"  # shift 0: the drawing as preprocessed
    assert probs.shape == (21, 10)


def test_a_student_model_with_dropout_and_batch_norm_is_swept_in_eval_mode():
    torch.manual_seed(0)
    model = small_model(dropout=True)
    model.train()  # as a model fresh from training may be left
    img = drawing28()
    values = [-3.0, 0.0, 4.0]
    probs = sweep(model, img, "shift_y", values)
    assert not model.training
    for v, row in zip(values, probs, strict=True):
        np.testing.assert_allclose(
            row, per_image(model, img, ((0, v), 0.0, 1.0), MNIST_MEAN, MNIST_STD), atol=1e-6, rtol=0
        )
    again = sweep(model, img, "shift_y", values)
    np.testing.assert_array_equal(probs, again)  # no dropout noise


def test_one_forward_pass_per_sweep():
    model = small_model()
    calls = []
    model.register_forward_hook(lambda m, i, o: calls.append(tuple(i[0].shape)))
    sweep(model, drawing28(), "angle")
    assert calls == [(19, 1, 28, 28)]


@pytest.mark.parametrize(
    "kind, values, kwargs, words",
    [
        ("shift_x", [0, 11], {}, "shift x must be between -10 and 10"),
        ("angle", [-50], {}, "angle must be between -45 and 45"),
        ("scale", [0.4, 1.0], {}, "scale must be between 0.5 and 1.5"),
        ("shift_x", list(range(22)), {}, "1 to 21 values, got 22"),
        ("shift_x", [], {}, "1 to 21 values, got 0"),
        ("rotate", [0], {}, "unknown sweep 'rotate'"),
        ("shift_x", [0], {"angle": 90}, "angle must be between -45 and 45"),
        ("shift_x", [0], {"std": 0.0}, "std must be positive"),
    ],
)
def test_a_sweep_outside_the_bounds_is_refused(kind, values, kwargs, words):
    with pytest.raises(ValueError, match=words):
        sweep(small_model(), drawing28(), kind, values, **kwargs)


def test_a_model_too_big_for_the_server_is_refused_before_it_runs():
    from cnnlib.spec import MemoryBudgetError

    wide = nn.Sequential(nn.Conv2d(1, 4096, 3, padding=1), nn.Conv2d(4096, 4096, 3, padding=1), nn.Flatten())
    with pytest.raises(MemoryBudgetError):
        sweep(wide, drawing28(), "shift_x")


def test_predict_moved_is_the_moved_drawing_and_its_prediction():
    bundle = inf.load_pretrained_bundle()
    img = drawing28()
    image, probs = predict_moved(bundle.model, img, (-4, 3), -20, 1.2, mean=bundle.mean, std=bundle.std)
    moved = transform_drawing(img, shift=(-4, 3), angle=-20, scale=1.2)
    np.testing.assert_array_equal(image, moved.numpy())
    expected = per_image(bundle.model, img, ((-4, 3), -20, 1.2), bundle.mean, bundle.std)
    np.testing.assert_allclose(probs, expected, atol=1e-6, rtol=0)
    assert probs.shape == (10,)
    with pytest.raises(ValueError, match="angle"):
        predict_moved(bundle.model, img, angle=60)


# ------------------------------------------------------------- FGSM


def test_fgsm_moves_every_pixel_by_epsilon_along_the_gradient_sign():
    bundle = inf.load_pretrained_bundle()
    img = drawing28()
    eps = 0.15
    nudge = fgsm_nudge(bundle.model, img, eps, mean=bundle.mean, std=bundle.std)
    # the gradient by hand
    x = img.reshape(1, 1, 28, 28).clone().requires_grad_(True)
    logits = bundle.model((x - bundle.mean) / bundle.std)
    target = int(logits.argmax())
    nn.functional.cross_entropy(logits, torch.tensor([target])).backward()
    expected = (img.reshape(28, 28) + eps * x.grad.sign()[0, 0]).clamp(0, 1)
    assert nudge.target == target and nudge.image.shape == (28, 28)
    np.testing.assert_allclose(nudge.image, expected.numpy(), atol=1e-6)
    assert np.abs(nudge.image - img.numpy().reshape(28, 28)).max() <= eps + 1e-6
    np.testing.assert_allclose(
        nudge.before, per_image(bundle.model, img, ((0, 0), 0, 1), bundle.mean, bundle.std), atol=1e-6
    )
    moved = inf.predict(
        bundle.model, ((torch.from_numpy(nudge.image) - bundle.mean) / bundle.std).reshape(1, 1, 28, 28)
    )
    np.testing.assert_allclose(nudge.after, moved, atol=1e-6)
    assert nudge.after[target] < nudge.before[target]  # pushed against the top class


def test_fgsm_epsilon_zero_changes_nothing_and_bounds_are_refused():
    model = small_model()
    img = drawing28()
    nudge = fgsm_nudge(model, img, 0.0)
    np.testing.assert_array_equal(nudge.image, img.numpy().reshape(28, 28))
    for bad in (-0.1, 0.6, float("inf")):
        with pytest.raises(ValueError, match="epsilon"):
            fgsm_nudge(model, img, bad)
