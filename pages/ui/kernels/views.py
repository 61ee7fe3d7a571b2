"""Kernels page views: output size, the input and feature-map heatmaps, step-through, comparison.

Every number comes from cnnlib (kernels, shapes); the maps' panels from cnnlib.plots.heatmaps, drawn by
our canvas element (pages.ui.heatmaps: no plotly.js on this page), the step-through from cnnlib.plots.grids.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib import kernels as K
from cnnlib import plots as P
from cnnlib import shapes
from pages.ui.classes import strip
from pages.ui.classes.share import figure_height, projecting
from pages.ui.figures import shared
from pages.ui.glossary import explain, explain_caption
from pages.ui.heatmaps import heatmaps, panels_id
from pages.ui.kernels.controls import MEMORY
from pages.ui.memory import memory

ss = st.session_state
PROJECTOR_TYPE = 22 / 16  # the projector view's root font over the usual one (pages.ui.classes.share)

EXPLAIN = {
    "kernel": (
        "**What is a kernel?** A small grid of weights (here 3×3 to 7×7). At each position the layer "
        "multiplies the pixels under the kernel by the weights and adds the products up: where the image "
        "looks like the kernel, the sum is large. Sobel or blur kernels are designed by hand; a CNN "
        "**learns** its kernels' weights from data during training."
    ),
    "settings": (
        "**Padding** adds rings of zeros around the image, so the kernel can also sit on the edge pixels "
        "('same' keeps the output as big as the input; 'valid' adds none).  \n"
        "**Stride** is how far the kernel jumps between positions: stride 2 roughly halves the output.  \n"
        "**Dilation** spreads the kernel's weights apart (gaps of dilation − 1 pixels): it sees a wider "
        "area with the same number of weights.  \n"
        "**Bias** is one number added to every output pixel."
    ),
    "relu": (
        "**Why ReLU?** ReLU keeps positive values and turns negative ones into 0: max(0, x). Without a "
        "non-linearity between them, stacked convolutions would collapse into one linear filter. On an "
        "edge detector, ReLU keeps one direction of edge (say dark→bright) and drops the other."
    ),
    "pool": (
        "**Why pooling?** Pooling shrinks the feature map: max pooling keeps the strongest response in "
        "each window, average pooling the mean. The next layer then sees a wider area for the same "
        "cost, and a small shift of the input changes the result less."
    ),
}


def kernel_key(kernel: np.ndarray) -> tuple:
    """A small key for a kernel's weights (at most 7 x 7 numbers)."""
    return (kernel.shape, kernel.tobytes())


def _read_only(fm: K.FeatureMap) -> K.FeatureMap:
    for arr in (fm.conv, fm.activated, fm.pooled):
        if arr is not None:
            arr.flags.writeable = False
    return fm


def compute_feature_map(plane: np.ndarray, kernel: np.ndarray, s: K.ConvSettings) -> K.FeatureMap:
    return _read_only(K.feature_map(plane, kernel, s))


def feature_map(plane: np.ndarray, image_key: tuple, kernel: np.ndarray, s: K.ConvSettings) -> K.FeatureMap:
    """The feature map, computed once per process for this image, kernel and settings (read-only: shared).
    KernelError if the settings cannot work."""
    return shared(compute_feature_map, plane, kernel, s, key=(image_key, kernel_key(kernel), s))


