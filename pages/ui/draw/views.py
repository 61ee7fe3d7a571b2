"""Draw & predict, the output side: the model selector, the answer, the preprocessing steps,
Grad-CAM and the feature maps. Every number comes from cnnlib.inference."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from cnnlib.inference import (
    DRAW_LINK,
    Preprocessed,
    PretrainedError,
    answer,
    channel_order,
    check_compatible,
    feature_maps,
    grad_cam,
    model_from_record,
    naive_image,
    naive_resize,
    predict,
)
from cnnlib.plots import cam_figure, feature_grid_figure, framed, probability_figure
from cnnlib.spec import DIGIT_CNN, preset_label
from pages.ui.classes.class_model import ClassChoice, class_choice
from pages.ui.figures import chart, plain
from pages.ui.live_plotly import live_plotly
from pages.ui.resources import get_pretrained

if TYPE_CHECKING:  # for the annotations only: pages never import torch
    from torch import nn

PLOT_CONFIG = {"displayModeBar": False}
CLASS_MODEL = -1  # the model selector's value for the class's shared model
FIT_MIN_H = 140  # the answer's bars and Grad-CAM shrink to end inside the window (live_plotly's fit), to this


@dataclass
class ModelChoice:
    model: nn.Module
    classes: list[str]
    mean: float
    std: float
    title: str


def _pct(x: float | None) -> str:
    return "test accuracy unknown" if x is None or x != x else f"test accuracy {x:.1%}"


def _record_label(record: dict, i: int) -> str:
    """A session model's menu entry: its name, plus its test accuracy unless the name has it."""
    name = str(record.get("name") or f"model {i + 1}")
    acc = record.get("test_accuracy")
    shown = acc is not None and acc == acc and f"{acc:.1%}" in name
    return f"Trained this session: {name}" + ("" if shown else f" · {_pct(acc)}")


def _session_model(record: dict):
    """(model or None, Compatibility) for a session record, built once per record (~90 ms) and kept
    in the session until another record is picked (the record itself is held, so it is the same one)."""
    kept = st.session_state.get("draw_built_model")
    if kept is not None and kept[0] is record:
        return kept[1], kept[2]
    compat = check_compatible(record.get("spec") or {}, record.get("classes"))
    model = None
    if compat.ok:
        try:
            model = model_from_record(record)
            compat = check_compatible(model, record.get("classes"))
        except Exception as err:  # noqa: BLE001 - a broken record must not break the page
            detail = str(err).replace("\n", " ")
            detail = detail if len(detail) <= 160 else detail[:160] + "…"
            compat = type(compat)(False, f"Its weights could not be loaded ({detail}).")
    st.session_state["draw_built_model"] = (record, model, compat)
    return model, compat


def _class_model(shared: ClassChoice, fallback: ModelChoice | None) -> ModelChoice | None:
    """The class's shared model, or the bundled one with the reason when it cannot draw."""
    if shared.model is None or shared.record is None:
        tail = f" Showing the pretrained {DIGIT_CNN} instead." if fallback else ""
        st.error(f"The class's model can't read drawings. {shared.refused}{tail}", icon=":material/block:")
        return fallback
    if shared.note:
        st.info(shared.note, icon=":material/info:")
    record = shared.record
    mean = float(np.ravel(record.get("mean") or (0.1307,))[0])
    std = float(np.ravel(record.get("std") or (0.3081,))[0])
    return ModelChoice(shared.model, [str(c) for c in record["classes"]], mean, std, shared.name)


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
    shared = class_choice()
    labels = {0: f"{preset_label(DIGIT_CNN)}, pretrained · {_pct(pre.test_accuracy)}"} if pre else {}
    if shared is not None:
        labels[CLASS_MODEL] = shared.label
    offset = 1 if pre else 0
    labels.update({offset + i: _record_label(r, i) for i, r in enumerate(records)})
    if not labels:
        st.warning("No model to use yet: train one on the Training page (on the MNIST sample).")
        return None
    # The bundled Digit CNN stays selected until the student picks their own: a run trained meanwhile
    # (by them or the class) joins the menu but never takes over the teacher's drawing by itself.
    # Options are stable values (the class's model is CLASS_MODEL), so a model shared or trained
    # meanwhile never shifts what is selected.
    picked = st.selectbox("Model", list(labels), format_func=labels.__getitem__, key="draw_model")
    fallback = (
        ModelChoice(pre.model, pre.classes, pre.mean, pre.std, f"the pretrained {DIGIT_CNN}") if pre else None
    )
    if picked == CLASS_MODEL and shared is not None:
        return _class_model(shared, fallback)
    index = int(picked or 0) - offset
    if index < 0 or index >= len(records):
        return fallback
    record = records[index]
    name = record.get("name", "this model")
    model, compat = _session_model(record)
    if not compat.ok:
        tail = f" Showing the pretrained {DIGIT_CNN} instead." if fallback else ""
        st.error(f"**{name}** can't read drawings. {compat.message}{tail}", icon=":material/block:")
        return fallback
    if compat.message:
        st.info(compat.message, icon=":material/info:")
    mean, std = record.get("mean", (0.1307,)), record.get("std", (0.3081,))
    mean = float(np.ravel(mean)[0])
    std = float(np.ravel(std)[0])
    return ModelChoice(model, [str(c) for c in record["classes"]], mean, std, name)


