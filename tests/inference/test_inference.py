"""Tests for cnnlib.inference: MNIST-style preprocessing, predict, feature maps, Grad-CAM, models."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from torch import nn

from cnnlib import inference as inf
from cnnlib.inference.classify import centre_of_mass
from cnnlib.inference.explain import channel_strength
from cnnlib.inference.uploads import WORK_SIDE, flatten_paper
from cnnlib.plots.draw import OTHER_COLOUR, TOP_COLOUR, mosaic

CANVAS = 280


def canvas(strokes=(), width=20, size=CANVAS, transparent=False) -> np.ndarray:
    """A canvas like the page's: RGBA uint8, white ink on black (or on transparent)."""
    bg = (0, 0, 0, 0) if transparent else (0, 0, 0, 255)
    img = Image.new("RGBA", (size, size), bg)
    draw = ImageDraw.Draw(img)
    for points in strokes:
        if len(points) == 1:
            x, y = points[0]
            r = width / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 255))
        else:
            draw.line(points, fill=(255, 255, 255, 255), width=width, joint="curve")
    return np.asarray(img).copy()  # [H, W, 4]


SEVEN = [[(60, 50), (200, 50), (110, 230)]]
ONE = [[(40, 30), (40, 220)]]


# ------------------------------------------------------------- preprocess_drawing


def test_blank_canvas_is_empty_and_predicts_nothing():
    out = inf.preprocess_drawing(canvas())
    assert out.empty and out.tensor is None
    assert "empty" in out.message
    assert len(out.steps) == 1


def test_transparent_white_pixels_are_not_ink():
    rgba = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    rgba[..., :3] = 255  # white but fully transparent
    assert inf.preprocess_drawing(rgba).empty


def test_alpha_background_same_as_black_background():
    a = inf.preprocess_drawing(canvas(SEVEN))
    b = inf.preprocess_drawing(canvas(SEVEN, transparent=True))
    torch.testing.assert_close(a.tensor, b.tensor)


def test_output_tensor_shape_and_normalisation():
    out = inf.preprocess_drawing(canvas(SEVEN))
    assert not out.empty and out.tensor.shape == (1, 1, 28, 28)
    assert out.tensor.dtype == torch.float32
    t = out.tensor.numpy()
    # Background pixels are exactly (0 - mean) / std, full ink reaches (1 - mean) / std.
    assert t.min() == pytest.approx(-0.1307 / 0.3081, abs=1e-5)
    assert t.max() <= (1 - 0.1307) / 0.3081 + 1e-5
    assert out.value_range == pytest.approx((t.min(), t.max()))
    names = [n for n, _ in out.steps]
    assert names[0] == "Your drawing" and names[1] == "Cropped to the ink" and len(names) == 5
    for _, img in out.steps:
        assert img.min() >= 0 and img.max() <= 1


def test_custom_mean_std():
    a = inf.preprocess_drawing(canvas(SEVEN))
    b = inf.preprocess_drawing(canvas(SEVEN), mean=(0.5,), std=[0.25])
    img = a.steps[-1][1]
    torch.testing.assert_close(b.tensor[0, 0], torch.from_numpy((img - 0.5) / 0.25))


@pytest.mark.parametrize(
    "strokes", [SEVEN, ONE, [[(150, 150), (260, 170)]], [[(20, 20), (90, 60), (30, 120)]]]
)
def test_centre_of_mass_lands_in_the_middle(strokes):
    out = inf.preprocess_drawing(canvas(strokes))
    field = out.steps[-2][1]
    r, c = centre_of_mass(field)
    assert abs(r - 14) <= 0.51 and abs(c - 14) <= 0.51
    assert out.centre_of_mass == pytest.approx((r, c))


def test_longer_side_scaled_to_20_keeping_aspect():
    tall = inf.preprocess_drawing(canvas(ONE))  # 20 wide, 210 tall
    crop, small = tall.steps[1][1], tall.steps[2][1]
    assert crop.shape == (191, 20)  # the line's ink: rows 30..220, 20 px wide
    assert small.shape == (20, 2)
    wide = inf.preprocess_drawing(canvas([[(30, 100), (250, 140)]]))
    h, w = wide.steps[1][1].shape
    assert wide.steps[2][1].shape == (round(20 * h / w), 20)
    square = inf.preprocess_drawing(canvas([[(50, 50), (200, 50), (200, 200), (50, 200), (50, 50)]]))
    assert square.steps[2][1].shape == (20, 20)


def test_crop_is_the_ink_bounding_box():
    rgba = canvas()
    rgba[100:150, 60:90, :3] = 255
    out = inf.preprocess_drawing(rgba)
    assert out.bbox == (100, 60, 150, 90)
    assert out.steps[1][1].shape == (50, 30)


