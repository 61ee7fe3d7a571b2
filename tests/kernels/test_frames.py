"""The sliding window's frames against PyTorch: apply_multichannel_kernel vs F.conv2d, every frame's
sum vs the conv output at its pixel, its taps vs F.unfold's windows, the pooling frames vs
F.max_pool2d / F.avg_pool2d, and the browser's payload decoded in numpy as the player decodes it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnlib import kernels as K
from cnnlib import shapes
from cnnlib.kernels import KernelError


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _pair_or_int(rng: np.random.Generator, low: int, high: int):
    a, b = (int(v) for v in rng.integers(low, high, size=2))
    return (a, b) if rng.random() < 0.3 else a


def _conv_case(rng: np.random.Generator):
    """A random [C, H, W] image, [C, kh, kw] kernel and settings that leave at least one pixel."""
    while True:
        c = int(rng.integers(1, 5))
        h, w = (int(v) for v in rng.integers(1, 14, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
        stride, dilation = _pair_or_int(rng, 1, 4), _pair_or_int(rng, 1, 3)
        r = rng.random()
        padding = "valid" if r < 0.1 else ("same" if r < 0.2 else _pair_or_int(rng, 0, 4))
        if padding == "same":
            stride = 1
        pairs = [v if isinstance(v, tuple) else (v, v) for v in (stride, dilation)]
        try:
            for axis, (n, k) in enumerate(((h, kh), (w, kw))):
                pad = (
                    padding
                    if isinstance(padding, str)
                    else (padding if isinstance(padding, int) else padding[axis])
                )
                shapes.conv2d_output_size(n, k, pairs[0][axis], pad, pairs[1][axis])
        except shapes.ShapeError:
            continue
        image = rng.random((c, h, w))
        kernel = rng.normal(size=(c, kh, kw))
        bias = float(rng.normal()) if rng.random() < 0.7 else 0.0
        return image, kernel, bias, stride, padding, dilation


def _torch_conv(image, kernel, bias, stride, padding, dilation) -> torch.Tensor:
    layer = nn.Conv2d(image.shape[0], 1, kernel.shape[1:], stride=stride, padding=padding, dilation=dilation,
                      dtype=torch.float64)  # fmt: skip
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(kernel)[None])  # [1, C, kh, kw]
        layer.bias.fill_(bias)
        return layer(torch.from_numpy(image)[None])[0, 0]  # [H', W']


def test_apply_multichannel_kernel_matches_nn_conv2d_over_random_cases():
    rng = np.random.default_rng(25)
    for _ in range(300):
        image, kernel, bias, stride, padding, dilation = _conv_case(rng)
        ours = K.apply_multichannel_kernel(image, kernel, bias, stride, padding, dilation)
        theirs = _torch_conv(image, kernel, bias, stride, padding, dilation).numpy()
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_apply_multichannel_kernel_adds_the_channels_and_keeps_apply_kernel():
    rng = np.random.default_rng(1)
    rgb, kernel = rng.random((3, 9, 11)), rng.normal(size=(3, 3, 3))
    total = sum(K.apply_kernel(rgb[c], kernel[c]) for c in range(3)) + 0.25
    np.testing.assert_allclose(K.apply_multichannel_kernel(rgb, kernel, 0.25), total, atol=1e-12)
    # the same kernel on each channel = the depthwise maps added up
    same = np.stack([kernel[0]] * 3)
    np.testing.assert_allclose(
        K.apply_multichannel_kernel(rgb, same), K.apply_kernel(rgb, kernel[0]).sum(axis=0), atol=1e-12
    )


@pytest.mark.parametrize(
    ("image", "kernel", "kwargs", "message"),
    [
        (np.zeros((3, 5, 5)), np.zeros((2, 3, 3)), {}, "needs a kernel of 3 slices"),
        (np.zeros((1, 2, 2)), np.zeros((1, 3, 3)), {}, "kernel"),
        (np.zeros((1, 5, 5)), np.zeros((1, 3, 3)), {"padding": "same", "stride": 2}, "stride 1"),
        (np.zeros((1, 5, 5)), np.zeros((1, 3, 3)), {"bias": float("nan")}, "bias"),
        (np.zeros((1, 5, 5)), np.full((1, 3, 3), np.inf), {}, "infinite"),
    ],
)
def test_apply_multichannel_kernel_refuses_with_a_message(image, kernel, kwargs, message):
    with pytest.raises(KernelError, match=message):
        K.apply_multichannel_kernel(image, kernel, **kwargs)


def test_every_frame_sums_to_the_conv_output_and_its_taps_are_unfolds_windows():
    rng = np.random.default_rng(7)
    for _ in range(200):
        image, kernel, bias, stride, padding, dilation = _conv_case(rng)
        frames = K.window_frames(image, kernel, bias, stride, padding, dilation)
        conv = _torch_conv(image, kernel, bias, stride, padding, dilation).numpy()  # [H', W']
        assert frames.out_shape == conv.shape and frames.count == conv.size
        np.testing.assert_allclose(frames.outputs, conv.ravel(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(frames.channel_sums.sum(axis=1) + bias, frames.outputs, atol=1e-12)
        np.testing.assert_allclose(frames.products, frames.patches * kernel[None], atol=0)
        # F.unfold on the explicitly padded input: column n holds frame n's patch, channel by channel
        top, bottom, left, right = frames.pads
        x = F.pad(torch.from_numpy(image)[None], (left, right, top, bottom))  # [1, C, H+pad, W+pad]
        cols = F.unfold(x, kernel.shape[1:], dilation=dilation, stride=stride)[0]  # [C*kh*kw, N]
        np.testing.assert_allclose(frames.patches.reshape(frames.count, -1), cols.T.numpy(), atol=0)
        # the taps' coordinates: an index marker image through the same unfold finds each tap's input cell
        c, h, w = image.shape
        marker = torch.arange(1, h * w + 1, dtype=torch.float64).reshape(1, 1, h, w)
        where = F.unfold(F.pad(marker, (left, right, top, bottom)), kernel.shape[1:], dilation=dilation,
                         stride=stride)[0].T.numpy().astype(int)  # [N, kh*kw], 0 = padding  # fmt: skip
        rows, cols_ = frames.rows[:, :, None], frames.cols[:, None, :]  # [N, kh, 1], [N, 1, kw]
        ours = np.where(frames.inside, rows * w + cols_ + 1, 0).reshape(frames.count, -1)
        np.testing.assert_array_equal(ours, where)


def test_frames_show_the_stride_padding_and_dilation():
    frames = K.window_frames(np.ones((5, 5)), np.ones((3, 3)), stride=2, padding=1, dilation=2)
    assert frames.out_shape == (2, 2)
    np.testing.assert_array_equal(frames.rows[0], [-1, 1, 3])  # the padded border, then gaps of 2
    np.testing.assert_array_equal(frames.cols[1], [1, 3, 5])  # the next column: a jump of 2
    assert not frames.inside[0, 0, 0] and frames.patches[0, 0, 0, 0] == 0  # padding reads 0
    assert frames.pixel(3) == (1, 1)


def _pool_case(rng: np.random.Generator):
    while True:
        h, w = (int(v) for v in rng.integers(1, 14, size=2))
        kind = "max" if rng.random() < 0.5 else "avg"
        k = _pair_or_int(rng, 1, 5)
        kp = k if isinstance(k, tuple) else (k, k)
        stride = None if rng.random() < 0.3 else _pair_or_int(rng, 1, 4)
        pad = (int(rng.integers(0, kp[0] // 2 + 1)), int(rng.integers(0, kp[1] // 2 + 1)))
        dilation = 1 if kind == "avg" else _pair_or_int(rng, 1, 3)
        ceil = bool(rng.random() < 0.4)
        try:
            frames = K.pool_frames(rng.random((h, w)) - 0.5, kind, k, stride, pad, dilation, ceil)
        except KernelError:
            continue
        return frames, kind, k, stride, pad, dilation, ceil


def test_pool_frames_match_torch_pooling_over_random_cases():
    rng = np.random.default_rng(11)
    for _ in range(300):
        frames, kind, k, stride, pad, dilation, ceil = _pool_case(rng)
        x = torch.from_numpy(frames.image)[None]  # [1, 1, H, W]
        s = k if stride is None else stride
        if kind == "max":
            y = F.max_pool2d(x, k, s, pad, dilation, ceil_mode=ceil)
        else:
            y = F.avg_pool2d(x, k, s, pad, ceil_mode=ceil, count_include_pad=True)
        assert frames.out_shape == tuple(y.shape[-2:])
        np.testing.assert_allclose(frames.outputs, y.numpy().ravel(), rtol=1e-12, atol=1e-12)


def test_bad_frames_settings_and_big_images_are_refused():
    with pytest.raises(KernelError, match="up to 96 pixels"):
        K.window_frames(np.zeros((97, 10)), np.ones((3, 3)))
    with pytest.raises(KernelError, match="'max' or 'avg'"):
        K.pool_frames(np.zeros((4, 4)), "min")
    with pytest.raises(KernelError, match="at most half"):
        K.pool_frames(np.zeros((8, 8)), "max", 2, padding=2)
    with pytest.raises(KernelError, match="no dilation"):
        K.pool_frames(np.zeros((8, 8)), "avg", 2, dilation=2)


def decode(payload: dict, index: int) -> dict:
    """Frame `index` from the payload, by the rules the player's JavaScript follows (window_player.py)."""
    c, h, w, ow = payload["C"], payload["H"], payload["W"], payload["ow"]
    (kh, kw), (sh, sw), (top, _, left, _), (dh, dw) = payload["k"], payload["s"], payload["p"], payload["d"]
    image = np.array(payload["image"], dtype=np.float64).reshape(c, h, w)
    out_row, out_col = divmod(index, ow)
    rows = np.array([out_row * sh - top + i * dh for i in range(kh)])
    cols = np.array([out_col * sw - left + j * dw for j in range(kw)])
    inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]
    patch = np.where(inside, image[:, rows.clip(0, h - 1)][:, :, cols.clip(0, w - 1)], 0.0)  # [C, kh, kw]
    frame = {"rows": rows, "cols": cols, "patch": patch, "out": payload["out"][index]}
    if payload["op"] == "conv":
        frame["products"] = patch * np.array(payload["kernel"]).reshape(c, kh, kw)
    return frame