def big_answer(label: str, confidence: float) -> None:
    """The answer in big type: st.html (HTML in st.markdown would load rehype-raw, 188 kB of JS)."""
    st.html(
        "<div style='font-size:1.25rem'>The network says</div>"
        "<div style='display:flex;flex-wrap:wrap;align-items:baseline;column-gap:1.2rem'>"
        f"<span data-testid='draw-answer' style='font-size:4.5rem;font-weight:700;color:#1F5FBF;"
        f"line-height:1.05'>{html.escape(label)}</span>"
        f"<span style='font-size:1.6rem'>{confidence:.0%} sure</span></div>"
    )


def _reveal(signature: str) -> None:
    st.session_state["draw_revealed"] = signature


def answer_panel(
    probs: np.ndarray,
    classes: list[str],
    hidden: bool,
    signature: str = "",
    held: bool = False,
    model: str = "",
) -> None:
    """The top class big, the probability bars, and the low-confidence warning (or the quiz prompt;
    `held`: the teacher is asking the class, so only the teacher's reveal shows the answer)."""
    if model:
        st.caption(f"Model: {model}")
    if hidden:
        st.markdown("### What will the network say?")
        if held:
            st.write("Your teacher is asking the class: answer in the poll; the network's answer shows "
                     "when the teacher reveals it.")  # fmt: skip
            return
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
    live_plotly(
        plain(probability_figure(probs, classes)),
        key="draw_probs",
        stamp=0.0,
        config=PLOT_CONFIG,
        fit=FIT_MIN_H,
    )


def steps_row(pre: Preprocessed, source: str = "canvas") -> None:
    """The preprocessing steps as equal-sized cards, left to right (grey: outside the image)."""
    cards = st.container(horizontal=True)  # one block for the row (columns cost a block each)
    for i, (name, img) in enumerate(pre.steps):
        h, w = img.shape
        caption = f"{name} ({w}×{h})"
        if i == 0 and source != "canvas":
            caption = f"Your image ({w}×{h})"
        elif name.startswith("Scaled"):
            caption = f"{name}, shown inside 28×28"
        elif name.startswith("Centred"):
            caption = name
        elif name.startswith("Normalised") and pre.value_range:
            lo, hi = pre.value_range
            caption = f"Normalised: values {lo:.2f} to {hi:.2f}"
        cards.image(framed(img, 150, units=None if i < 2 else 28), caption=caption, width="stretch")


def naive_comparison(choice: ModelChoice, image: np.ndarray, probs: np.ndarray) -> None:
    """This drawing squashed whole to 28x28 (no crop, no centring) and what the network says to it."""
    naive = answer(predict(choice.model, naive_resize(image, choice.mean, choice.std)), choice.classes)
    proper = answer(probs, choice.classes)
    left, right = st.columns([1, 3], vertical_alignment="center")
    left.image(framed(naive_image(image), 150, units=28), caption="Squashed whole to 28×28", width=150)
    right.markdown(
        f"Squashed whole, with no crop and no centring, your drawing would be read as "
        f"**{html.escape(naive.label)}** ({naive.confidence:.0%} sure). Through the MNIST recipe it is "
        f"**{html.escape(proper.label)}** ({proper.confidence:.0%} sure)."
    )