def _fmt(v: float) -> str:
    """4 decimals at most, no trailing zeros, no "-0"."""
    text = f"{float(v) + 0.0:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def output_size(image_shape: tuple[int, int], kernel_shape: tuple[int, int], s: K.ConvSettings) -> None:
    """The feature map's size as big numbers; the formula with this layer's numbers in it in a section
    built only while open (LaTeX makes every browser load KaTeX, 265 kB: only when it shows, issue 28)."""
    conv_h, conv_w = K.feature_map_shape(image_shape, kernel_shape, s.stride, s.padding, s.dilation)
    final = s.check(image_shape, kernel_shape)
    m = st.container(horizontal=True)  # one block for the row (columns cost a block each)
    m.metric("Input size", f"{image_shape[0]} × {image_shape[1]}")
    m.metric("Feature map size", f"{conv_h} × {conv_w}")
    if s.pool != "none":
        m.metric("After pooling", f"{final[0]} × {final[1]}")
    with st.expander(
        "How the output size is worked out",
        icon=":material/functions:",
        expanded=bool(ss.get("k_size_open")),
        key="k_size_open",
        on_change="rerun",
    ) as box:
        if not box.open:
            return
        axes = [("Height", image_shape[0], kernel_shape[0], conv_h)]
        if (image_shape[1], kernel_shape[1]) != (image_shape[0], kernel_shape[0]):
            axes.append(("Width", image_shape[1], kernel_shape[1], conv_w))
        for name, size, k, conv_size in axes:
            explain(f"**{name}** of the feature map (k = kernel size, p = padding, s = stride, d = dilation)")
            st.latex(shapes.conv2d_formula_latex(size, k, s.stride, s.padding, s.dilation))
            if s.pool != "none":
                explain(f"**{name}** after {s.pool_size}×{s.pool_size} pooling (stride {s.pool_size})")
                st.latex(shapes.pool2d_formula_latex(conv_size, s.pool_size))


def clamp_pixel(conv: np.ndarray, image_label: str = "") -> tuple[int, int]:
    """The step-through pixel, kept inside the feature map.

    At first, and whenever the image or the feature map's size changes, it jumps to the strongest
    response (an interesting pixel, not a flat corner); a new kernel keeps it, to compare kernels.
    """
    shape = conv.shape
    context = (image_label, shape)
    mem = memory(MEMORY)
    kept = ss.get("k_row"), ss.get("k_col")
    row, col = kept
    if row is None or col is None or mem.get("pixel_context", context) != context:
        row, col = (int(i) for i in K.strongest_pixel(conv))
    mem["pixel_context"] = context
    clamped = min(max(int(row), 0), shape[0] - 1), min(max(int(col), 0), shape[1] - 1)
    if clamped != kept:  # written only when it moves: each write through session state costs a view
        ss["k_row"], ss["k_col"] = clamped
    return clamped


def _on_map_click() -> None:
    """A click on the feature map (a cell: x = column, y = row) picks the pixel to step through."""
    event = ss.get("k_maps") or {}
    click = event.get("click") if hasattr(event, "get") else getattr(event, "click", None)
    if (
        isinstance(click, dict)
        and isinstance(click.get("x"), int | float)
        and isinstance(click.get("y"), int | float)
    ):
        ss["k_row"], ss["k_col"] = int(round(click["y"])), int(round(click["x"]))


def predict_gate(name: str, kernel: np.ndarray) -> bool:
    """'Predict, then reveal': True once the feature map may be shown."""
    if strip.poll_open_for_students():
        st.info("Your teacher is asking the class: the feature map shows when the answer is revealed.",
                icon=":material/how_to_vote:")  # fmt: skip
        return False
    if not ss.get("k_predict"):
        return True
    token = (name, kernel.tobytes())
    if ss.get("k_revealed") != token:
        st.info("The feature map appears after you reveal.", icon=":material/visibility_off:")
        st.radio(
            ":material/psychology: What will this kernel do to the image?",
            K.EFFECT_CHOICES,
            index=None,
            key="k_guess",
        )
        strip.ask(
            "What will this kernel do to the image?",
            list(K.EFFECT_CHOICES),
            K.KERNEL_EFFECTS.get(name),
            "kernels",
        )
        # A callback: the run after the click draws the map where the guess list was (beside the
        # input), not under the list and its button (530 px down, issue 25).
        st.button("Reveal the feature map", key="k_reveal", type="primary", on_click=_reveal, args=(token,))
        return False
    return True


def _reveal(token: tuple) -> None:
    ss["k_revealed"] = token


def reveal_verdict(name: str) -> None:
    """After a reveal, under the feature map: was the guess right?"""
    if not ss.get("k_predict") or ss.get("k_revealed") is None or ss["k_revealed"][0] != name:
        return
    guess, truth = ss.get("k_guess"), K.KERNEL_EFFECTS.get(name)
    if truth is None:
        st.info("A custom kernel: compare the feature map with your prediction.")
    elif guess == truth:
        st.success(f"Right: it {truth[0].lower() + truth[1:]}. {K.KERNEL_NOTES[name]}")
    else:
        st.info(f"{name} {truth[0].lower() + truth[1:]}. {K.KERNEL_NOTES[name]}")