def test_position_and_size_do_not_matter():
    """The same digit drawn small in a corner or big in the middle gives (almost) the same input."""
    big = inf.preprocess_drawing(canvas([[(60, 40), (220, 40), (120, 250)]], width=24))
    small = inf.preprocess_drawing(canvas([[(10, 10), (90, 10), (40, 115)]], width=12))
    diff = (big.steps[-1][1] - small.steps[-1][1]).__abs__().mean()
    assert diff < 0.06


def test_single_dot_gives_a_note_not_a_crash():
    out = inf.preprocess_drawing(canvas([[(140, 140)]], width=20))
    assert not out.empty and out.tensor is not None
    assert any("dot" in n for n in out.notes)
    assert torch.isfinite(out.tensor).all()


def test_one_pixel_speck_counts_as_empty():
    rgba = canvas()
    rgba[5, 5, :3] = 255
    assert inf.preprocess_drawing(rgba).empty


def test_whole_canvas_scribble():
    rgba = canvas()
    rgba[..., :3] = 255
    out = inf.preprocess_drawing(rgba)
    assert not out.empty and torch.isfinite(out.tensor).all()
    assert any("covered" in n for n in out.notes)
    assert any("edge" in n for n in out.notes)
    assert out.steps[2][1].shape == (20, 20)


def test_drawing_touching_the_edges():
    out = inf.preprocess_drawing(canvas([[(0, 0), (279, 279)], [(279, 0), (0, 279)]]))
    assert not out.empty
    assert any("edge" in n for n in out.notes)
    r, c = out.centre_of_mass
    assert abs(r - 14) <= 0.51 and abs(c - 14) <= 0.51


def test_other_array_layouts():
    rgba = canvas(SEVEN)
    ref = inf.preprocess_drawing(rgba).tensor
    grey = rgba[..., 0]
    torch.testing.assert_close(inf.preprocess_drawing(grey).tensor, ref)
    torch.testing.assert_close(inf.preprocess_drawing(rgba[..., :3]).tensor, ref)
    torch.testing.assert_close(inf.preprocess_drawing(grey.astype(np.float32) / 255).tensor, ref)
    inverted = 255 - rgba[..., :3]
    torch.testing.assert_close(inf.preprocess_drawing(inverted, invert=True).tensor, ref)
    with pytest.raises(ValueError):
        inf.preprocess_drawing(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ValueError):
        inf.preprocess_drawing(np.zeros((0, 4), np.uint8))


def test_naive_resize_shape():
    t = inf.naive_resize(canvas(SEVEN))
    assert t.shape == (1, 1, 28, 28)


# ------------------------------------------------------------- read_image (uploads)


def _png(img: Image.Image, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def test_read_image_dark_ink_on_paper_matches_canvas():
    rgba = canvas(SEVEN)
    paper = Image.fromarray(255 - rgba[..., 0]).convert("RGB")  # black ink on white paper
    grey = inf.read_image(_png(paper, "PNG"))
    a = inf.preprocess_drawing(grey).steps[-1][1]
    b = inf.preprocess_drawing(rgba).steps[-1][1]
    assert np.abs(a - b).mean() < 0.02


def test_read_image_light_ink_and_transparent_background():
    rgba = canvas(SEVEN, transparent=True)
    grey = inf.read_image(_png(Image.fromarray(rgba)))
    assert grey.dtype == np.uint8 and grey.ndim == 2
    assert (
        np.abs(inf.preprocess_drawing(grey).steps[-1][1] - inf.preprocess_drawing(rgba).steps[-1][1]).mean()
        < 0.02
    )
    dark = rgba.copy()
    dark[..., :3] = 0  # black ink on a transparent background
    grey2 = inf.read_image(_png(Image.fromarray(dark)))
    assert np.abs(grey2.astype(int) - grey.astype(int)).mean() < 2


def test_read_image_shrinks_big_images():
    img = Image.fromarray(canvas(SEVEN, size=1200)[..., 0])
    assert max(inf.read_image(_png(img)).shape) <= WORK_SIDE


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"this is not an image at all", "could not be read"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "could not be read"),
    ],
)
def test_read_image_rejects_non_images(data, words):
    with pytest.raises(inf.ImageInputError, match=words):
        inf.read_image(data)


def test_read_image_rejects_huge_and_blank():
    small_png = _png(Image.new("L", (64, 64), 0))
    with pytest.raises(inf.ImageInputError, match="MB"):
        inf.read_image(small_png, max_bytes=10)
    with pytest.raises(inf.ImageInputError, match="pixels"):
        inf.read_image(_png(Image.new("1", (6000, 5000), 0)))
    with pytest.raises(inf.ImageInputError, match="blank"):
        inf.read_image(small_png)
    with pytest.raises(inf.ImageInputError, match="blank"):
        inf.read_image(_png(Image.new("RGB", (64, 64), (200, 200, 200))))


# ------------------------------------------------------------- predict, feature maps


def small_cnn(seed=0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(6 * 6 * 6, 10),
    ).eval()


