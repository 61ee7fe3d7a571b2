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

from cnnlib.kernels.convolution import (
    ConvSettings,
    FeatureMap,
    apply_kernel,
    apply_multichannel_kernel,
    explain_position,
    feature_map,
    feature_map_shape,
    ordinal,
    padding_mask,
    patch_indices,
    pool,
    pool_output_shape,
    relu,
    resolve_padding,
    strongest_pixel,
)
from cnnlib.kernels.frames import (
    MAX_ANIMATED_SIDE,
    WindowFrames,
    demo_input,
    demo_kernel,
    frames_payload,
    payload_json,
    pool_frames,
    window_frames,
)
from cnnlib.kernels.images import (
    CHANNEL_VIEWS,
    DATASET_SAMPLES,
    MAX_FILE_BYTES,
    MIN_SIDE,
    PALETTE_GRAY_NOTE,
    PATTERNS,
    SAMPLE_NAMES,
    UPLOAD_TYPES,
    ImageError,
    LoadedImage,
    checkerboard,
    dataset_sample_count,
    load_image,
    load_sample,
    sample_dataset,
    text_image,
)
from cnnlib.kernels.link import (
    KERNELS_LINK,
    format_weights,
    parse_weights,
)
from cnnlib.kernels.presets import (
    EFFECT_CHOICES,
    KERNEL_EFFECTS,
    KERNEL_NOTES,
    KERNEL_SIZES,
    KERNELS,
    KernelError,
    align_kernel_text,
    format_kernel_text,
    format_weight,
    kernel_sum,
    longest_row,
    needs_normalising,
    normalise_kernel,
    parse_kernel_grid,
    parse_kernel_text,
    parse_weight,
    resize_kernel,
    resize_kernel_text,
)

__all__ = [
    "MAX_ANIMATED_SIDE",
    "WindowFrames",
    "apply_multichannel_kernel",
    "demo_input",
    "demo_kernel",
    "frames_payload",
    "payload_json",
    "pool_frames",
    "window_frames",
    "KERNELS_LINK",
    "format_weights",
    "parse_weights",
    "sample_dataset",
    "CHANNEL_VIEWS",
    "ConvSettings",
    "DATASET_SAMPLES",
    "EFFECT_CHOICES",
    "FeatureMap",
    "ImageError",
    "KERNELS",
    "KERNEL_EFFECTS",
    "KERNEL_NOTES",
    "KERNEL_SIZES",
    "KernelError",
    "LoadedImage",
    "MAX_FILE_BYTES",
    "MIN_SIDE",
    "PALETTE_GRAY_NOTE",
    "PATTERNS",
    "SAMPLE_NAMES",
    "UPLOAD_TYPES",
    "apply_kernel",
    "checkerboard",
    "dataset_sample_count",
    "explain_position",
    "feature_map",
    "format_kernel_text",
    "format_weight",
    "align_kernel_text",
    "longest_row",
    "resize_kernel_text",
    "kernel_sum",
    "load_image",
    "load_sample",
    "needs_normalising",
    "normalise_kernel",
    "ordinal",
    "feature_map_shape",
    "padding_mask",
    "parse_kernel_grid",
    "parse_kernel_text",
    "parse_weight",
    "patch_indices",
    "pool",
    "pool_output_shape",
    "relu",
    "resize_kernel",
    "resolve_padding",
    "strongest_pixel",
    "text_image",
]
