"""Named model specs: the Digit CNN (the app's one model), the seed tutorials' models exactly, plus
LeNet-5 and a small VGG.

The Digit CNN is the bundled digit model's architecture (`cnnlib/data/files/mnist_cnn.pt`, trained by
`scripts/train_pretrained.py` from this spec): the Model builder, the Training demo, the slow-motion
step, the Shape calculator's stack and Draw & predict all start from it, so a student meets the same
layers on every page. `tests/app/test_one_model.py` checks that the five places and the bundled
file agree.

Every preset spells out the in_channels / in_features the tutorials write (e.g. Linear(392, 64)),
so a student sees the numbers; `cnnlib.spec.adapt_to_dataset` refits them to another dataset.
"""

from __future__ import annotations

from typing import Any

from cnnlib.spec.analysis import totals
from cnnlib.spec.fields import AUTO
from cnnlib.spec.formatting import format_count
from cnnlib.spec.model import ModelSpec

__all__ = ["PRESETS", "PRESET_NOTES", "DEFAULT_PRESET", "DIGIT_CNN", "preset_label", "auto_inputs"]


def _conv(cin: int, cout: int, k: int = 3, p: int = 1) -> dict[str, Any]:
    return {"type": "Conv2d", "in_channels": cin, "out_channels": cout, "kernel_size": k, "padding": p}


def _lin(fin: int, fout: int) -> dict[str, Any]:
    return {"type": "Linear", "in_features": fin, "out_features": fout}


RELU: dict[str, Any] = {"type": "ReLU"}
FLAT: dict[str, Any] = {"type": "Flatten"}
POOL2: dict[str, Any] = {"type": "MaxPool2d", "kernel_size": 2}


def _res_block(cin: int, cout: int, stride: int = 1) -> dict[str, Any]:
    """torchvision's BasicBlock as a Residual layer (its ReLU after the sum is the next layer)."""
    first = {**_conv(cin, cout), "stride": stride, "bias": False}
    return {
        "type": "Residual",
        "layers": [
            first,
            {"type": "BatchNorm2d"},
            RELU,
            {**_conv(cout, cout), "bias": False},
            {"type": "BatchNorm2d"},
        ],
    }


def _spec(shape: list[int], layers: list[dict[str, Any]]) -> ModelSpec:
    return ModelSpec.from_dict({"input_shape": shape, "layers": layers})


def _bn_block(cin: int, cout: int) -> list[dict[str, Any]]:
    return [_conv(cin, cout), {"type": "BatchNorm2d", "num_features": cout}, RELU, POOL2]


def _vgg_block(cin: int, cout: int) -> list[dict[str, Any]]:
    return [_conv(cin, cout), RELU, _conv(cout, cout), RELU, POOL2]


DIGIT_CNN = "Digit CNN"
"""The app's one model: the bundled digit model's architecture, first in PRESETS and the default."""

PRESETS: dict[str, ModelSpec] = {
    DIGIT_CNN: _spec(
        [1, 28, 28],
        _bn_block(1, 16)
        + _bn_block(16, 32)
        + _bn_block(32, 64)
        + [FLAT, {"type": "Dropout", "p": 0.3}, _lin(64 * 3 * 3, 10)],
    ),
    "TinyCNN": _spec([1, 28, 28], [_conv(1, 3), RELU, FLAT, _lin(3 * 28 * 28, 10)]),
    "SimpleCNN": _spec(
        [1, 28, 28],
        [_conv(1, 4), RELU, POOL2, _conv(4, 8), RELU, POOL2, FLAT, _lin(392, 64), RELU, _lin(64, 10)],
    ),
    "Minimal CNN": _spec([1, 28, 28], [_conv(1, 4), RELU, POOL2, FLAT, _lin(784, 10)]),
    "Three-block CNN": _spec(
        [3, 32, 32],
        [
            _conv(3, 16),
            RELU,
            POOL2,
            _conv(16, 32),
            RELU,
            POOL2,
            _conv(32, 64),
            RELU,
            POOL2,
            FLAT,
            _lin(1024, 128),
            RELU,
            _lin(128, 10),
        ],
    ),
    "BatchNorm + Dropout CNN": _spec(
        [3, 32, 32],
        _bn_block(3, 32)
        + _bn_block(32, 64)
        + _bn_block(64, 128)
        + [
            {"type": "AdaptiveAvgPool2d", "output_size": 4},
            FLAT,
            _lin(2048, 256),
            RELU,
            {"type": "Dropout", "p": 0.5},
            _lin(256, 4),
        ],
    ),
    "LeNet-5": _spec(
        [1, 28, 28],
        [
            _conv(1, 6, 5, 2),
            {"type": "Tanh"},
            {"type": "AvgPool2d", "kernel_size": 2},
            _conv(6, 16, 5, 0),
            {"type": "Tanh"},
            {"type": "AvgPool2d", "kernel_size": 2},
            FLAT,
            _lin(400, 120),
            {"type": "Tanh"},
            _lin(120, 84),
            {"type": "Tanh"},
            _lin(84, 10),
        ],
    ),
    "Small VGG": _spec(
        [3, 32, 32],
        _vgg_block(3, 32)
        + _vgg_block(32, 64)
        + _vgg_block(64, 128)
        + [FLAT, _lin(2048, 256), RELU, {"type": "Dropout", "p": 0.5}, _lin(256, 10)],
    ),
    "Small ResNet": _spec(
        [1, 28, 28],
        [{**_conv(1, 8), "bias": False}, {"type": "BatchNorm2d"}, RELU]
        + [_res_block(8, 8), RELU, _res_block(8, 16, 2), RELU, _res_block(16, 32, 2), RELU]
        + [{"type": "AdaptiveAvgPool2d", "output_size": 1}, FLAT, _lin(32, 10)],
    ),
}