def test_predict_is_a_probability_distribution():
    model = small_cnn()
    x = torch.randn(1, 1, 28, 28)
    p = inf.predict(model, x)
    assert p.shape == (10,) and (p >= 0).all()
    assert p.sum() == pytest.approx(1.0, abs=1e-5)
    torch.testing.assert_close(torch.from_numpy(p), torch.softmax(model(x), 1)[0])
    batch = inf.predict(model, torch.randn(3, 1, 28, 28))
    assert batch.shape == (3, 10) and np.allclose(batch.sum(1), 1, atol=1e-5)
    assert inf.predict(model, x[0]).shape == (10,)  # [C, H, W] works too


def test_predict_puts_a_training_model_in_eval_mode():
    model = small_cnn().train()
    x = torch.randn(1, 1, 28, 28)
    p1, p2 = inf.predict(model, x), inf.predict(model, x)
    assert np.allclose(p1, p2) and not model.training


def test_feature_maps_match_torch_after_activation():
    model = small_cnn()
    x = torch.randn(1, 1, 28, 28)
    maps = inf.feature_maps(model, x)
    assert [name for name, _ in maps] == [
        "Layer 1: Conv2d 1→4, 3×3 → BatchNorm2d → ReLU",
        "Layer 5: Conv2d 4→6, 3×3 → ReLU",
    ]
    with torch.no_grad():
        a = model[2](model[1](model[0](x)))
        b = model[5](model[4](model[3](a)))
    np.testing.assert_allclose(maps[0][1], a[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(maps[1][1], b[0].numpy(), atol=1e-6)
    assert maps[0][1].shape == (4, 28, 28) and maps[1][1].shape == (6, 12, 12)


def test_feature_maps_of_a_non_sequential_model_use_hooks():
    seq = small_cnn()

    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = seq

        def forward(self, x):
            return self.body(x)

    x = torch.randn(1, 1, 28, 28)
    maps = inf.feature_maps(Wrapped().eval(), x)
    assert len(maps) == 2
    with torch.no_grad():
        np.testing.assert_allclose(maps[0][1], seq[0](x)[0].numpy(), atol=1e-6)  # raw conv output


def test_channel_order_strongest_first():
    fmap = np.zeros((4, 3, 3))
    fmap[2] = 5
    fmap[0] = -3  # strength is |activation|
    fmap[3] = 1
    assert list(inf.channel_order(fmap)) == [2, 0, 3, 1]
    np.testing.assert_allclose(channel_strength(fmap), [3, 0, 5, 1])


# ------------------------------------------------------------- grad_cam


def two_region_model() -> nn.Sequential:
    """Channel 0 copies the input; class 0 sums the top-left quadrant, class 1 the bottom-right."""
    conv = nn.Conv2d(1, 1, 1, bias=False)
    fc = nn.Linear(64, 2, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        w = torch.zeros(2, 8, 8)
        w[0, :4, :4] = 1
        w[1, 4:, 4:] = 1
        fc.weight.copy_(w.reshape(2, 64))
    return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), fc).eval()


def sign_model() -> nn.Sequential:
    """Channel 0 sees bright pixels, channel 1 dark ones; class 0 counts bright ink, class 1 dark ink."""
    conv = nn.Conv2d(1, 2, 1, bias=False)
    fc = nn.Linear(2 * 8 * 8, 2, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0]).reshape(2, 1, 1, 1))
        w = torch.zeros(2, 2, 8, 8)
        w[0, 0] = 1
        w[1, 1] = 1
        fc.weight.copy_(w.reshape(2, -1))
    return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), fc).eval()


def test_grad_cam_peaks_where_the_evidence_is():
    model = sign_model()
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 1:3, 1:3] = 1.0  # bright patch top-left: evidence for class 0
    x[0, 0, 5:7, 4:7] = -0.5  # dark patch bottom-right: evidence for class 1
    cam0 = inf.grad_cam(model, x, target=0)
    assert cam0.shape == (8, 8) and cam0.dtype == np.float32
    assert cam0.max() == pytest.approx(1.0) and cam0.min() >= 0
    np.testing.assert_allclose(cam0, (x[0, 0] > 0).float().numpy())  # exactly the bright patch
    cam1 = inf.grad_cam(model, x, target=1)
    np.testing.assert_allclose(cam1, (x[0, 0] < 0).float().numpy())  # exactly the dark patch
    # Default target: the top class (class 0: 4 bright pixels * 1.0 beat 6 dark ones * 0.5).
    np.testing.assert_allclose(inf.grad_cam(model, x), cam0)


def test_grad_cam_single_channel_follows_the_activation():
    model = two_region_model()
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 1, 2] = 1.0
    cam = inf.grad_cam(model, x, target=0)
    assert np.unravel_index(cam.argmax(), cam.shape) == (1, 2)


def test_grad_cam_zero_gradient_gives_zeros_not_nan():
    model = two_region_model()
    with torch.no_grad():
        model[3].weight.zero_()
    cam = inf.grad_cam(model, torch.rand(1, 1, 8, 8))
    assert np.isfinite(cam).all() and (cam == 0).all()