def map_height() -> int:
    """The tallest a map's grid may be (px): taller on the projector; the element then fits it to the
    window's height below it."""
    return figure_height(380)


def _input_panel(plane: np.ndarray, label: str, kernel: np.ndarray, s: K.ConvSettings,
                 pixel: tuple[int, int]) -> dict:  # fmt: skip
    pads = K.resolve_padding(kernel.shape, s.padding, s.stride, s.dilation)
    patch = K.patch_indices(*pixel, kernel.shape, s.stride, s.padding, s.dilation)
    title = "Input" + (" + zero padding" if any(pads) else "")
    return P.image_panel(plane, title, pads, patch)


def panels_text(plane: np.ndarray, label: str, fm: K.FeatureMap | None, kernel: np.ndarray,
                s: K.ConvSettings, pixel: tuple[int, int]) -> tuple[str, str]:  # fmt: skip
    """(the maps' panels as JSON, their fingerprint): the input, and unless `fm` is None the feature map
    (clickable, the step-through's pixel outlined) and the pooled map."""
    panels = [_input_panel(plane, label, kernel, s, pixel)]
    if fm is not None:
        steps = "conv + bias" + (" → ReLU" if s.relu else "")
        panels.append(P.map_panel(fm.activated, f"Feature map ({steps})", pixel, clickable=True))
        if fm.pooled is not None:
            kind = "Max" if s.pool == "max" else "Average"
            panels.append(
                P.map_panel(fm.pooled, f"After {kind.lower()} pooling", signed=P.is_signed(fm.activated))
            )
    text = P.panels_json(panels)
    return text, panels_id(text)


def maps_caption(label: str, plane_shape: tuple[int, int], fm: K.FeatureMap | None, s: K.ConvSettings,
                 pixel: tuple[int, int], padded: bool) -> str:  # fmt: skip
    """One caption under the maps: what each shows and how to read it."""
    h, w = plane_shape
    text = (
        f"**Input**: {label}, {h} × {w} pixels (height × width), 0 black to 1 white; cyan: the pixels the "
        f"kernel covers for output pixel {pixel}."
    )
    if padded:
        text += " Orange band: the zero padding (all 0); dashed line: the image's edge."
    if fm is not None:
        signed = P.is_signed(fm.activated)
        text += (
            f" **Feature map**: {P.legend('signed' if signed else 'magnitude')} Hover a pixel to read its "
            "value; click one (or pick its row and column below) to step through it."
        )
        if fm.pooled is not None:
            kind = "Max" if s.pool == "max" else "Average"
            text += (
                f" **Pooled**: {kind.lower()} of each {s.pool_size}×{s.pool_size} window of the feature map."
            )
    return text + (
        " Computed with PyTorch's `conv2d`, as `nn.Conv2d` does: a cross-correlation, so the kernel is "
        "used as it is, not flipped."
    )


def maps(plane: np.ndarray, label: str, fm: K.FeatureMap, name: str, kernel: np.ndarray, s: K.ConvSettings,
         pixel: tuple[int, int], image_key: tuple) -> None:  # fmt: skip
    """Input (zero padding drawn, the step-through patch outlined) beside the feature map (and the pooled
    map): one canvas element of ours, no plotly.js (issue 28); sized to stay on one screen (issue 25)."""
    made = (image_key, kernel_key(kernel), s)  # what the arrays are made of: the panels' cache key
    shown = not strip.poll_open_for_students() and (
        not ss.get("k_predict") or ss.get("k_revealed") == (name, kernel.tobytes())
    )
    text, fid = shared(panels_text, plane, label, fm if shown else None, kernel, s, pixel,
                       key=(made, pixel, label, shown))  # fmt: skip
    with st.container(key="key_kernels_maps"):  # the page's key picture (issue 25's one-screen check)
        heatmaps(text, key="k_maps", max_height=map_height(), reserve=12, panels_key=fid,
                 on_click=_on_map_click)  # fmt: skip
    pads = K.resolve_padding(kernel.shape, s.padding, s.stride, s.dilation)
    explain_caption(maps_caption(label, plane.shape, fm if shown else None, s, pixel, any(pads)))
    if shown:
        reveal_verdict(name)  # under the maps
    else:
        predict_gate(name, kernel)