PRESET_NOTES: dict[str, str] = {
    DIGIT_CNN: "The app's model, the one Draw & predict's bundled digit reader was trained as: three blocks of "
    "a 3x3 conv, BatchNorm, ReLU and a 2x2 max pool (16, 32, 64 channels) shrink 28 x 28 to 3 x 3, then "
    "Dropout 0.3 and one Linear layer reads the 576 numbers. 29,290 parameters.",
    "TinyCNN": "The first tutorial's model: one 3x3 conv with 3 filters, ReLU, and a Linear layer that reads "
    "all 3 x 28 x 28 = 2,352 values. 23,560 parameters, almost all in the Linear layer.",
    "SimpleCNN": "Two conv + pool blocks (4 then 8 channels) shrink 28 x 28 to 7 x 7, then two Linear layers. "
    "26,138 parameters.",
    "Minimal CNN": "The smallest real CNN: one conv block (4 channels), one pool, one Linear layer. "
    "7,890 parameters.",
    "Three-block CNN": "Three conv blocks (16, 32, 64 channels) on 32 x 32 colour images: the image halves "
    "while the channels double. 156,074 parameters.",
    "BatchNorm + Dropout CNN": "Conv blocks of 32, 64, 128 channels, each with BatchNorm, then global-ish "
    "pooling to 4 x 4, Dropout 0.5, and 4 classes. PyTorch counts 619,268 parameters; the tutorial's "
    '"about 540,000" is low: the Linear(2048, 256) alone has 524,544.',
    "LeNet-5": "LeCun's 1998 digit reader on 28 x 28 MNIST: padding 2 on the first 5x5 conv stands in for "
    "the original 32 x 32 input; tanh and average pooling as in the paper (full C3 connections and a Linear "
    "output instead of the RBF layer). 61,706 parameters.",
    "Small VGG": "VGG's recipe in small: pairs of 3x3 convs, then a 2x2 max pool, channels 32, 64, 128, on "
    "32 x 32 colour images; Dropout before the classifier. 814,122 parameters.",
    "Small ResNet": "ResNet's skip connections in small: a conv stem, then three Residual blocks (8, 16, 32 "
    "channels) that each add their input to what their two 3x3 convs compute; the second and third halve "
    "the image with stride 2, so their skip is a 1x1 conv + BatchNorm (torchvision's downsample). Global "
    "average pooling and one Linear layer. 19,810 parameters.",
}

DEFAULT_PRESET = DIGIT_CNN


def preset_label(name: str) -> str:
    """A preset named as every page names it: "Digit CNN (29,290 parameters)", the count PyTorch's.

    Raises KeyError for a name that is not in PRESETS.
    """
    return f"{name} ({format_count(totals(PRESETS[name]).params)} parameters)"


INPUT_FIELDS = ("in_channels", "num_features", "in_features")


def auto_inputs(spec: ModelSpec) -> ModelSpec:
    """The spec with every in_channels / num_features / in_features on "auto": each layer takes what
    arrives, so the same layers run on another input size. The Digit CNN's is the spec the bundled
    digit model was stored with; the Shape calculator's stack starts from it."""
    layers = [
        {k: (AUTO if k in INPUT_FIELDS else v) for k, v in layer.to_dict().items()} for layer in spec.layers
    ]
    return ModelSpec.from_dict({"input_shape": list(spec.input_shape), "layers": layers})
