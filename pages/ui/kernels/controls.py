"""Kernels page controls: the image picker, the kernel's weights and the layer settings.

Each control shows its own error next to it and falls back to the last good value kept in the
page's memory, so a bad upload, a bad weight or impossible settings never break the page.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib import kernels as K
from pages.ui.figures import shared
from pages.ui.memory import memory
from pages.ui.runtime import uploads_release

CUSTOM = "Custom (edited)"
UPLOAD = "Upload your own…"
DEFAULT_PRESET = "Sobel x"
PAD_MODES = ("number", "same", "valid")
POOL_LABELS = {"none": "None", "max": "Max", "avg": "Average"}
# Widget values kept across page switches (Streamlit drops the state of widgets not drawn).
PERSISTED = (
    "k_source", "k_index", "k_channel", "k_preset", "k_size", "k_normalise", "k_stride", "k_pad_mode",
    "k_padding", "k_dilation", "k_bias", "k_relu", "k_pool", "k_pool_size", "k_row", "k_col", "k_compare",
    "k_predict", "k_compare_open", "k_text", "k_size_open",
)  # fmt: skip
WIDGET_DEFAULTS = {
    "k_index": 0, "k_channel": "Grayscale", "k_size": 3, "k_normalise": False, "k_stride": 1, "k_pad_mode": "number",
    "k_padding": 0, "k_dilation": 1, "k_bias": 0.0, "k_relu": False, "k_pool": "none", "k_pool_size": 2,
    "k_predict": False,
}  # fmt: skip
MEMORY = "k_memory"  # the page's non-widget values (pages/ui/memory.py): last good image, kernel, ...
ss = st.session_state
# The weights box: same-width digits, so the typed rows line up as a grid; its column beside the maps is
# as wide as the longest row (column_width).
GRID_CSS = """<style>
.st-key-k_text textarea {font-family: "Source Code Pro", ui-monospace, monospace; font-size: 0.8rem;
  line-height: 1.5; white-space: pre; overflow-x: auto;}
</style>"""
GRID_CHAR_REM = 0.48  # one character of the box: Source Code Pro's advance is 0.6 em, at 0.8rem
BOX_EXTRA_REM = 2.5  # the box's padding and border, a scrollbar


def _write_kernel(kernel: np.ndarray) -> None:
    """Put a kernel's weights into the weights box (rows lined up) and its size into the size picker."""
    ss["k_size"] = kernel.shape[0]
    ss["k_text"] = K.format_kernel_text(kernel)


def init_state() -> None:
    """Defaults on a fresh session; restore this page's widgets after a visit to another page."""
    now = ss.to_dict()  # one copy of the state (each `key in ss` would cost as much as a read)
    saved = memory(MEMORY).setdefault("saved", {})
    for key, value in {**WIDGET_DEFAULTS, **saved}.items():
        if key not in now:
            ss[key] = value
    if "k_source" not in now and "k_source" not in saved:  # the bundled digits if they load, else a circle
        ss["k_source"] = "MNIST digit" if K.dataset_sample_count("MNIST digit") else "Circle"
    if "k_text" not in now and "k_text" not in saved:
        ss["k_preset"] = DEFAULT_PRESET
        _write_kernel(K.KERNELS[DEFAULT_PRESET])


def save_state() -> None:
    now = ss.to_dict()
    memory(MEMORY)["saved"] = {key: now[key] for key in PERSISTED if key in now}


# ----------------------------------------------------------------------------- image


def _decode_upload(upload) -> K.LoadedImage:
    """Decode once per uploaded file (reruns reuse it); ImageError for a bad file."""
    mem = memory(MEMORY)
    cached = mem.get("upload")
    if cached is None or cached[0] != upload.file_id:
        try:
            cached = (upload.file_id, K.load_image(upload.getvalue(), upload.name))
        except K.ImageError as exc:
            cached = (upload.file_id, exc)
        mem["upload"] = cached
    if isinstance(cached[1], Exception):
        raise cached[1]
    return cached[1]


