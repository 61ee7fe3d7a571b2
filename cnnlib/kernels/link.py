"""The Kernels page's state as a link: `?image=mnist_digit&index=7&kernel=sobel_y&stride=2&padding=1`.

Keys (all optional; a missing key keeps the page's default):

    image      a bundled sample (mnist_digit, synthetic_shape, checkerboard, gradient, circle, ...)
    index      which image of a dataset sample (0 to 9999; the page keeps it within the sample)
    channel    grayscale, red, green or blue (colour images)
    kernel     a preset (sobel_x, box_blur, ...) or "custom" with `weights`
    weights    a typed kernel, rows split by ';' and values by ',': "1,0,-1;2,0,-2;1,0,-1" (fractions
               like 1/9 allowed; square, 1x1 to 7x7)
    normalise  1: divide the kernel by its sum
    stride, padding (a number, same or valid), dilation, bias, relu, pool (none, max, avg), poolsize
    pixel      the output pixel stepped through: "row,col"
    predict    1: the feature map hidden until the student reveals it

Uploads are never in links (the page says so).
"""

from __future__ import annotations

import numpy as np

from cnnlib.kernels.convolution import POOL_KINDS
from cnnlib.kernels.images import CHANNEL_VIEWS, SAMPLE_NAMES
from cnnlib.kernels.presets import KERNELS as PRESETS
from cnnlib.kernels.presets import KernelError, format_weight, parse_kernel_text
from cnnlib.share import FRAME_KEYS, Field, LinkSchema, slug_choices

__all__ = ["KERNELS_LINK"]


CUSTOM = "Custom (edited)"


def parse_weights(text: str) -> np.ndarray:
    """ "1,0,-1;2,0,-2;1,0,-1" -> a square kernel; ValueError naming the problem."""
    try:
        return parse_kernel_text(text)
    except KernelError as exc:
        raise ValueError(str(exc).rstrip(".")) from None


def format_weights(kernel: np.ndarray) -> str:
    """A kernel as the link writes it (the inverse of parse_weights)."""
    return ";".join(",".join(format_weight(v) for v in row) for row in np.asarray(kernel))


def parse_padding(text: str) -> int | str:
    low = text.lower()
    if low in ("same", "valid"):
        return low
    try:
        v = int(low)
    except ValueError:
        raise ValueError(f"{text!r} is not a number, same or valid") from None
    if not 0 <= v <= 8:
        raise ValueError(f"{v} is outside 0 to 8")
    return v


def parse_pixel(text: str) -> tuple[int, int]:
    parts = text.split(",")
    try:
        r, c = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{text!r} is not 'row,col'") from None
    if not (0 <= r < 10_000 and 0 <= c < 10_000):
        raise ValueError(f"{text!r} is outside the image")
    return r, c


KERNELS_LINK = LinkSchema(
    "kernels",
    (
        Field("image", "choice", "MNIST digit", choices=slug_choices(SAMPLE_NAMES)),
        Field("index", "int", 0, lo=0, hi=9999),
        Field("channel", "choice", "Grayscale", choices=slug_choices(CHANNEL_VIEWS)),
        Field("kernel", "choice", "Sobel x", choices=(("custom", CUSTOM), *slug_choices([*PRESETS, CUSTOM]))),
        Field("weights", "custom", None, max_len=600, parse_fn=parse_weights, format_fn=format_weights),
        Field("normalise", "bool", False),
        Field("stride", "int", 1, lo=1, hi=8),
        Field("padding", "custom", 0, parse_fn=parse_padding, format_fn=str),
        Field("dilation", "int", 1, lo=1, hi=6),
        Field("bias", "float", 0.0, lo=-10, hi=10),
        Field("relu", "bool", False, "ReLU"),
        Field("pool", "choice", "none", "pooling", choices=tuple((k, k) for k in POOL_KINDS)),
        Field("poolsize", "int", 2, "pooling window", lo=2, hi=3),
        Field(
            "pixel",
            "custom",
            None,
            "output pixel",
            parse_fn=parse_pixel,
            format_fn=lambda p: f"{p[0]},{p[1]}",
        ),
        Field("predict", "bool", False, "predict first"),
    ),
    title="Kernels",
    shared_keys=FRAME_KEYS,
)