def test_grad_cam_zero_activation_and_negative_evidence_give_zeros():
    model = two_region_model()
    assert (inf.grad_cam(model, torch.zeros(1, 1, 8, 8)) == 0).all()
    with torch.no_grad():
        model[3].weight.neg_()  # every pixel now counts against both classes
    assert (inf.grad_cam(model, torch.rand(1, 1, 8, 8) + 0.1, target=0) == 0).all()


def _reference_grad_cam(model: nn.Sequential, layer: nn.Module, x: torch.Tensor, target: int) -> np.ndarray:
    """Textbook Grad-CAM with hooks and retain_grad, as in the paper's reference implementations."""
    store = {}

    def hook(_m, _i, out):
        out.retain_grad()
        store["a"] = out

    h = layer.register_forward_hook(hook)
    x = x.clone().requires_grad_(True)
    logits = model(x)
    h.remove()
    logits[0, target].backward()
    a, g = store["a"], store["a"].grad
    cam = torch.relu((g.mean((2, 3), keepdim=True) * a).sum(1, keepdim=True))
    cam = nn.functional.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)[0, 0]
    return (cam / cam.max()).detach().numpy() if cam.max() > 0 else np.zeros(x.shape[2:], np.float32)


@pytest.mark.parametrize("seed", range(5))
def test_grad_cam_matches_a_textbook_implementation(seed):
    model = small_cnn(seed)
    x = torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    ours = {t: inf.grad_cam(model, x, t) for t in (0, 3, 9)}
    for p in model.parameters():
        assert p.grad is None  # no gradients left on the weights
    for target, cam in ours.items():
        ref = _reference_grad_cam(model, model[5], x, target)  # after the last conv's ReLU
        np.testing.assert_allclose(cam, ref, atol=1e-5)


def test_grad_cam_non_sequential_and_frozen_models():
    seq = small_cnn(1)
    for p in seq.parameters():
        p.requires_grad_(False)
    x = torch.randn(1, 1, 28, 28)

    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = seq

        def forward(self, x):
            return self.body(x)

    cam_seq = inf.grad_cam(seq, x, 2)  # frozen weights still work
    assert cam_seq.shape == (28, 28) and cam_seq.max() in (0.0, pytest.approx(1.0))
    cam_hook = inf.grad_cam(Wrapped().eval(), x, 2)  # hooks on the raw conv output
    assert cam_hook.shape == (28, 28) and np.isfinite(cam_hook).all()


def test_grad_cam_upsamples_strided_maps_and_checks_target():
    model = nn.Sequential(nn.Conv2d(1, 3, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 13 * 13, 4))
    cam = inf.grad_cam(model, torch.rand(1, 1, 28, 28))
    assert cam.shape == (28, 28) and 0 <= cam.min() and cam.max() <= 1
    with pytest.raises(ValueError, match="out of range"):
        inf.grad_cam(model, torch.rand(1, 1, 28, 28), target=4)
    with pytest.raises(ValueError, match="Conv2d"):
        inf.grad_cam(nn.Sequential(nn.Flatten(), nn.Linear(784, 2)), torch.rand(1, 1, 28, 28))


def test_hooks_are_removed_after_use():
    seq = small_cnn()

    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = seq

        def forward(self, x):
            return self.body(x)

    m = Wrapped()
    inf.feature_maps(m, torch.rand(1, 1, 28, 28))
    inf.grad_cam(m, torch.rand(1, 1, 28, 28))
    assert all(not mod._forward_hooks for mod in m.modules())


# ------------------------------------------------------------- compatibility


def test_check_compatible():
    ok = inf.check_compatible({"input_shape": [1, 28, 28], "layers": []}, [str(d) for d in range(10)])
    assert ok.ok and ok.message is None
    colour = inf.check_compatible({"input_shape": [3, 32, 32], "layers": []}, ["cat", "dog"])
    assert not colour.ok and "3×32×32" in colour.message and "colour" in colour.message
    other = inf.check_compatible({"input_shape": [1, 28, 28]}, ["T-shirt", "Trouser", "Pullover"])
    assert other.ok and "T-shirt" in other.message
    assert not inf.check_compatible({"input_shape": [1, 28, 28]}, []).ok


def test_check_compatible_with_a_module():
    model = small_cnn()
    assert inf.check_compatible(model, [str(d) for d in range(10)]).ok
    mismatch = inf.check_compatible(model, ["a", "b"])
    assert not mismatch.ok and "10 outputs" in mismatch.message
    wrong_input = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 10))
    res = inf.check_compatible(wrong_input, [str(d) for d in range(10)])
    assert not res.ok and "1×28×28" in res.message


# ------------------------------------------------------------- pretrained file errors


def test_missing_pretrained_file(tmp_path):
    with pytest.raises(inf.PretrainedError, match="missing"):
        inf.load_pretrained_bundle(path=tmp_path / "nope.pt")