def _pick_image() -> tuple[K.LoadedImage | None, tuple]:
    """(the chosen image, a small key naming it); None while the upload box is empty; ImageError for a
    bad one. The key (sample and index, or the upload's file id) stands for the pixels in caches."""
    source = st.selectbox("Image", [*K.SAMPLE_NAMES, UPLOAD], key="k_source")
    if source not in K.DATASET_SAMPLES and not K.dataset_sample_count("MNIST digit"):
        st.caption(":material/warning: The bundled MNIST digits could not be loaded, so a pattern is shown.")
    if source == UPLOAD:
        upload = st.file_uploader(
            "PNG, JPEG, BMP, GIF or WebP",
            type=K.UPLOAD_TYPES,
            key="k_upload",
            help=uploads_release.budget_help(),
        )
        return (None, ()) if upload is None else (_decode_upload(upload), ("upload", upload.file_id))
    if source in K.DATASET_SAMPLES:
        count = K.dataset_sample_count(source)
        if count == 0:
            raise K.ImageError(
                f"The {source} sample could not be loaded on this server (its bundled file is missing or "
                "damaged). Pick a generated pattern or upload an image."
            )
        ss["k_index"] = min(int(ss.get("k_index", 0)), count - 1)
        index = st.number_input(f"Which one (0–{count - 1})", 0, count - 1, key="k_index")
        return K.load_sample(source, int(index)), ("sample", source, int(index))
    return K.load_sample(source), ("sample", source)


def image_plane(image: K.LoadedImage, channel: str) -> np.ndarray:
    """The 2-D plane [H, W] to convolve, read-only (it is shared by every session that shows it)."""
    plane = image.view(channel)
    plane.flags.writeable = False
    return plane


def image_picker() -> tuple[K.LoadedImage, np.ndarray, str, tuple]:
    """Draw the image controls; return (image, the 2-D plane to convolve [H, W], its label, its key).

    The key is small (the sample and channel, or the upload's file id): caches use it for the pixels.
    """
    try:
        image, key = _pick_image()
        if image is None:
            st.info("Choose a picture to upload. Meanwhile the last image stays.", icon=":material/upload:")
    except K.ImageError as exc:
        st.error(str(exc), icon=":material/broken_image:")
        image = None
    mem = memory(MEMORY)
    if image is None:
        image, key = mem.get("image") or (K.load_sample("Circle"), ("sample", "Circle"))
        st.caption(f"Using the last good image: **{image.name}**.")
    mem["image"] = image, key
    for note in image.notes:
        st.caption(f"ℹ️ {note}")
    channel = "Grayscale"
    if image.is_colour:
        st.image(image.pixels, caption=f"{image.name} (colour)", width=140)
        channel = st.radio("Use", K.CHANNEL_VIEWS, horizontal=True, key="k_channel")
    key = (*key, channel)
    plane = shared(image_plane, image, channel, key=key)
    label = image.name if channel == "Grayscale" else f"{image.name}, {channel.lower()} channel"
    return image, plane, label, key


# ----------------------------------------------------------------------------- kernel


def _on_preset() -> None:
    if ss["k_preset"] in K.KERNELS:
        _write_kernel(K.KERNELS[ss["k_preset"]])


def _last_good_kernel() -> np.ndarray:
    """The last kernel the weights box held that could be read (the default preset at first)."""
    return memory(MEMORY).get("kernel", K.KERNELS[DEFAULT_PRESET])


def _typed_kernel() -> np.ndarray:
    """The kernel in the weights box, or the last good one while the box cannot be read."""
    try:
        return K.parse_kernel_text(ss["k_text"])
    except K.KernelError:
        return _last_good_kernel()


def _custom_unless_preset(kernel: np.ndarray | None) -> None:
    preset = K.KERNELS.get(ss.get("k_preset", ""))  # "" names no preset, as a missing key
    if kernel is None or preset is None or not np.array_equal(kernel, preset):
        ss["k_preset"] = CUSTOM


def _on_size() -> None:
    """Keep the current kernel centred in the new size (zeros around it, or its border cropped),
    its weights as the teacher typed them."""
    size = int(ss["k_size"])
    resized = K.resize_kernel(_typed_kernel(), size)
    try:
        ss["k_text"] = K.resize_kernel_text(ss["k_text"], size)
    except K.KernelError:  # the box cannot be read: the last good kernel, written out
        _write_kernel(resized)
    _custom_unless_preset(resized)


def _on_text() -> None:
    """Typed weights: the size picker follows them, and the rows are lined up again, each value as
    typed (2/16 stays 2/16, issue 25); a typo stays as typed (the box shows what to fix)."""
    try:
        kernel = K.parse_kernel_text(ss["k_text"])
    except K.KernelError:
        _custom_unless_preset(None)
        return
    if kernel.shape[0] in K.KERNEL_SIZES:
        ss["k_size"] = kernel.shape[0]
    ss["k_text"] = K.align_kernel_text(ss["k_text"])
    _custom_unless_preset(kernel)


