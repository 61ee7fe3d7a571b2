"""Shape calculator, one layer: the window sliding by itself over a made-up input (the window player).

The calculator has sizes, not pictures, so the player fills the input with small whole numbers and
a Conv2d's kernel with -1, 0 and 1 (`cnnlib.kernels.demo_input` / `demo_kernel`): sums a class can
check in its head. A Conv2d plays with up to three input channels (each channel's products, then
their total plus a bias of 1 when the layer has one); a pooling layer plays one channel (each
channel is pooled on its own). ConvTranspose2d keeps its picture only.
"""

from __future__ import annotations

import streamlit as st

from cnnlib import kernels as K
from cnnlib.plots import picture_fits
from cnnlib.shapes import LayerResult, LayerSettings, kind_of
from pages.ui.classes.share import projecting
from pages.ui.figures import shared
from pages.ui.glossary import explain, explain_caption
from pages.ui.window_player import frames_id, window_player

MAX_CHANNELS = 3  # the player shows at most this many input channels' products
DEMO_BIAS = 1.0


def _pair(value: object) -> tuple[int, int]:
    return tuple(value) if isinstance(value, tuple | list) else (value, value)


def build_payload(kind: str, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int] | None,
                  padding: str | tuple[int, int], dilation: tuple[int, int], ceil_mode: bool, channels: int,
                  bias: bool) -> tuple[str, str]:  # fmt: skip
    """(the payload's JSON text, its fingerprint) for one layer's settings on the made-up input."""
    h, w = size
    lk = kind_of(kind)
    if lk.learns:
        if stride is None:  # a Conv2d always has one (its LayerResult could not exist without)
            raise K.KernelError("A convolution's stride is a number.")
        frames = K.window_frames(K.demo_input(h, w, channels), K.demo_kernel(*kernel, channels),
                                 DEMO_BIAS if bias else 0.0, stride, padding, dilation)  # fmt: skip
    else:
        if isinstance(padding, str):  # "same"/"valid" is Conv2d's alone
            raise K.KernelError(f"A pool's padding is a number; got {padding!r}.")
        frames = K.pool_frames(K.demo_input(h, w), lk.pooling or "avg", kernel, stride,
                               padding, dilation, ceil_mode)  # fmt: skip
    text = K.payload_json(frames)
    return text, frames_id(text)


def render(r: LayerResult, settings: LayerSettings) -> None:
    """The player under the picture, for a Conv2d or a pooling layer whose picture fits."""
    lk = r.layer_kind
    if lk.transposed or settings.kind != r.kind or not picture_fits(r.rows, r.cols):
        return
    conv = lk.learns
    channels = min(int(settings.in_channels), MAX_CHANNELS) if conv else 0
    args = (
        r.kind,
        _pair(settings.size),
        _pair(settings.kernel),
        None if settings.stride is None else _pair(settings.stride),
        settings.padding if isinstance(settings.padding, str) else _pair(settings.padding),
        _pair(settings.dilation),
        bool(settings.ceil_mode),
        channels,
        bool(settings.bias) if conv else False,
    )
    try:
        text, fid = shared(build_payload, *args)
    except K.KernelError as exc:
        st.info(f"The animation cannot play this layer: {exc}", icon=":material/motion_photos_off:")
        return
    explain(
        "**Let it play.** The same window on made-up numbers"
        + (" and weights (−1, 0, 1)" if conv else "")
        + ": press play to watch every output pixel being made, and check the arithmetic."
    )
    label = "Input (made-up numbers)" + (f", {channels} channel{'s' if channels > 1 else ''}" if conv else "")
    window_player(text, key="sc_player", in_label=label, out_label="Output (one channel)", big=projecting(),
                  neutral=True, frames_key=fid)  # fmt: skip
    notes = []
    if conv and int(settings.in_channels) > MAX_CHANNELS:
        notes.append(
            f"The layer has {settings.in_channels} input channels; the player shows the first {MAX_CHANNELS}."
        )
    if conv and settings.bias:
        notes.append(f"Bias {DEMO_BIAS:g} is added to every sum.")
    if notes:
        explain_caption(" ".join(notes))