def test_corrupt_pretrained_file(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(inf.PretrainedError, match="could not be read"):
        inf.load_pretrained_bundle(path=bad)


def test_pickled_module_is_refused(tmp_path):
    f = tmp_path / "module.pt"
    torch.save(small_cnn(), f)  # a whole pickled module: weights_only loading must refuse it
    with pytest.raises(inf.PretrainedError):
        inf.load_pretrained_bundle(path=f)


def test_pretrained_file_without_keys(tmp_path):
    f = tmp_path / "partial.pt"
    torch.save({"state_dict": {}}, f)
    with pytest.raises(inf.PretrainedError, match="lacks"):
        inf.load_pretrained_bundle(path=f)


def test_the_face_exports_the_modules_names_and_the_weights_dir_is_patchable(monkeypatch, tmp_path):
    """cnnlib.inference is the one home of the package's public names; the loader reads pretrained.DATA_DIR."""
    from cnnlib.inference import explain, pretrained, uploads

    for module, names in [
        (explain, ["feature_maps", "grad_cam", "channel_order"]),
        (pretrained, ["load_pretrained", "load_pretrained_bundle", "pretrained_path", "PretrainedError"]),
        (uploads, ["read_image", "ImageInputError", "MAX_UPLOAD_BYTES"]),
    ]:
        assert all(getattr(inf, name) is getattr(module, name) for name in names)
        assert set(names) <= set(inf.__all__)
    assert not hasattr(inf, "DATA_DIR")  # a patch of inference.DATA_DIR would miss: make it fail loudly
    monkeypatch.setattr(pretrained, "DATA_DIR", tmp_path)
    assert inf.pretrained_path() == tmp_path / "mnist_cnn.pt"
    with pytest.raises(inf.PretrainedError, match="mnist_cnn.pt is missing"):
        inf.load_pretrained()


# ------------------------------------------------------------- the bundled model


@pytest.fixture(scope="module")
def pretrained():
    return inf.load_pretrained_bundle()


@pytest.fixture(scope="module")
def mnist():
    from cnnlib.data import load_dataset

    return load_dataset("mnist-sample")


def test_load_pretrained_contract(pretrained):
    model, spec, classes = inf.load_pretrained("mnist")
    assert isinstance(model, nn.Sequential) and not model.training
    assert spec["input_shape"] == [1, 28, 28] and classes == [str(d) for d in range(10)]
    assert all(not p.requires_grad for p in model.parameters())
    assert inf.pretrained_path().stat().st_size < 3 * 1024 * 1024  # a few MB at most
    assert 0.97 <= pretrained.test_accuracy <= 1.0
    assert inf.check_compatible(spec, classes).ok


def test_pretrained_accuracy_on_the_held_out_split(pretrained, mnist):
    from cnnlib.data import normalize

    x = normalize(mnist.test_images, mnist)  # [1000, 1, 28, 28]
    probs = inf.predict(pretrained.model, x)  # [1000, 10]
    acc = float((probs.argmax(1) == mnist.test_labels.numpy()).mean())
    assert acc >= 0.97
    assert acc == pytest.approx(pretrained.test_accuracy, abs=1e-3)  # the figure stored with the weights
    assert pretrained.mean == pytest.approx(mnist.mean[0]) and pretrained.std == pytest.approx(mnist.std[0])


def _as_drawing(img28: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit as a student might draw it: any size, anywhere on a 280x280 canvas."""
    ys, xs = np.nonzero(img28 > 30)
    crop = img28[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h = int(rng.integers(90, 250))
    w = min(270, max(1, round(crop.shape[1] * h / crop.shape[0])))
    big = np.asarray(Image.fromarray(crop).resize((w, h), Image.Resampling.BILINEAR))
    out = np.zeros((CANVAS, CANVAS), np.uint8)
    top, left = int(rng.integers(0, CANVAS - h + 1)), int(rng.integers(0, CANVAS - w + 1))
    out[top : top + h, left : left + w] = big
    return out


def test_mnist_preprocessing_beats_a_naive_resize(pretrained, mnist):
    """MNIST digits drawn at any size and place: the MNIST recipe reads nearly all, a naive resize far fewer."""
    rng = np.random.default_rng(0)
    n = 120
    drawn = [_as_drawing(mnist.test_images[i, 0].numpy(), rng) for i in range(n)]
    labels = mnist.test_labels[:n].numpy()
    proper = torch.cat([inf.preprocess_drawing(d, pretrained.mean, pretrained.std).tensor for d in drawn])
    naive = torch.cat([inf.naive_resize(d, pretrained.mean, pretrained.std) for d in drawn])  # [n, 1, 28, 28]
    good = float((inf.predict(pretrained.model, proper).argmax(1) == labels).mean())
    bad = float((inf.predict(pretrained.model, naive).argmax(1) == labels).mean())
    assert good >= 0.95
    assert bad <= good - 0.15


DRAWN_DIGITS = {
    "0": [("ellipse", (80, 40, 200, 240))],
    "1": [[(150, 40), (140, 240)]],
    "2": [("arc", (70, 40, 210, 150), 180, 40), [(200, 120), (80, 240), (220, 240)]],
    "3": [("arc", (80, 30, 200, 135), 200, 90), ("arc", (80, 130, 200, 245), 270, 160)],
    "4": [[(170, 240), (170, 40), (60, 170), (220, 170)]],
    "5": [[(200, 40), (90, 40), (85, 125)], ("arc", (80, 110, 210, 245), 220, 140)],
    "6": [[(180, 40), (100, 130)], ("ellipse", (80, 130, 200, 245))],
    "7": [[(60, 50), (210, 50), (110, 240)]],
    "8": [("ellipse", (95, 30, 185, 130)), ("ellipse", (85, 130, 195, 245))],
    "9": [("ellipse", (80, 35, 200, 140)), [(198, 90), (180, 245)]],
}


def _draw_digit(strokes, width=20) -> np.ndarray:
    img = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 255))
    d = ImageDraw.Draw(img)
    for s in strokes:
        if s[0] == "ellipse":
            d.ellipse(s[1], outline=(255, 255, 255, 255), width=width)
        elif s[0] == "arc":
            d.arc(s[1], s[2], s[3], fill=(255, 255, 255, 255), width=width)
        else:
            d.line(s, fill=(255, 255, 255, 255), width=width, joint="curve")
    return np.asarray(img).copy()


@pytest.mark.parametrize("digit", sorted(DRAWN_DIGITS))
def test_pretrained_reads_drawn_digits(pretrained, digit):
    for width in (14, 28):
        pre = inf.preprocess_drawing(_draw_digit(DRAWN_DIGITS[digit], width), pretrained.mean, pretrained.std)
        probs = inf.predict(pretrained.model, pre.tensor)
        assert pretrained.classes[int(probs.argmax())] == digit
    maps = inf.feature_maps(pretrained.model, pre.tensor)
    assert len(maps) == 3 and all(m.ndim == 3 for _, m in maps)
    cam = inf.grad_cam(pretrained.model, pre.tensor)
    assert cam.shape == (28, 28) and cam.max() == pytest.approx(1.0)


# ------------------------------------------------------------- answer, figures


def test_answer_words_and_low_confidence():
    classes = [str(d) for d in range(10)]
    sure = inf.answer(np.eye(10)[3] * 0.91 + 0.01, classes)
    assert sure.label == "3" and sure.index == 3 and sure.warning is None
    assert sure.confidence == pytest.approx(0.92)
    unsure = inf.answer(np.array([0.4, 0.35] + [0.25 / 8] * 8), classes)
    assert unsure.label == "0" and unsure.runner_up == "1"
    assert unsure.warning.startswith("Not sure: is it a digit?") and "40%" in unsure.warning
    with pytest.raises(ValueError):
        inf.answer(np.ones(3) / 3, classes)


def test_signature_changes_with_the_drawing():
    a = inf.preprocess_drawing(canvas(SEVEN))
    assert a.signature == inf.preprocess_drawing(canvas(SEVEN)).signature
    assert a.signature != inf.preprocess_drawing(canvas(ONE)).signature
    assert inf.preprocess_drawing(canvas()).signature == ""


def test_figures():
    """The Draw page's figures are plain dicts (no validation per stroke): valid plotly figures."""
    import plotly.graph_objects as go

    from cnnlib import plots as pd

    probs = np.array([0.05, 0.7, 0.25])
    fig = go.Figure(pd.probability_figure(probs, ["a", "b", "c"]))
    bar = fig.data[0]
    assert list(bar.y) == pytest.approx([5, 70, 25])
    assert bar.marker.color[1] == TOP_COLOUR and bar.marker.color[0] == OTHER_COLOUR
    with pytest.raises(ValueError):
        pd.probability_figure(probs, ["a"])

    fmap = np.arange(5 * 3 * 2, dtype=np.float32).reshape(5, 3, 2)
    grid = mosaic(fmap, [4, 0, 2], cols=2, pad=1)
    assert grid.shape == (2 * 4 - 1, 2 * 3 - 1)
    np.testing.assert_array_equal(grid[:3, :2], fmap[4])
    np.testing.assert_array_equal(grid[:3, 3:], fmap[0])
    np.testing.assert_array_equal(grid[4:, :2], fmap[2])
    assert np.isnan(grid[3]).all() and np.isnan(grid[4:, 3:]).all()
    fig = go.Figure(pd.feature_grid_figure(fmap, [4, 0, 2], cols=2))
    assert len(fig.layout.annotations) == 3 and fig.layout.annotations[0].text == "4"
    z = np.asarray(pd.feature_grid_figure(fmap, [4, 0, 2], cols=2)["data"][0]["z"])
    np.testing.assert_array_equal(z, grid)  # small whole numbers: rounding to 3 decimals keeps them

    cam_fig = go.Figure(pd.cam_figure(np.zeros((28, 28)), np.ones((28, 28))))
    assert len(cam_fig.data) == 3
    with pytest.raises(ValueError):
        pd.cam_figure(np.zeros((28, 28)), np.ones((7, 7)))
    big = pd.enlarge(np.eye(4), 100)
    assert big.shape == (100, 100) and big.dtype == np.uint8 and big[0, 0] == 255 and big[0, 30] == 0
    assert pd.enlarge(np.ones((280, 140)), 112).shape == (112, 56)


def test_framed_cards():
    from cnnlib import plots as pd

    card = pd.framed(np.ones((20, 10)), 140, units=28)  # 20x10 at the scale of 28 px -> 100x50
    assert card.shape == (140, 140) and card.dtype == np.uint8
    ink = np.argwhere(card == 255)
    assert (ink.max(0) - ink.min(0) + 1).tolist() == [100, 50]
    fit = pd.framed(np.ones((280, 140)), 140)  # fitted: longer side fills the card
    ink = np.argwhere(fit == 255)
    assert (ink.max(0) - ink.min(0) + 1).tolist() == [140, 70]
    assert fit[0, 0] == round(0.3 * 255)


# ------------------------------------------------------------- audit additions: uploads, notes, figures


def _seven_on_paper(size=300, ink=20, paper=235) -> Image.Image:
    img = Image.new("L", (size, size), paper)
    pts = [(size * 0.23, size * 0.2), (size * 0.77, size * 0.2), (size * 0.4, size * 0.87)]
    ImageDraw.Draw(img).line(pts, fill=ink, width=int(size * 0.07))
    return img


def _bytes(img: Image.Image, fmt="PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_read_image_high_bit_depth_is_not_blank():
    """16-bit PNG/TIFF, 32-bit and float TIFF read like the 8-bit picture (Pillow alone clips them white)."""
    ref = inf.read_image(_bytes(_seven_on_paper())).astype(int)
    a16 = np.asarray(_seven_on_paper()).astype(np.uint16) * 257
    for data in (
        _bytes(Image.fromarray(a16)),  # 16-bit grey PNG
        _bytes(Image.fromarray(a16), "TIFF"),
        _bytes(Image.fromarray(a16.astype(np.int32)), "TIFF"),  # mode "I"
        _bytes(Image.fromarray(np.asarray(_seven_on_paper()).astype(np.float32) / 255), "TIFF"),  # mode "F"
    ):
        grey = inf.read_image(data)
        assert grey.dtype == np.uint8 and grey.shape == ref.shape
        assert np.abs(grey.astype(int) - ref).mean() < 2


def test_read_image_tiny_and_bomb_messages():
    with pytest.raises(inf.ImageInputError, match="1×1 pixels, too small"):
        inf.read_image(_bytes(Image.new("RGB", (1, 1), (255, 255, 255))))
    with pytest.raises(inf.ImageInputError, match="too small"):
        inf.read_image(_bytes(Image.new("L", (5, 40), 0)))
    # Over Pillow's own bomb limit: Image.open refuses it; the message is about size, not format.
    bomb = _bytes(Image.new("1", (20000, 20000), 0))
    with pytest.raises(inf.ImageInputError, match="too many pixels"):
        inf.read_image(bomb)


def test_read_image_colour_photo_with_a_shadow(pretrained):
    """A blue-pen 7 on cream paper, lit from one side and noisy, JPEG: read as a clean 7."""
    rng = np.random.default_rng(0)
    ink = np.asarray(_seven_on_paper(ink=255, paper=0)).astype(np.float32)[..., None] / 255  # [300, 300, 1]
    yy, xx = np.mgrid[0:300, 0:300]
    light = (0.95 - 0.5 * xx / 300)[..., None]  # bright left, dark right
    paper = light * np.array([235.0, 225.0, 195.0]) + rng.normal(0, 5, (300, 300, 3))
    photo = np.clip(paper * (1 - ink) + np.array([30.0, 40.0, 120.0]) * ink, 0, 255).astype(np.uint8)
    grey = inf.read_image(_bytes(Image.fromarray(photo), "JPEG", quality=85))
    pre = inf.preprocess_drawing(grey, pretrained.mean, pretrained.std)
    assert not pre.notes  # the shadow is not ink: nothing touches the edge
    clean = inf.preprocess_drawing(inf.read_image(_bytes(_seven_on_paper())))  # the same 7, scanned
    assert np.abs(np.subtract(pre.bbox, clean.bbox)).max() <= 3  # the box is the digit's alone
    assert inf.answer(inf.predict(pretrained.model, pre.tensor), pretrained.classes).label == "7"


def test_read_image_applies_exif_rotation():
    upright = _seven_on_paper().convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    stored = upright.rotate(90, expand=True)  # what the camera stored
    a = inf.read_image(_bytes(stored, "JPEG", exif=exif)).astype(int)
    b = inf.read_image(_bytes(upright, "JPEG")).astype(int)
    assert np.abs(a - b).mean() < 3


def test_flatten_paper_removes_lighting_and_keeps_strokes():
    xx = np.tile(np.linspace(0.0, 0.6, 200, dtype=np.float32), (150, 1))  # light fading to the right
    np.testing.assert_allclose(flatten_paper(xx), 0.0, atol=5e-3)  # a gradient is not ink, to the edge
    img = xx.copy()
    img[40:110, 150:160] += 0.3  # a stroke in the shadowy part
    flat = flatten_paper(img)
    assert flat[40:110, 150:160].mean() == pytest.approx(0.3, abs=0.04)
    assert flat[:, :140].max() < 0.02
    # On paper, ink darkens the light by a factor: the same ink reads the same in light and shadow.
    light = np.tile(np.linspace(1.0, 0.4, 200, dtype=np.float32), (150, 1))  # paper brightness
    seen = light.copy()
    seen[40:110, 20:30] *= 0.2  # ink reflecting 20 % in the light
    seen[40:110, 170:180] *= 0.2  # the same ink in the shadow
    flat = flatten_paper(1.0 - seen, on_paper=True)
    assert flat[40:110, 20:30].mean() == pytest.approx(0.8, abs=0.03)
    assert flat[40:110, 170:180].mean() == pytest.approx(0.8, abs=0.03)


def test_opening_matches_a_brute_force_one():
    rng = np.random.default_rng(3)
    a = rng.random((12, 15)).astype(np.float32)
    k = 5
    p = np.pad(a, k - 1, mode="edge")
    mins = np.array(
        [
            [p[i : i + k, j : j + k].min() for j in range(p.shape[1] - k + 1)]
            for i in range(p.shape[0] - k + 1)
        ]
    )
    ref = np.array([[mins[i : i + k, j : j + k].max() for j in range(a.shape[1])] for i in range(a.shape[0])])
    from cnnlib.inference.uploads import opening

    np.testing.assert_allclose(opening(a, k), ref)


def test_flat_line_gets_a_note_and_a_digit_does_not():
    line = inf.preprocess_drawing(canvas([[(40, 140), (240, 140)]], width=8))
    assert any("flat line" in n for n in line.notes) and line.steps[2][1].shape == (1, 20)
    assert not inf.preprocess_drawing(canvas(SEVEN)).notes
    assert not inf.preprocess_drawing(canvas(ONE)).notes  # tall and thin is fine: a 1


def test_naive_image_is_the_squashed_canvas():
    rgba = canvas(SEVEN)
    img = inf.naive_image(rgba)
    assert img.shape == (28, 28) and 0 <= img.min() and img.max() <= 1
    torch.testing.assert_close(inf.naive_resize(rgba)[0, 0], torch.from_numpy((img - 0.1307) / 0.3081))


def test_probability_labels_are_readable():
    import plotly.graph_objects as go

    from cnnlib import plots as pd

    bar = go.Figure(pd.probability_figure(np.array([0.02, 0.9, 0.08]), ["a", "b", "c"])).data[0]
    assert bar.constraintext == "none"  # Plotly would shrink the top bar's label to the bar's width
    assert bar.text[1] == "<b>90%</b>" and bar.text[2] == "8%"
    assert bar.textfont.color[1] == TOP_COLOUR


def test_readme_states_the_stored_accuracy(pretrained):
    """The README's figure for the bundled model is the one stored with its weights (and printed by
    scripts/train_pretrained.py when it made them)."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"**{100 * pretrained.test_accuracy:.1f} %**" in readme
    script = (Path(__file__).resolve().parents[2] / "scripts" / "train_pretrained.py").read_text(
        encoding="utf-8"
    )
    assert "test accuracy on the" in script and "held-out digits" in script


def test_small_digits_anywhere_need_the_mnist_recipe(pretrained, mnist):
    """Digits drawn small (50-100 px of a 280 px canvas) anywhere: the recipe still reads nearly all of
    them, a naive squash of the whole canvas almost none (it hands the network a speck)."""
    rng = np.random.default_rng(1)
    drawn, n = [], 100
    for i in range(n):
        img = mnist.test_images[i, 0].numpy()
        ys, xs = np.nonzero(img > 30)
        crop = Image.fromarray(img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
        h = int(rng.integers(50, 101))
        w = max(1, round(crop.width * h / crop.height))
        big = np.asarray(crop.resize((w, h), Image.Resampling.BICUBIC))
        out = np.zeros((CANVAS, CANVAS), np.uint8)
        top, left = int(rng.integers(0, CANVAS - h + 1)), int(rng.integers(0, CANVAS - w + 1))
        out[top : top + h, left : left + w] = big
        drawn.append(out)
    labels = mnist.test_labels[:n].numpy()
    proper = torch.cat([inf.preprocess_drawing(d, pretrained.mean, pretrained.std).tensor for d in drawn])
    naive = torch.cat([inf.naive_resize(d, pretrained.mean, pretrained.std) for d in drawn])
    assert float((inf.predict(pretrained.model, proper).argmax(1) == labels).mean()) >= 0.9
    assert float((inf.predict(pretrained.model, naive).argmax(1) == labels).mean()) <= 0.4
