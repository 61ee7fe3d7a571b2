"""The canvas heat maps' payload (cnnlib.plots.heatmaps): decoded in numpy, it is the feature map
torch computes, in the palette's colours, with the padding, patch and pixel where they belong."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib import kernels as K
from cnnlib.plots import (
    decode_panel,
    image_panel,
    magnitude_range,
    map_panel,
    panels_json,
    signed_range,
)
from cnnlib.plots.heatmaps import BAR_STEPS, PAD_TINT
from cnnlib.plots.palette import IMAGE
from cnnlib.plots.pictures import colourize


def _torch_map(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int, dilation: int) -> np.ndarray:
    x = torch.tensor(image, dtype=torch.float64)[None, None]  # [1, 1, H, W]
    w = torch.tensor(kernel, dtype=torch.float64)[None, None]  # [1, 1, k, k]
    return F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()  # [H', W']


@pytest.mark.parametrize("seed", range(25))
def test_a_feature_maps_payload_decodes_to_what_torch_computes(seed):
    rng = np.random.default_rng(seed)
    h, w, k = int(rng.integers(5, 40)), int(rng.integers(5, 40)), int(rng.choice([1, 3, 5]))
    stride, padding, dilation = int(rng.integers(1, 3)), int(rng.integers(0, 3)), int(rng.integers(1, 3))
    if (k - 1) * dilation + 1 > min(h, w) + 2 * padding:
        pytest.skip("the kernel does not fit")
    image, kernel = rng.random((h, w)), rng.normal(size=(k, k))
    fmap = K.apply_kernel(image, kernel, stride=stride, padding=padding, dilation=dilation)
    expected = _torch_map(image, kernel, stride, padding, dilation)
    panel = json.loads(panels_json([map_panel(fmap, "Feature map", (0, 0), clickable=True)]))[0]
    z = decode_panel(panel, "z")
    assert z.dtype == np.float32 and z.shape == expected.shape
    np.testing.assert_allclose(z, expected, rtol=1e-6, atol=1e-6)  # float32 of torch's numbers
    scale = signed_range(fmap) if fmap.min() < 0 else magnitude_range(fmap)
    rgb = colourize(fmap, scale["colorscale"], scale["zmin"], scale["zmax"])
    assert np.array_equal(decode_panel(panel, "rgb"), rgb)  # the palette's colours, cell by cell
    assert (panel["r0"], panel["c0"], panel["pixel"], panel["click"]) == (0, 0, [0, 0], True)


def test_a_signed_map_is_centred_on_zero_and_its_bar_runs_from_the_top():
    fmap = np.array([[-2.0, 0.0], [1.0, 0.5]])
    panel = map_panel(fmap)
    bar = panel["bar"]
    assert (bar["lo"], bar["hi"]) == (-2.0, 2.0)  # centred: white is 0
    assert [t[1] for t in bar["ticks"]] == ["2", "0", "\u22122"]
    shades = decode_panel(panel, "bar")
    assert shades.shape == (BAR_STEPS, 3)
    assert tuple(decode_panel(panel, "rgb")[0, 1]) == (247, 247, 247)  # 0 is the scale's white
    assert shades[0].tolist() == [103, 0, 31] and shades[-1].tolist() == [5, 48, 97]  # red top, blue bottom
    relu = map_panel(np.array([[0.0, 3.0]]))  # never negative: viridis from 0
    assert (relu["bar"]["lo"], relu["bar"]["hi"]) == (0.0, 3.0) and len(relu["bar"]["ticks"]) == 2
    assert "pixel" not in relu and "click" not in relu
    pooled = map_panel(np.array([[0.0, 3.0]]), signed=True)  # in the feature map's colours
    assert pooled["bar"]["lo"] == -3.0


def test_the_input_carries_its_zero_padding_tinted_and_the_patch():
    rng = np.random.default_rng(0)
    image = rng.random((6, 8))
    panel = image_panel(image, "Input + zero padding", (1, 2, 3, 0), ([-1, 0, 1], [-3, -2, -1]))
    z = decode_panel(panel, "z")
    assert z.shape == (6 + 1 + 2, 8 + 3) and (panel["r0"], panel["c0"]) == (-1, -3)
    np.testing.assert_allclose(z[1:7, 3:11], image, rtol=1e-6)  # the image where it belongs
    assert not z[0].any() and not z[7:].any() and not z[:, :3].any()  # zeros around it
    rgb = decode_panel(panel, "rgb").astype(int)
    grey = colourize(image, IMAGE, 0.0, 1.0)
    assert np.array_equal(rgb[1:7, 3:11], grey)  # the image in grey, untinted
    tint, alpha = PAD_TINT
    assert rgb[0, 0].tolist() == [round(c * alpha) for c in tint]  # black 0, tinted orange
    assert panel["image"] == [0, 0, 6, 8]
    assert panel["patch"] == {"rows": [-1, 0, 1], "cols": [-3, -2, -1]}
    plain = image_panel(image)
    assert "image" not in plain and "patch" not in plain and "bar" not in plain


def test_panels_travel_as_one_compact_json_text():
    text = panels_json([image_panel(np.zeros((2, 2))), map_panel(np.ones((2, 2)), "map")])
    assert ", " not in text and ": " not in text
    assert [p["title"] for p in json.loads(text)] == ["Input", "map"]


def test_the_step_through_grows_with_the_projectors_type():
    """Issue 25: the 7x7 step-through's numbers grow with the projector's type (22 px over 16)."""
    import io

    from PIL import Image

    from cnnlib.plots import step_picture

    rng = np.random.default_rng(1)
    patch, kernel = rng.random((7, 7)), rng.normal(size=(7, 7))
    small = Image.open(io.BytesIO(step_picture(patch, kernel, patch * kernel)))
    big = Image.open(io.BytesIO(step_picture(patch, kernel, patch * kernel, scale=22 / 16)))
    assert 1.3 < big.width / small.width < 1.45 and 1.3 < big.height / small.height < 1.45
