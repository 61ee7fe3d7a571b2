"""AppTest: the window player (pages/ui/window_player.py) gets its frames on the Kernels page and the
Shape calculator's one-layer view: the outputs it will play are the layer's (torch's) numbers, the
frames stay the same across reruns that do not change them, and it waits while the answer is hidden."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnlib import kernels as K
from cnnlib.kernels.convolution import pool
from tests.conftest import open_app


def players(at: AppTest) -> list[dict]:
    """The data each window player on the page received (its frames parsed)."""
    found = []
    for element in at.get("bidi_component"):
        if "cc_window_player" in element.proto.component_name:
            data = json.loads(element.proto.json)
            found.append({**data, "frames": json.loads(data["frames"])})
    return found


def the_player(at: AppTest) -> dict:
    found = players(at)
    assert len(found) == 1, f"{len(found)} players"
    return found[0]


def _outputs(frames: dict) -> np.ndarray:
    return np.array(frames["out"]).reshape(frames["oh"], frames["ow"])  # [H', W']


def test_kernels_page_sends_the_feature_maps_frames_once_per_change():
    at = open_app("pages/1_kernels.py")
    at.selectbox(key="k_source").set_value("Text").run()
    plane = K.load_sample("Text").view()
    first = the_player(at)
    frames = first["frames"]
    assert (frames["op"], frames["C"], frames["H"], frames["W"], frames["k"]) == ("conv", 1, 48, 96, [3, 3])
    np.testing.assert_allclose(_outputs(frames), K.apply_kernel(plane, K.KERNELS["Sobel x"]), atol=1e-4)
    np.testing.assert_allclose(frames["image"], plane.ravel(), atol=1e-4)
    # the step-through moves: the same frames (the browser keeps playing)
    at.number_input(key="k_row").set_value(3).run()
    assert the_player(at)["id"] == first["id"]

    at.number_input(key="k_stride").set_value(2).run()
    at.number_input(key="k_padding").set_value(1).run()
    at.number_input(key="k_dilation").set_value(2).run()
    at.number_input(key="k_bias").set_value(0.5).run()
    frames = the_player(at)["frames"]
    assert (frames["s"], frames["p"], frames["d"], frames["bias"]) == ([2, 2], [1, 1, 1, 1], [2, 2], 0.5)
    conv = K.apply_kernel(plane, K.KERNELS["Sobel x"], stride=2, padding=1, dilation=2, bias=0.5)
    np.testing.assert_allclose(_outputs(frames), conv, atol=1e-4)
    assert the_player(at)["id"] != first["id"]


def test_a_colour_image_plays_all_three_channels_with_one_kernel():
    at = open_app("pages/1_kernels.py")
    at.selectbox(key="k_source").set_value("Colour shapes").run()
    at.radio(key="k_channel").set_value("Red").run()
    image = K.load_sample("Colour shapes")
    frames = the_player(at)["frames"]
    assert frames["C"] == 3 and len(frames["kernel"]) == 27
    rgb = np.moveaxis(image.pixels.astype(np.float64), 2, 0)  # [3, H, W]
    sobel = np.stack([K.KERNELS["Sobel x"]] * 3)  # [3, 3, 3]
    np.testing.assert_allclose(_outputs(frames), K.apply_multichannel_kernel(rgb, sobel), atol=1e-4)
    assert any("in_channels=3" in c.value and "(red)" in c.value for c in at.caption)


def test_the_player_waits_for_the_reveal():
    at = open_app("pages/1_kernels.py")
    at.toggle(key="k_predict").set_value(True).run()
    assert not players(at)
    assert any("after the reveal" in c.value for c in at.caption)


SHAPES = "pages/2_shape_calculator.py"


def _set(at: AppTest, key: str, text: str) -> None:
    at.text_input(key=key).input(text).run()
    assert not at.exception


def test_shape_calculator_plays_the_layer_on_made_up_numbers():
    at = open_app(SHAPES)
    frames = the_player(at)["frames"]  # the default: Conv2d 3x3, stride 2, padding 1, 3 input channels, bias
    assert (frames["op"], frames["C"], frames["H"], frames["oh"], frames["s"]) == ("conv", 3, 28, 14, [2, 2])
    expected = K.apply_multichannel_kernel(K.demo_input(28, 28, 3), K.demo_kernel(3, 3, 3), 1.0, 2, 1)
    np.testing.assert_allclose(_outputs(frames), expected, atol=1e-9)
    assert all(float(v).is_integer() for v in frames["image"] + frames["out"])  # sums to check by heart

    at.selectbox(key="sc_kind").set_value("MaxPool2d").run()
    _set(at, "sc_size_h", "7")
    frames = the_player(at)["frames"]
    assert frames["op"] == "max" and frames["C"] == 1 and (frames["oh"], frames["ow"]) == (3, 3)
    pooled = pool(K.demo_input(7, 7), "max", 2)
    np.testing.assert_allclose(_outputs(frames), pooled)
    at.checkbox(key="sc_ceil").check().run()
    frames = the_player(at)["frames"]
    assert (frames["oh"], frames["ow"]) == (4, 4)

    at.selectbox(key="sc_kind").set_value("ConvTranspose2d").run()
    assert not players(at)  # the transposed conv keeps its picture only


@pytest.mark.parametrize("size", ["100"])
def test_no_player_where_the_picture_does_not_fit(size):
    at = open_app(SHAPES)
    _set(at, "sc_size_h", size)
    assert not players(at)