def step_through(
    plane: np.ndarray, kernel: np.ndarray, s: K.ConvSettings, fm: K.FeatureMap, image_key: tuple
) -> None:
    """Pick an output pixel; show the patch, the kernel, the products and their sum."""
    made = (image_key, kernel_key(kernel), s)
    h, w = fm.conv.shape
    # Number boxes, not sliders: a slider makes every browser load its chunk and moment.js (80 kB of
    # JS, issue 28); the sidebar's settings load the number box's anyway. To sweep, the player scrubs.
    a = st.container(horizontal=True)
    for key, n, word in (("k_row", h, "row"), ("k_col", w, "column")):
        if n > 1:
            a.number_input(f"Output {word} (0–{n - 1})", 0, n - 1, key=key, width=220)
        else:
            a.markdown(f"Output {word}: **0** (the feature map has only one {word})")
    row, col_ = ss["k_row"], ss["k_col"]
    patch, products, total = K.explain_position(
        plane, kernel, row, col_, s.stride, s.padding, s.dilation, s.bias
    )
    rows, cols = K.patch_indices(row, col_, kernel.shape, s.stride, s.padding, s.dilation)
    outside = K.padding_mask(plane.shape, rows, cols)
    span = f"rows {rows[0]}…{rows[-1]}, columns {cols[0]}…{cols[-1]}" + (
        f", every {K.ordinal(s.dilation)} one (dilation {s.dilation})" if s.dilation > 1 else ""
    )
    pads = " Orange 'pad' cells lie in the zero padding and count as 0." if outside.any() else ""
    scale = PROJECTOR_TYPE if projecting() else 1.0  # the numbers grow with the projector's type
    st.image(  # the patch, the kernel and their products: one picture (no plotly.js), numbers written in
        shared(P.step_picture, patch, kernel, products, outside, scale, key=(made, "step", row, col_, scale)),
        caption=f"Patch: input {span}.{pads}",  # the caption rides with the picture: one element
    )
    if strip.poll_open_for_students():  # the sum is the answer the class is asked for
        st.caption(":material/how_to_vote: The sum shows when your teacher reveals the answer.")
        return
    m = st.container(horizontal=True)
    m.metric("Sum of the products", _fmt(float(products.sum())))
    m.metric("+ bias", _fmt(s.bias))
    m.metric("= By hand", _fmt(total))
    m.metric(f"PyTorch at ({row}, {col_})", _fmt(float(fm.conv[row, col_])))
    if s.relu:
        st.markdown(f"After ReLU: max(0, {_fmt(total)}) = **{_fmt(float(fm.activated[row, col_]))}**")
    with st.expander("Write the sum out"):
        terms = " + ".join(f"({_fmt(p)})·({_fmt(k)})" for p, k in zip(patch.flat, kernel.flat, strict=True))
        st.markdown(f"{terms} + {_fmt(s.bias)} = **{_fmt(total)}**")


def compare(plane: np.ndarray, first_name: str, fm: K.FeatureMap, s: K.ConvSettings, image_key: tuple,
            kernel: np.ndarray) -> None:  # fmt: skip
    """A second preset on the same image with the same settings, beside the first."""
    options = list(K.KERNELS)
    ss.setdefault("k_compare", "Sobel y")
    second = st.selectbox("Second kernel", options, key="k_compare")
    other = K.KERNELS[second]
    try:
        fm2 = feature_map(plane, image_key, other, s)
    except K.KernelError as exc:
        st.error(f"{second} cannot run with these settings: {exc}")
        return
    text, fid = shared(compare_text, fm.output, first_name, fm2.output, second,
                       key=(image_key, kernel_key(kernel), kernel_key(other), s, first_name, second))  # fmt: skip
    heatmaps(text, key="k_compare_maps", max_height=map_height(), fit=False, panels_key=fid)
    same = " The same kernel as above: pick another one to compare." if second == first_name else ""
    st.caption(f"{second}: {K.KERNEL_NOTES[second]}{same}")


def compare_text(first: np.ndarray, first_name: str, second: np.ndarray, second_name: str) -> tuple[str, str]:
    """The two kernels' outputs side by side, as the heat map element's panels (JSON, fingerprint)."""
    text = P.panels_json([P.map_panel(first, first_name), P.map_panel(second, second_name)])
    return text, panels_id(text)
