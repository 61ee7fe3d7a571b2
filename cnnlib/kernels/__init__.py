"""Hand-designed kernels on images: presets, the convolution done step by step, and the images.

`apply_kernel` computes a feature map as `nn.Conv2d` does (a cross-correlation: the kernel is not
flipped) with PyTorch's `conv2d`; `explain_position` shows one output pixel by hand: the patch, the
element-wise products and their sum.

This package's public face is this module; the modules inside it:

    convolution.py  apply_kernel, apply_multichannel_kernel, explain_position, feature_map, ReLU,
                    pooling, feature_map_shape (the conv formula on a 2-D map)
    frames.py       window_frames, pool_frames: every position of the sliding window, for the player
    presets.py      KERNELS with their notes, and kernels typed by hand (a cell, a grid, a text)
    images.py       bundled samples, test patterns and safe image uploads
    link.py         the page's state as a link (KERNELS_LINK)
"""

from __future__ import annotations

from cnnlib.kernels import convolution, frames, images, link, presets
from cnnlib.kernels.convolution import *  # noqa: F403
from cnnlib.kernels.frames import *  # noqa: F403
from cnnlib.kernels.images import *  # noqa: F403
from cnnlib.kernels.link import *  # noqa: F403
from cnnlib.kernels.presets import *  # noqa: F403

__all__ = [*convolution.__all__, *frames.__all__, *images.__all__, *link.__all__, *presets.__all__]
