"""Kernels page: the kernel sliding over the image by itself (the window player).

The frames come from `cnnlib.kernels.window_frames`, built once per process for an image, kernel
and layer settings (every student who opens the same picture gets the same payload text). A
colour image plays as `nn.Conv2d(in_channels=3)` with this kernel on each of R, G and B: three
channels' products and sums, then their total plus the bias (`apply_multichannel_kernel`).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib import kernels as K
from pages.ui.classes import strip
from pages.ui.classes.share import projecting
from pages.ui.figures import shared
from pages.ui.glossary import explain
from pages.ui.window_player import frames_id, window_player

ss = st.session_state


def player_input(image: K.LoadedImage, plane: np.ndarray) -> np.ndarray:
    """What the player convolves: the colour image's three channels [3, H, W], else the plane [1, H, W]."""
    if image.is_colour:
        return np.moveaxis(np.asarray(image.pixels, dtype=np.float64), 2, 0)  # [H, W, 3] -> [3, H, W]
    return np.asarray(plane, dtype=np.float64)[None]  # [1, H, W]


def build_payload(pixels: np.ndarray, kernel: np.ndarray, s: K.ConvSettings) -> tuple[str, str]:
    """(the payload's JSON text, its fingerprint) for these inputs; KernelError if they cannot play."""
    weights = np.stack([np.asarray(kernel, dtype=np.float64)] * pixels.shape[0])  # [C, kh, kw]
    text = K.payload_json(K.window_frames(pixels, weights, s.bias, s.stride, s.padding, s.dilation))
    return text, frames_id(text)


def hidden(name: str, kernel: np.ndarray) -> bool:
    """Whether the feature map is still hidden (a poll is open, or 'Predict first' before the reveal):
    the player shows every output, so it waits too."""
    if strip.poll_open_for_students():
        return True
    return bool(ss.get("k_predict")) and ss.get("k_revealed") != (name, kernel.tobytes())


def render(image: K.LoadedImage, plane: np.ndarray, image_key: tuple, name: str, kernel: np.ndarray,
           s: K.ConvSettings, pixel: tuple[int, int]) -> None:  # fmt: skip
    """The player with its heading, first at the step-through's pixel; a note instead when the image is
    too big or the map is hidden."""
    explain(
        "### Watch the kernel slide\n"
        "Press play: the kernel moves over the image one output pixel at a time, and the patch, the "
        "products and their sum update beside it. Step, scrub or pick a speed; it all runs in your browser."
    )
    if hidden(name, kernel):
        st.caption("The animation appears with the feature map, after the reveal.")
        return
    pixels_key = (
        image_key[:-1] if image.is_colour else image_key
    )  # colour: every channel, whichever is picked
    try:
        text, fid = shared(build_payload, player_input(image, plane), kernel, s,
                           key=(pixels_key, kernel.shape, kernel.tobytes(), s.stride, s.padding, s.dilation, s.bias))  # fmt: skip
    except K.KernelError as exc:
        st.info(
            f"{exc} Pick a smaller image (a sample) to watch the kernel slide.", icon=":material/zoom_in:"
        )
        return
    start = (
        pixel[0] * K.feature_map_shape(plane.shape, kernel.shape, s.stride, s.padding, s.dilation)[1]
        + pixel[1]
    )
    window_player(text, key="k_player", in_label=image.name, out_label="Feature map (conv + bias)",
                  in_range=(0.0, 1.0), big=projecting(), start=start, frames_key=fid)  # fmt: skip
    if image.is_colour:
        st.caption(
            "A colour image plays as `nn.Conv2d(in_channels=3)` does: one kernel for all three channels "
            "(the same weights on R, G and B), each channel's products summed, then the three sums added "
            "with the bias. The feature map above uses one plane "
            f"({ss.get('k_channel', 'Grayscale').lower()}), so its numbers differ."
        )
