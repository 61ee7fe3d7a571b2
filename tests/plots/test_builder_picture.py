"""The builder's diagram as a PNG: the same blocks and labels as the Plotly figure, drawn by Pillow."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image

from cnnlib import spec as S
from cnnlib.plots import builder_picture, spec_picture
from cnnlib.plots.builder import COLORS, network_diagram_dict
from cnnlib.plots.pictures import colour_rgb
from cnnlib.spec import PRESETS


def _image(png: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB"))  # [H, W, 3]


def _has(pixels: np.ndarray, rgb: tuple[int, int, int]) -> int:
    return int(np.all(pixels == np.array(rgb, dtype=np.uint8), axis=-1).sum())


def test_every_preset_draws_its_blocks_in_their_colours():
    for name, spec in PRESETS.items():
        pixels = _image(spec_picture(spec.to_json(indent=None)))
        assert pixels.shape == (525, 925, 3), name  # 420 px tall and 720 + 20 wide, times 1.25
        kinds = {r.type for r in S.summarize(spec)}
        for kind in ("Conv2d", "Linear") if "Linear" in kinds else ("Conv2d",):
            assert _has(pixels, colour_rgb(COLORS[kind])) > 50, (name, kind)  # a block's front face
        assert _has(pixels, colour_rgb(COLORS["input"])) > 50, name


def test_a_broken_spec_gets_the_red_marker_and_no_block_after_it():
    spec = PRESETS["LeNet-5"].to_dict()
    conv = [i for i, layer in enumerate(spec["layers"]) if layer["type"] == "Conv2d"][-1]
    spec["layers"][conv]["kernel_size"] = 40
    pixels = _image(spec_picture(json.dumps(spec)))
    assert _has(pixels, colour_rgb(COLORS["error"])) > 20  # the dashed box and the cross
    assert _has(pixels, colour_rgb(COLORS["Linear"])) == 0  # nothing drawn past the broken layer
    whole = _image(spec_picture(PRESETS["LeNet-5"].to_json(indent=None)))
    assert _has(whole, colour_rgb(COLORS["error"])) == 0


def test_labels_are_written_where_the_figure_puts_them():
    spec = PRESETS["SimpleCNN"]
    fig = network_diagram_dict(spec.input_shape, S.summarize(spec))
    img = builder_picture.diagram_image(fig, 1.0)
    pixels = np.asarray(img)  # [H, W, 3]
    assert img.size == (740, 420)
    (x0, x1), (y0, y1) = fig["layout"]["xaxis"]["range"], fig["layout"]["yaxis"]["range"]
    for a in fig["layout"]["annotations"]:  # ink in a box around each label's anchor
        cx = 10 + (a["x"] - x0) / (x1 - x0) * 720
        cy = 10 + (y1 - a["y"]) / (y1 - y0) * 400 - a["yshift"]
        box = pixels[max(0, int(cy) - 40) : int(cy) + 40, max(0, int(cx) - 30) : int(cx) + 30]
        assert (box.sum(axis=-1) < 600).any(), a["text"]


def test_the_same_spec_gives_the_same_bytes():
    text = PRESETS["Small VGG"].to_json(indent=None)
    assert spec_picture(text) == spec_picture(text)