def column_width(text: str, rem_px: int) -> int:
    """The weights column's width in px (its root font is `rem_px`): wide enough for the box's longest
    row (a 7x7 kernel of fractions overflowed a 242 px box, issue 25), 14rem at least, 30rem at most
    (then the box scrolls sideways)."""
    chars = K.longest_row(text)
    rem = min(30.0, max(14.0, chars * GRID_CHAR_REM + BOX_EXTRA_REM))
    return int(round(rem * rem_px))


def kernel_editor() -> tuple[str, np.ndarray]:
    """Draw the weights box (the page's key control, beside the maps) and the preset menu, then the
    size, one caption and the normalise toggle; return (name, kernel)."""
    # The weights box first, alone in its key container (issue 25's one-screen check): on a 1280x720
    # projector under a lesson bar and a poll, 170 px are left for it; the preset menu follows it.
    with st.container(key="key_kernels_weights"):
        text = st.text_area(  # one box for every size: a 7x7 grid of boxes was 49 widgets on every view
            "Kernel weights, one row per line",
            key="k_text",
            on_change=_on_text,
            height="content",
            help="Numbers or fractions (1/9), split by spaces or commas; rows by new lines or ';'. A kernel "
            "copied from numpy or Python ([[1, 0, -1], ...]) works too. Ctrl+Enter or a click outside applies "
            "it.",
        )
    preset = st.selectbox("Preset", [*K.KERNELS, CUSTOM], key="k_preset", on_change=_on_preset)
    try:
        kernel = memory(MEMORY)["kernel"] = K.parse_kernel_text(text)
    except K.KernelError as exc:
        st.error(str(exc), icon=":material/grid_on:")
        kernel = _last_good_kernel()
        st.caption("Still using the last good kernel until the weights are fixed.")
    st.radio(
        "Size",
        K.KERNEL_SIZES,
        horizontal=True,
        key="k_size",
        on_change=_on_size,
        format_func=lambda n: f"{n}×{n}",
        label_visibility="collapsed",
    )
    total = K.kernel_sum(kernel)
    note = ""
    if preset in K.KERNEL_NOTES:
        note = (K.KERNEL_NOTES[preset] if not ss.get("k_predict") else "Predict first, then reveal.") + " "
    normalise = st.toggle("Normalise (divide by the sum)", key="k_normalise")
    if normalise and K.needs_normalising(kernel):
        kernel = K.normalise_kernel(kernel)
        st.caption(
            f"{note}Weights add up to {total:g}: each is divided by {total:g}, so they now add up to 1."
        )
    else:
        why = {0.0: "0 (flat areas become 0)", 1.0: "1 (brightness kept)"}.get(round(total, 9), f"{total:g}")
        st.caption(f"{note}Weights add up to {why}.")
    # The box's styles as st.html (style only: no space on the page). Markdown with unsafe_allow_html
    # made every student's browser load and run rehype-raw (190 kB of JS) for them (issue 28).
    st.html(GRID_CSS)
    return preset, kernel


# ----------------------------------------------------------------------------- settings


def _settings_from_widgets() -> K.ConvSettings:
    stride = st.number_input("Stride", 1, 8, key="k_stride")
    mode = st.radio("Padding", PAD_MODES, horizontal=True, key="k_pad_mode")
    padding: int | str = mode
    if mode == "number":
        padding = int(st.number_input("Padding: rings of zeros on each side", 0, 8, key="k_padding"))
    dilation = st.number_input("Dilation", 1, 6, key="k_dilation")
    bias = st.number_input("Bias (added to every output pixel)", -10.0, 10.0, step=0.1, key="k_bias")
    relu = st.toggle("ReLU after the convolution", key="k_relu")
    pool = st.radio(
        "Pooling after it", list(POOL_LABELS), horizontal=True, key="k_pool", format_func=POOL_LABELS.get
    )
    pool_size = 2
    if pool != "none":
        pool_size = st.radio("Pooling window (stride = window)", (2, 3), horizontal=True, key="k_pool_size",
                             format_func=lambda n: f"{n}×{n}")  # fmt: skip
    return K.ConvSettings(int(stride), padding, int(dilation), float(bias), bool(relu), pool, int(pool_size))