@pytest.mark.parametrize("case", range(40))
def test_the_payload_carries_every_frame(case):
    rng = np.random.default_rng(100 + case)
    if case % 3 == 2:
        frames = _pool_case(rng)[0]
    else:
        frames = K.window_frames(*_conv_case(rng))
    payload = json.loads(K.payload_json(frames))
    for index in rng.integers(0, frames.count, size=5):
        got = decode(payload, int(index))
        np.testing.assert_array_equal(got["rows"], frames.rows[index])
        np.testing.assert_array_equal(got["cols"], frames.cols[index])
        np.testing.assert_allclose(got["patch"], frames.patches[index], atol=1e-4)
        if "products" in got:
            np.testing.assert_allclose(got["products"], frames.products[index], atol=1e-3)
        assert got["out"] == pytest.approx(frames.outputs[index], abs=1e-4)


def test_payload_is_small_numbers_not_pictures():
    frames = K.window_frames(K.demo_input(28, 28), K.demo_kernel(3, 3), padding=1)
    text = K.payload_json(frames)
    assert len(text) < 6_000  # 784 whole numbers in, 784 out, no per-frame patches
    payload = json.loads(text)
    assert payload["image"][:4] == [0, 7, 4, 1] and ".0," not in text
    assert set(K.demo_kernel(3, 3).ravel()) == {-1.0, 0.0, 1.0}
