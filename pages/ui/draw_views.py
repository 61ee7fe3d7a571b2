"""Draw & predict, the output side: the model selector, the answer, the preprocessing steps,
Grad-CAM and the feature maps. Every number comes from cnnlib.inference."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnlib.inference import (
    Preprocessed,
    PretrainedError,
    answer,
    channel_order,
    check_compatible,
    feature_maps,
    grad_cam,
    model_from_record,
)
from cnnlib.plots_draw import cam_figure, enlarge, feature_grid_figure, probability_figure
from pages.ui.resources import get_pretrained

PLOT_CONFIG = {"displayModeBar": False}


@dataclass
class ModelChoice:
    model: object  # torch.nn.Module (pages never import torch)
    classes: list[str]
    mean: float
    std: float
    title: str


def _pct(x: float | None) -> str:
    return "test accuracy unknown" if x is None or x != x else f"test accuracy {x:.1%}"


def choose_model() -> ModelChoice | None:
    """The model selector: the bundled model or one trained this session (explained if it can't draw)."""
    try:
        pre = get_pretrained("mnist")
    except PretrainedError as err:
        pre = None
        st.error(
            f"{err} Models you train on the Training page can still be used here.", icon=":material/error:"
        )
    records = [r for r in st.session_state.get("trained_models", []) if isinstance(r, dict)]
    options = ([f"Pretrained digit CNN · {_pct(pre.test_accuracy)}"] if pre else []) + [
        f"{r.get('name', f'model {i + 1}')} · {r.get('dataset', '?')} · {_pct(r.get('test_accuracy'))}"
        for i, r in enumerate(records)
    ]
    if not options:
        st.warning("No model to use yet: train one on the Training page (on the MNIST sample).")
        return None
    picked = st.selectbox("Model", range(len(options)), format_func=options.__getitem__, key="draw_model")
    fallback = (
        ModelChoice(pre.model, pre.classes, pre.mean, pre.std, "the pretrained digit CNN") if pre else None
    )
    index = int(picked or 0) - (1 if pre else 0)
    if index < 0 or index >= len(records):
        return fallback
    record = records[index]
    name = record.get("name", "this model")
    compat = check_compatible(record.get("spec") or {}, record.get("classes"))
    model = None
    if compat.ok:
        try:
            model = model_from_record(record)
            compat = check_compatible(model, record.get("classes"))
        except Exception as err:  # noqa: BLE001 - a broken record must not break the page
            compat = type(compat)(False, f"Its weights could not be loaded ({err}).")
    if not compat.ok:
        tail = " Showing the pretrained digit CNN instead." if fallback else ""
        st.error(f"**{name}** can't read drawings. {compat.message}{tail}", icon=":material/block:")
        return fallback
    if compat.message:
        st.info(compat.message, icon=":material/info:")
    mean, std = record.get("mean", (0.1307,)), record.get("std", (0.3081,))
    mean = float(np.ravel(mean)[0])
    std = float(np.ravel(std)[0])
    return ModelChoice(model, [str(c) for c in record["classes"]], mean, std, name)


def big_answer(label: str, confidence: float) -> None:
    st.markdown(
        f"<div style='display:flex;align-items:baseline;gap:1.2rem'>"
        f"<span style='font-size:1.3rem'>The network says</span>"
        f"<span data-testid='draw-answer' style='font-size:4.5rem;font-weight:700;color:#1F5FBF;"
        f"line-height:1'>{label}</span>"
        f"<span style='font-size:1.6rem'>{confidence:.0%} sure</span></div>",
        unsafe_allow_html=True,
    )


def _reveal(signature: str) -> None:
    st.session_state["draw_revealed"] = signature


def answer_panel(probs: np.ndarray, classes: list[str], hidden: bool, signature: str = "") -> None:
    """The top class big, the probability bars, and the low-confidence warning (or the quiz prompt)."""
    if hidden:
        st.markdown("### What will the network say?")
        st.write("Ask the class to guess first, then reveal the answer.")
        st.button(
            "Reveal the answer",
            icon=":material/visibility:",
            key="draw_reveal",
            type="primary",
            on_click=_reveal,
            args=(signature,),
        )
        return
    ans = answer(probs, classes)
    big_answer(ans.label, ans.confidence)
    if ans.warning:
        st.warning(ans.warning, icon=":material/help:")
    st.plotly_chart(probability_figure(probs, classes), width="stretch", config=PLOT_CONFIG, key="draw_probs")


def steps_row(pre: Preprocessed) -> None:
    """The preprocessing steps as small images, left to right."""
    cols = st.columns(len(pre.steps))
    for col, (name, img) in zip(cols, pre.steps, strict=True):
        h, w = img.shape
        caption = f"{name} ({w}×{h})" if not name.startswith(("Scaled", "Normalised")) else name
        if name.startswith("Normalised") and pre.value_range:
            lo, hi = pre.value_range
            caption = f"{name}: values {lo:.2f} to {hi:.2f}"
        with col:
            st.image(enlarge(img, 150), caption=caption)


def grad_cam_panel(model, pre: Preprocessed, classes: list[str], top: int) -> None:
    """Grad-CAM for the top class or a chosen one, beside and over the 28x28 input."""
    options = list(range(len(classes)))
    left, right = st.columns([1, 3])
    with left:
        target = st.selectbox(
            "Explain the evidence for class",
            options,
            index=top,
            format_func=lambda i: f"{classes[i]} (the answer)" if i == top else classes[i],
            key="draw_cam_class",
        )
        st.caption("Red: pixels whose features pushed this class up the most. Blue: little or none.")
    try:
        cam = grad_cam(model, pre.tensor, target=int(target))
    except ValueError as err:
        right.info(f"No Grad-CAM for this model: {err}.")
        return
    right.plotly_chart(cam_figure(pre.steps[-1][1], cam), width="stretch", config=PLOT_CONFIG, key="draw_cam")


def feature_maps_panel(model, pre: Preprocessed) -> None:
    """Each conv layer's channels for this drawing, strongest first."""
    maps = feature_maps(model, pre.tensor)
    if not maps:
        st.info("This model has no convolution layers, so there are no feature maps to show.")
        return
    shown = st.radio("Channels per layer", [8, 16, 32], index=1, horizontal=True, key="draw_channels")
    cols = st.columns(min(3, len(maps)))
    for i, (name, fmap) in enumerate(maps):
        order = channel_order(fmap)[: int(shown)]
        c, h, w = fmap.shape
        with cols[i % len(cols)]:
            st.markdown(f"**{name}**  \n{c} channels of {h}×{w}; the {len(order)} strongest")
            fig = feature_grid_figure(fmap, order, cols=4)
            st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG, key=f"draw_fmap_{i}")