def layer_settings(image_shape: tuple[int, int], kernel_shape: tuple[int, int]) -> K.ConvSettings:
    """Draw the layer's settings; return them, or the last ones that worked if these cannot."""
    settings = _settings_from_widgets()
    mem = memory(MEMORY)
    try:
        settings.check(image_shape, kernel_shape)
        mem["settings"] = settings
        return settings
    except K.KernelError as exc:
        st.error(str(exc), icon=":material/settings:")
    for fallback in (mem.get("settings"), K.ConvSettings()):
        if fallback is None:
            continue
        try:
            fallback.check(image_shape, kernel_shape)
        except (K.KernelError, AttributeError):
            continue
        st.caption(f"Showing the last settings that worked: {describe(fallback)}.")
        return fallback
    return K.ConvSettings(padding="same")  # always fits: the output keeps the image's size


def describe(s: K.ConvSettings) -> str:
    pad = f"padding {s.padding}" if isinstance(s.padding, int) else f"padding '{s.padding}'"
    parts = [f"stride {s.stride}", pad, f"dilation {s.dilation}"]
    if s.bias:
        parts.append(f"bias {s.bias:g}")
    if s.relu:
        parts.append("ReLU")
    if s.pool != "none":
        parts.append(f"{POOL_LABELS[s.pool].lower()} pooling {s.pool_size}×{s.pool_size}")
    return ", ".join(parts)


# ----------------------------------------------------------------------------- the page's link


def apply_link(values: dict) -> None:
    """Put a link's state (cnnlib.kernels.KERNELS_LINK values; a missing key is its default) into the
    page's widgets, before they are drawn."""
    d = K.KERNELS_LINK.defaults
    v = {**d, **values}
    ss["k_source"] = v["image"]
    ss["k_index"] = int(v["index"])
    ss["k_channel"] = v["channel"]
    weights = v["weights"]
    if weights is not None and v["kernel"] in (CUSTOM, d["kernel"]) and "kernel" not in values:
        v["kernel"] = CUSTOM  # typed weights without a preset name: a custom kernel
    if v["kernel"] == CUSTOM:
        _write_kernel(weights if weights is not None else K.KERNELS[DEFAULT_PRESET])
        ss["k_preset"] = CUSTOM
    else:
        ss["k_preset"] = v["kernel"]
        _write_kernel(K.KERNELS[v["kernel"]])
    ss["k_normalise"] = bool(v["normalise"])
    ss["k_stride"] = int(v["stride"])
    if isinstance(v["padding"], str):
        ss["k_pad_mode"], ss["k_padding"] = v["padding"], 0
    else:
        ss["k_pad_mode"], ss["k_padding"] = "number", int(v["padding"])
    ss["k_dilation"] = int(v["dilation"])
    ss["k_bias"] = float(v["bias"])
    ss["k_relu"] = bool(v["relu"])
    ss["k_pool"] = v["pool"]
    ss["k_pool_size"] = int(v["poolsize"])
    ss["k_predict"] = bool(v["predict"])
    if v["pixel"] is not None:
        ss["k_row"], ss["k_col"] = v["pixel"]
        memory(MEMORY).pop("pixel_context", None)  # kept where the link put it (then clamped to the map)
    else:
        ss.pop("k_row", None)
        ss.pop("k_col", None)
    memory(MEMORY)["saved"] = {}


def link_values(kernel: np.ndarray) -> dict:
    """The page's state for its link (uploads are never in links: the image falls back to a sample)."""
    source = ss.get("k_source")
    custom = ss.get("k_preset") not in K.KERNELS
    pad_mode = ss.get("k_pad_mode", "number")
    return {
        "image": source if source in K.SAMPLE_NAMES else K.KERNELS_LINK.field("image").default,
        "index": int(ss.get("k_index", 0)),
        "channel": ss.get("k_channel", "Grayscale"),
        "kernel": CUSTOM if custom else ss.get("k_preset"),
        "weights": kernel if custom else None,
        "normalise": bool(ss.get("k_normalise")),
        "stride": int(ss.get("k_stride", 1)),
        "padding": pad_mode if pad_mode != "number" else int(ss.get("k_padding", 0)),
        "dilation": int(ss.get("k_dilation", 1)),
        "bias": float(ss.get("k_bias", 0.0)),
        "relu": bool(ss.get("k_relu")),
        "pool": ss.get("k_pool", "none"),
        "poolsize": int(ss.get("k_pool_size", 2)),
        "pixel": (int(ss.get("k_row", 0)), int(ss.get("k_col", 0))),
        "predict": bool(ss.get("k_predict")),
    }