def grad_cam_panel(model, pre: Preprocessed, classes: list[str], top: int) -> None:
    """Grad-CAM for the answer (the default, following each new drawing) or a chosen class.

    The options' words never name the answer: a label that changes with each stroke goes stale in the
    browser (it keeps the old words) and resets a class chosen by hand once it becomes the answer. The
    answer is said in the caption under the selector instead."""
    options = [-1, *range(len(classes))]  # -1: whatever the network answers

    def label(i: int) -> str:
        return "The network's answer" if i < 0 else classes[i]

    choice = st.selectbox(
        "Explain the evidence for class",
        options,
        format_func=label,
        key=f"draw_cam_class_{len(classes)}",  # a model with other classes starts afresh
        label_visibility="collapsed",  # the heading above says it (one line less: issue 25)
    )
    target = top if choice is None or choice < 0 else int(choice)
    if choice is None or choice < 0:
        said = f"Evidence for the network's answer, **{classes[top]}**."
    elif target == top:
        said = f"Evidence for **{classes[target]}**, which is also the network's answer."
    else:
        said = f"Evidence for **{classes[target]}**; the network's answer is **{classes[top]}**."
    # One caption (one element): what it explains, then how to read the colours.
    st.caption(f"{said} Yellow: pixels that pushed this class up the most; dark purple: little or none.")
    assert pre.tensor is not None  # the page explains only a drawing with ink
    try:
        cam = grad_cam(model, pre.tensor, target=target)
    except ValueError as err:
        st.info(f"No Grad-CAM for this model: {err}.")
        return
    live_plotly(
        plain(cam_figure(pre.steps[-1][1], cam)), key="draw_cam", stamp=0.0, config=PLOT_CONFIG, fit=FIT_MIN_H
    )


def feature_maps_panel(model, pre: Preprocessed) -> None:
    """Each conv layer's channels for this drawing, strongest first."""
    assert pre.tensor is not None  # the page explains only a drawing with ink
    try:
        maps = feature_maps(model, pre.tensor)
    except ValueError as err:  # priced before it runs: too big for the shared server
        st.info(f"No feature maps for this model: {err}")
        return
    if not maps:
        st.info("This model has no convolution layers, so there are no feature maps to show.")
        return
    st.session_state.setdefault("draw_channels", 16)
    shown = st.radio("Channels per layer", [8, 16, 32], horizontal=True, key="draw_channels")
    cols = st.columns(min(3, len(maps)))
    for i, (name, fmap) in enumerate(maps):
        order = channel_order(fmap)[: int(shown)]
        c, h, w = fmap.shape
        with cols[i % len(cols)]:
            conv, *after = name.split(" → ")
            st.markdown(f"**{conv}**")
            st.caption(
                f"{'read after ' + ' → '.join(after) if after else 'raw conv output'} · {c} maps of {h}×{w}, {len(order)} strongest"
            )
            fig = feature_grid_figure(fmap, order, cols=4)
            chart(st, fig, config=PLOT_CONFIG, key=f"draw_fmap_{i}")


def apply_link(values: dict) -> None:
    """A link's state (cnnlib.inference.DRAW_LINK) into the page's widgets, before they are drawn."""
    v = {**DRAW_LINK.defaults, **values}
    ss = st.session_state
    ss["draw_model"] = 0  # the pretrained digit CNN: models trained in a session never travel in links
    ss["draw_pen"] = int(v["pen"])
    ss["draw_channels"] = int(v["channels"])
    ss["draw_quiz"] = bool(v["quiz"])
    ss["draw_mode"] = v["input"]


def link_values() -> dict:
    """The page's state for its link (a session's own model is not in it: links open the pretrained one)."""
    ss = st.session_state
    return {
        "pen": int(ss.get("draw_pen", 20)),
        "channels": int(ss.get("draw_channels", 16)),
        "quiz": bool(ss.get("draw_quiz", False)),
        "input": ss.get("draw_mode", "Draw"),
    }
