"""cnnlib.kernels against PyTorch: feature maps, one pixel by hand, sizes, pooling, kernel editing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnlib import kernels as K
from cnnlib.kernels import KernelError
from cnnlib.kernels.convolution import pool, pool_output_shape, relu
from cnnlib.kernels.link import format_weights
from cnnlib.kernels.presets import parse_kernel_grid, parse_weight
from cnnlib.plots.kernels import PAD_CELL, PAD_TINT, can_click, grid_figure


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Thousands of tiny convolutions: one thread avoids thread start-up costs on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _random_case(rng: np.random.Generator):
    """A random image, kernel and settings (some of which leave no output pixel)."""
    h, w = rng.integers(1, 16, size=2)
    kh, kw = rng.integers(1, 8, size=2) if rng.random() < 0.3 else (rng.choice([1, 3, 5, 7]),) * 2
    stride = int(rng.integers(1, 5))
    dilation = int(rng.integers(1, 4))
    r = rng.random()
    padding = "valid" if r < 0.1 else ("same" if r < 0.25 else int(rng.integers(0, 4)))
    if padding == "same":
        stride = 1
    image = rng.random((h, w))
    kernel = rng.normal(size=(kh, kw))
    return image, kernel, stride, padding, dilation


def _torch_conv(image, kernel, stride, padding, dilation, bias=0.0):
    """nn.Conv2d with the given weights: the oracle."""
    conv = nn.Conv2d(
        1, 1, kernel.shape, stride=stride, padding=padding, dilation=dilation, dtype=torch.float64
    )
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(kernel)[None, None])
        conv.bias.fill_(bias)
        return conv(torch.from_numpy(image)[None, None])[0, 0].numpy()


def test_apply_kernel_matches_nn_conv2d_over_random_cases():
    rng = np.random.default_rng(0)
    checked = refused = 0
    for _ in range(400):
        image, kernel, stride, padding, dilation = _random_case(rng)
        bias = float(rng.normal())
        try:
            expected = _torch_conv(image, kernel, stride, padding, dilation, bias)
        except RuntimeError:
            expected = None  # torch: "Kernel size can't be greater than actual input size" etc.
        if expected is None or expected.size == 0:
            with pytest.raises(KernelError, match="doesn't fit"):
                K.apply_kernel(image, kernel, stride, padding, dilation, bias)
            with pytest.raises(KernelError):
                K.feature_map_shape(image.shape, kernel.shape, stride, padding, dilation)
            refused += 1
            continue
        got = K.apply_kernel(image, kernel, stride, padding, dilation, bias)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        assert K.feature_map_shape(image.shape, kernel.shape, stride, padding, dilation) == expected.shape
        checked += 1
    assert checked > 250 and refused > 10


def test_explain_position_equals_feature_map_over_random_cases():
    rng = np.random.default_rng(1)
    cases = 0
    while cases < 150:
        image, kernel, stride, padding, dilation = _random_case(rng)
        bias = float(rng.normal())
        try:
            fmap = K.apply_kernel(image, kernel, stride, padding, dilation, bias)
        except KernelError:
            continue
        top, bottom, left, right = K.resolve_padding(kernel.shape, padding, stride, dilation)
        padded = np.pad(image, ((top, bottom), (left, right)))  # zeros, as nn.Conv2d pads
        kh, kw = kernel.shape
        positions = [(r, c) for r in range(fmap.shape[0]) for c in range(fmap.shape[1])]
        if len(positions) > 20:  # the four corners (most padding) and a random sample of the rest
            corners = [
                (0, 0),
                (0, fmap.shape[1] - 1),
                (fmap.shape[0] - 1, 0),
                (fmap.shape[0] - 1, fmap.shape[1] - 1),
            ]
            picks = rng.choice(len(positions), size=16, replace=False)
            positions = corners + [positions[i] for i in picks]
        for row, col in positions:
            patch, products, total = K.explain_position(
                image, kernel, row, col, stride, padding, dilation, bias
            )
            r0, c0 = row * stride, col * stride
            window = padded[
                r0 : r0 + dilation * (kh - 1) + 1 : dilation, c0 : c0 + dilation * (kw - 1) + 1 : dilation
            ]
            np.testing.assert_array_equal(patch, window)
            np.testing.assert_array_equal(products, window * kernel)
            assert math.isclose(total, fmap[row, col], rel_tol=1e-9, abs_tol=1e-9)
        cases += 1


def test_same_padding_matches_torch_including_even_kernels():
    rng = np.random.default_rng(2)
    for kh, kw, d in [(2, 2, 1), (4, 3, 2), (3, 6, 1), (5, 5, 3), (1, 4, 2)]:
        image = rng.random((9, 11))
        kernel = rng.normal(size=(kh, kw))
        expected = F.conv2d(
            torch.from_numpy(image)[None, None],
            torch.from_numpy(kernel)[None, None],
            padding="same",
            dilation=d,
        )[0, 0].numpy()
        top, bottom, left, right = K.resolve_padding((kh, kw), "same", 1, d)
        assert top + bottom == d * (kh - 1) and left + right == d * (kw - 1)
        got = K.apply_kernel(np.pad(image, ((top, bottom), (left, right))), kernel, dilation=d)
        np.testing.assert_allclose(got, expected, atol=1e-12)
        assert got.shape == image.shape


def test_channels_are_filtered_separately_like_a_depthwise_conv():
    rng = np.random.default_rng(3)
    image = rng.random((3, 10, 12))  # [C, H, W]
    kernel = rng.normal(size=(3, 3))
    weight = torch.from_numpy(np.stack([kernel] * 3))[:, None]  # [3, 1, 3, 3]
    expected = F.conv2d(torch.from_numpy(image)[None], weight, stride=2, padding=1, groups=3)[0].numpy()
    got = K.apply_kernel(image, kernel, stride=2, padding=1)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    for c in range(3):
        np.testing.assert_allclose(got[c], K.apply_kernel(image[c], kernel, stride=2, padding=1), atol=1e-12)


def test_cross_correlation_does_not_flip_the_kernel():
    image = np.arange(25, dtype=float).reshape(5, 5)
    right_neighbour = np.zeros((3, 3))
    right_neighbour[1, 2] = 1.0
    out = K.apply_kernel(image, right_neighbour)
    np.testing.assert_array_equal(out, image[1:4, 2:5])  # out[r, c] = image[r + 1, c + 2]: no flip


def test_no_output_pixel_message_explains_the_span():
    with pytest.raises(KernelError, match=r"spans 13 pixels \(kernel 7 with dilation 2\).*only 8 pixels"):
        K.apply_kernel(np.zeros((8, 8)), np.ones((7, 7)), dilation=2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"stride": 0}, "stride must be at least 1"),
        ({"stride": 1.5}, "stride must be a whole number"),
        ({"dilation": 0}, "dilation must be at least 1"),
        ({"padding": -1}, "padding can't be negative"),
        ({"padding": "full"}, "'same' or 'valid'"),
        ({"padding": "same", "stride": 2}, "needs stride 1"),
        ({"stride": True}, "stride must be a whole number"),
    ],
)
def test_bad_settings_raise_clear_errors(kwargs, message):
    with pytest.raises(KernelError, match=message):
        K.apply_kernel(np.zeros((8, 8)), K.KERNELS["Sobel x"], **kwargs)


def test_bad_kernels_and_images_are_refused():
    for bad in (
        np.full((3, 3), np.nan),
        np.array([[1.0, np.inf]]),
        np.zeros((3,)),
        np.zeros((9, 9)),
        np.zeros((0, 3)),
    ):
        with pytest.raises(KernelError):
            K.apply_kernel(np.zeros((8, 8)), bad)
    with pytest.raises(KernelError, match="NaN"):
        K.apply_kernel(np.full((8, 8), np.nan), np.ones((3, 3)))
    with pytest.raises(KernelError, match="outside"):
        K.explain_position(np.zeros((8, 8)), np.ones((3, 3)), 6, 0)


def test_relu_and_pooling_match_torch():
    rng = np.random.default_rng(5)
    for _ in range(50):
        x = rng.normal(size=tuple(rng.integers(2, 20, size=2)))
        np.testing.assert_array_equal(relu(x), nn.ReLU()(torch.from_numpy(x)).numpy())
        size = int(rng.integers(1, 4))
        if min(x.shape) < size:
            with pytest.raises(KernelError, match="smaller than"):
                pool(x, "max", size)
            continue
        t = torch.from_numpy(x)[None, None]
        np.testing.assert_array_equal(pool(x, "max", size), nn.MaxPool2d(size)(t)[0, 0].numpy())
        np.testing.assert_allclose(pool(x, "avg", size), nn.AvgPool2d(size)(t)[0, 0].numpy(), atol=1e-12)
        assert pool(x, "max", size).shape == pool_output_shape(x.shape, size)
    with pytest.raises(KernelError):
        pool(np.zeros((4, 4)), "median")


def test_feature_map_pipeline_matches_a_torch_layer_stack():
    rng = np.random.default_rng(6)
    image, kernel = rng.random((20, 17)), rng.normal(size=(3, 3))
    conv = nn.Conv2d(1, 1, 3, stride=1, padding=1, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(kernel)[None, None])
        conv.bias.fill_(-0.25)
    stack = nn.Sequential(conv, nn.ReLU(), nn.AvgPool2d(2))
    expected = stack(torch.from_numpy(image)[None, None])[0, 0].detach().numpy()
    settings = K.ConvSettings(stride=1, padding=1, dilation=1, bias=-0.25, relu=True, pool="avg", pool_size=2)
    assert settings.check(image.shape, kernel.shape) == (10, 8)
    fm = K.feature_map(image, kernel, settings)
    np.testing.assert_allclose(fm.output, expected, atol=1e-12)
    assert fm.conv.min() < 0 and fm.activated.min() >= 0 and fm.pooled.shape == (10, 8)
    plain = K.feature_map(image, kernel)
    assert plain.pooled is None and plain.output is plain.activated
    with pytest.raises(KernelError, match="smaller than"):
        K.ConvSettings(stride=5, pool="max", pool_size=3).check((8, 8), (3, 3))  # 2x2 map, 3x3 window
    with pytest.raises(KernelError, match="bias"):
        K.ConvSettings(bias=float("nan")).check((8, 8), (3, 3))
    with pytest.raises(KernelError, match="Pooling"):
        K.ConvSettings(pool="median").check((8, 8), (3, 3))


def test_presets_are_complete_and_as_in_the_tutorials():
    expected_names = {
        "Identity", "Box blur", "Gaussian blur", "Sharpen", "Sobel x", "Sobel y", "Prewitt x", "Prewitt y",
        "Laplacian", "Outline", "Emboss", "Horizontal edge", "Vertical edge",
    }  # fmt: skip
    assert expected_names <= set(K.KERNELS)
    assert set(K.KERNELS) == set(K.KERNEL_NOTES) == set(K.KERNEL_EFFECTS)
    assert set(K.KERNEL_EFFECTS.values()) <= set(K.EFFECT_CHOICES)
    np.testing.assert_array_equal(K.KERNELS["Outline"], [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    for name, ker in K.KERNELS.items():
        assert ker.shape[0] == ker.shape[1] and ker.shape[0] in K.KERNEL_SIZES, name
        s = ker.sum()
        assert math.isclose(s, 0, abs_tol=1e-12) or math.isclose(s, 1, abs_tol=1e-12), name
    np.testing.assert_array_equal(K.KERNELS["Sobel y"], K.KERNELS["Sobel x"].T)
    image = np.random.default_rng(7).random((12, 12))
    np.testing.assert_allclose(K.apply_kernel(image, K.KERNELS["Identity"], padding="same"), image)


def test_edge_kernels_respond_to_the_right_edges():
    step = np.zeros((10, 10))
    step[:, 5:] = 1.0  # a vertical edge, dark to bright going right
    assert K.apply_kernel(step, K.KERNELS["Sobel x"]).max() == 4.0
    np.testing.assert_array_equal(K.apply_kernel(step, K.KERNELS["Sobel y"]), 0.0)
    assert K.apply_kernel(step, K.KERNELS["Vertical edge"]).min() == -3.0


def test_normalise():
    ones = np.ones((3, 3))
    assert K.needs_normalising(ones)
    np.testing.assert_allclose(K.normalise_kernel(ones), K.KERNELS["Box blur"])
    for name in ("Sobel x", "Identity", "Gaussian blur", "Laplacian"):
        assert not K.needs_normalising(K.KERNELS[name])
        np.testing.assert_array_equal(K.normalise_kernel(K.KERNELS[name]), K.KERNELS[name])
    neg = np.array([[0, -2, 0], [0, 0, 0], [0, 0, 0]], dtype=float)
    assert K.kernel_sum(K.normalise_kernel(neg)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "text, value",
    [("1/9", 1 / 9), ("-0.5", -0.5), (" 2 ", 2.0), ("1e-2", 0.01), ("−1", -1.0), ("0,25", 0.25), ("-1/16", -1 / 16),
     (3, 3.0), (0.5, 0.5), ("+4", 4.0)],
)  # fmt: skip
def test_parse_weight_accepts_numbers_and_fractions(text, value):
    assert parse_weight(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), ("   ", "empty"), (None, "empty"), ("abc", "not a number"), ("nan", "NaN"), ("NaN", "NaN"),
     ("inf", "infinite"), ("-Infinity", "infinite"), ("1e400", "infinite"), ("1/0", "divide by 0"),
     ("5000", "between"), (float("nan"), "NaN"), ("2 3", "not a number"), ("0x1F", "not a number")],
)  # fmt: skip
def test_parse_weight_refuses_bad_cells(text, message):
    with pytest.raises(KernelError, match=message):
        parse_weight(text, "row 1, column 1")


def test_parse_kernel_grid_names_the_bad_cell():
    grid = [["1", "2", "1"], ["0", "0", "0"], ["-1", "-2", "-1"]]
    np.testing.assert_array_equal(parse_kernel_grid(grid), -K.KERNELS["Sobel y"])
    grid[1][2] = "x"
    with pytest.raises(KernelError, match="row 2, column 3"):
        parse_kernel_grid(grid)
    with pytest.raises(KernelError, match="same number"):
        parse_kernel_grid([["1", "2"], ["1"]])
    with pytest.raises(KernelError, match="empty"):
        parse_kernel_grid([])
    with pytest.raises(KernelError, match="at most"):
        parse_kernel_grid([["0"] * 9] * 9)


def test_format_weight_round_trips_through_parse():
    for ker in K.KERNELS.values():
        for v in ker.flat:
            assert parse_weight(K.format_weight(v)) == pytest.approx(v, rel=1e-12, abs=1e-15)
    assert (
        K.format_weight(1 / 9) == "1/9"
        and K.format_weight(-2.0) == "-2"
        and K.format_weight(6 / 256) == "3/128"
    )
    assert K.format_weight(math.pi) == "3.14159"


def test_resize_kernel_pads_and_crops_around_the_centre():
    sobel = K.KERNELS["Sobel x"]
    big = K.resize_kernel(sobel, 5)
    assert big.shape == (5, 5) and big.sum() == 0 and np.array_equal(big[1:4, 1:4], sobel)
    np.testing.assert_array_equal(K.resize_kernel(big, 3), sobel)
    image = np.random.default_rng(8).random((10, 10))
    np.testing.assert_allclose(
        K.apply_kernel(image, big, padding="same"), K.apply_kernel(image, sobel, padding="same")
    )
    with pytest.raises(KernelError):
        K.resize_kernel(sobel, 9)


def test_pool_output_shape():
    assert pool_output_shape((27, 20), 2) == (13, 10)
    assert pool_output_shape((27, 20), 3) == (9, 6)


# ----------------------------------------------------------------------------- figures


def test_image_figure_draws_padding_and_the_patch():
    from cnnlib import plots as P

    image = np.random.default_rng(9).random((10, 12))
    rows, cols = K.patch_indices(0, 0, (3, 3), padding=2, dilation=2)
    fig = P.image_figure(image, padding=(2, 2, 2, 2), patch=(rows, cols))
    heat = fig.data[0]
    assert np.asarray(heat.z).shape == (14, 16) and np.asarray(heat.z)[0, 0] == 0  # zeros around
    assert list(heat.x)[0] == -2 and list(heat.y)[-1] == 11  # axes in image coordinates
    assert tuple(fig.layout.yaxis.range) == (11.5, -2.5)  # reversed: row 0 at the top
    assert fig.layout.yaxis.scaleanchor == "x"
    # 4 tinted padding bands + 1 dashed image edge + 1 box around the patch + 9 cell outlines
    shapes = fig.layout.shapes
    assert len(shapes) == 15 and all(s.fillcolor == PAD_TINT for s in shapes[:4])
    assert (shapes[0].y0, shapes[0].y1) == (-2.5, -0.5) and (shapes[3].x0, shapes[3].x1) == (11.5, 13.5)
    assert shapes[4].line.dash == "dash" and (shapes[4].x0, shapes[4].x1) == (-0.5, 11.5)
    assert shapes[5].x0 == -2.5 and shapes[5].x1 == 2.5  # cols -2, 0, 2
    unpadded = P.image_figure(image, patch=(rows[:1], cols[:1]))
    assert len(unpadded.layout.shapes) == 1  # no padding: no bands, no edge; a 1-cell patch: one box
    # axis numbers without tick marks, big enough to read; the title above them
    assert fig.layout.xaxis.ticks == "" and fig.layout.xaxis.tickfont.size >= 14
    assert fig.layout.margin.t >= 70 and fig.layout.title.yref == "container"


def test_map_figure_scales_and_click_layer():
    from cnnlib import plots as P

    signed = P.map_figure(np.array([[-2.0, 1.0], [0.0, 0.5]]), pixel=(1, 0), clickable=True)
    heat = signed.data[0]
    assert heat.zmid == 0 and heat.zmin == -2 and heat.zmax == 2 and heat.colorscale[0][1] != "rgb(0,0,0)"
    click = signed.data[1]
    assert list(click.x) == [0, 1, 0, 1] and list(click.y) == [0, 0, 1, 1]  # one marker per pixel
    assert signed.layout.shapes[0].y0 == 0.5 and signed.layout.shapes[0].x0 == -0.5
    positive = P.map_figure(np.array([[0.0, 3.0]]))
    assert positive.data[0].zmin == 0 and positive.data[0].zmax == 3 and len(positive.data) == 1
    assert not can_click((200, 200)) and len(P.map_figure(np.zeros((200, 200)), clickable=True).data) == 1


def test_grid_figure_labels():

    fig = grid_figure(K.KERNELS["Box blur"], "Kernel", fractions=True)
    assert fig.data[0].text[0][0] == "1/9"
    products = np.array([[-0.0, 1.23456], [2.0, -0.5]])
    padded = np.array([[True, False], [False, False]])
    fig = grid_figure(products, "Products", padded=padded)
    assert [list(r) for r in fig.data[0].text] == [["", "1.23"], ["2", "-0.5"]]
    pad_layer = fig.data[1]  # padding cells in their own colour, written "pad"
    assert [list(r) for r in pad_layer.text] == [["pad", ""], ["", ""]]
    assert pad_layer.z[0][0] == 1 and np.isnan(pad_layer.z[0][1]) and pad_layer.colorscale[0][1] == PAD_CELL
    assert len(grid_figure(products, "Products").data) == 1  # no padding: one layer
    assert grid_figure(np.array([[-0.0]]), "x").data[0].text[0][0] == "0"


def test_padding_mask_marks_exactly_the_padded_cells_of_the_patch():
    rng = np.random.default_rng(21)
    for _ in range(200):
        image, kernel, stride, padding, dilation = _random_case(rng)
        try:
            out_h, out_w = K.feature_map_shape(image.shape, kernel.shape, stride, padding, dilation)
        except KernelError:
            continue
        row, col = int(rng.integers(out_h)), int(rng.integers(out_w))
        rows, cols = K.patch_indices(row, col, kernel.shape, stride, padding, dilation)
        mask = K.padding_mask(image.shape, rows, cols)
        # mark the real image inside its padded copy: a cell is padding where the copy is 0
        top, bottom, left, right = K.resolve_padding(kernel.shape, padding, stride, dilation)
        inside = np.pad(np.ones(image.shape), ((top, bottom), (left, right)))
        r0, c0 = row * stride, col * stride
        kh, kw = kernel.shape
        window = inside[
            r0 : r0 + dilation * (kh - 1) + 1 : dilation, c0 : c0 + dilation * (kw - 1) + 1 : dilation
        ]
        np.testing.assert_array_equal(mask, window == 0)


def test_ordinal_and_strongest_pixel():
    assert [K.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th",
    ]  # fmt: skip
    fmap = np.array([[0.5, -3.0, 1.0], [3.0, 0.0, -1.0]])
    assert K.strongest_pixel(fmap) == (0, 1)  # |-3| first, on a tie with the 3 after it
    assert K.strongest_pixel(np.zeros((2, 2))) == (0, 0)


def test_step_figure_is_the_three_grids_in_one_chart():
    from cnnlib import plots as P

    kernel = K.KERNELS["Sobel x"]
    patch = np.arange(9, dtype=float).reshape(3, 3) / 8
    padded = np.zeros((3, 3), dtype=bool)
    padded[0, :] = True
    products = np.where(padded, 0.0, patch) * kernel
    fig = P.step_figure(patch, kernel, products, padded)
    grids = [
        grid_figure(patch, "Input patch", signed=False, padded=padded),
        grid_figure(kernel, "× Kernel", signed=True, fractions=True),
        grid_figure(products, "= Products", signed=True),
    ]
    expected = [(t, f"x{'' if i == 0 else i + 1}") for i, g in enumerate(grids) for t in g.data]
    assert len(fig["data"]) == len(expected) == 4  # the patch's padding layer included
    for got, (want, axis) in zip(fig["data"], expected, strict=True):
        assert got["xaxis"] == axis and got["yaxis"] == axis.replace("x", "y")
        assert [list(r) for r in got["text"]] == [list(r) for r in want.text]
    assert [a["text"] for a in fig["layout"]["annotations"]] == [
        "<b>Input patch</b>",
        "<b>× Kernel</b>",
        "<b>= Products</b>",
    ]
    domains = [fig["layout"][k]["domain"] for k in ("xaxis", "xaxis2", "xaxis3")]
    assert domains[0][0] == 0 and domains[2][1] == 1
    assert all(a[1] < b[0] for a, b in zip(domains, domains[1:], strict=False))  # side by side, apart
    for n in ("", "2", "3"):  # square cells, row 0 at the top, as in each grid alone
        assert fig["layout"][f"yaxis{n}"]["scaleanchor"] == f"x{n}"
        assert fig["layout"][f"yaxis{n}"]["range"][0] > fig["layout"][f"yaxis{n}"]["range"][1]
    import plotly.graph_objects as go

    go.Figure(fig)  # valid for plotly


def _random_kernel(rng: np.random.Generator) -> np.ndarray:
    """Weights a student would type: integers, fractions with small denominators, short decimals."""
    size = int(rng.choice([1, *K.KERNEL_SIZES]))
    kind = rng.integers(0, 3, size=(size, size))
    ints = rng.integers(-9, 10, size=(size, size)).astype(float)
    fracs = ints / rng.choice([2, 3, 4, 8, 9, 16, 256], size=(size, size))
    decimals = np.round(rng.uniform(-5, 5, size=(size, size)), 3)
    return np.choose(kind, [ints, fracs, decimals])


def test_kernel_text_round_trips_over_random_kernels():
    rng = np.random.default_rng(21)
    for _ in range(300):
        kernel = _random_kernel(rng)
        text = K.format_kernel_text(kernel)
        back = K.parse_kernel_text(text)
        np.testing.assert_allclose(back, kernel, rtol=1e-5, atol=1e-12)  # format_weight keeps 6 digits
        lines = text.split("\n")
        assert len(lines) == kernel.shape[0] and len({len(line) for line in lines}) == 1  # aligned columns
        # the same kernel pasted as numpy and Python print it, or as a link writes it
        for pasted in (
            np.array2string(kernel, precision=17),
            repr(kernel.tolist()),
            format_weights(kernel),
        ):
            np.testing.assert_allclose(K.parse_kernel_text(pasted), kernel, rtol=1e-5, atol=1e-12)


def test_kernel_text_reads_what_people_type():
    sobel = K.KERNELS["Sobel x"]
    for text in ("-1 0 1\n-2 0 2\n-1 0 1", "-1, 0, 1\n-2, 0, 2\n-1, 0, 1\n\n", "-1 0 1; -2 0 2; -1 0 1",
                 "[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]", "  -1\t0\t1 \r\n-2\t0\t2\r\n-1\t0\t1", "−1 0 1\n−2 0 2\n−1 0 1"):  # fmt: skip
        np.testing.assert_array_equal(K.parse_kernel_text(text), sobel)
    np.testing.assert_allclose(K.parse_kernel_text("1/9 1/9 1/9\n" * 3), K.KERNELS["Box blur"])
    assert K.format_kernel_text(K.KERNELS["Sobel x"]) == "-1  0  1\n-2  0  2\n-1  0  1"
    assert K.parse_kernel_text("2").tolist() == [[2.0]]


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), (" \n ;\n", "empty"), ("[[]]", "empty"), (None, "empty"), ("1 0 -1", "1 row of 3 numbers"),
     ("1 0\n0 1", "2x2 kernel"), ("1 0 -1\n2 0\n1 0 -1", "Row 2 has 2 numbers but row 1 has 3"),
     ("1 0 -1\n2 x -2\n1 0 -1", "row 2, column 2"), ("1 0 nan\n0 0 0\n0 0 0", "NaN"),
     ("1 0 1e999\n0 0 0\n0 0 0", "infinite"), ("1/0 0 0\n0 0 0\n0 0 0", "divide by 0"),
     ("5000 0 0\n0 0 0\n0 0 0", "between"), ("1 " * 2000, "characters"), ("0 " * 9 + "\n" * 9, "square"),
     (("0 " * 9 + "\n") * 9, "9x9 kernel"), ("0,5 0,5 0,5\n0 0 0\n0 0 0", "Row 2 has 3 numbers but row 1 has 6")],
)  # fmt: skip
def test_kernel_text_refuses_bad_input_with_a_clear_message(text, message):
    with pytest.raises(KernelError, match=message):
        K.parse_kernel_text(text)


def test_typed_weights_keep_their_text_when_lined_up_or_resized():
    """Issue 25: 2/16 stays 2/16 in the box (its value is 1/8), lined up, and through a size change."""
    typed = "1/16 2/16 1/16; 2/16 4/16 2/16\n1/16 2/16  1/16"
    aligned = K.align_kernel_text(typed)
    assert aligned == "1/16 2/16 1/16\n2/16 4/16 2/16\n1/16 2/16 1/16"
    np.testing.assert_array_equal(K.parse_kernel_text(aligned), K.parse_kernel_text(typed))
    assert K.align_kernel_text("[[1, 0, -1], [2, 0, -2], [1, 0, -1]]") == " 1  0 -1\n 2  0 -2\n 1  0 -1"
    bigger = K.resize_kernel_text(typed, 5)
    np.testing.assert_array_equal(K.parse_kernel_text(bigger), K.resize_kernel(K.parse_kernel_text(typed), 5))
    assert bigger.count("2/16") == 4
    smaller = K.resize_kernel_text(bigger, 3)
    assert smaller == aligned
    assert K.longest_row(aligned) == 14 and K.longest_row("") == 0
    with pytest.raises(K.KernelError):
        K.align_kernel_text("1 2\n3")
