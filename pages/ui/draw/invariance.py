"""Draw & predict, the invariance section: shift, turn and scale the student's own drawing.

Built only while its expander is open (a keyed expander, `on_change="rerun"`): closed, it costs one
widget. Open, four sliders in one row move the preprocessed 28x28 drawing
(`cnnlib.inference.predict_moved`), the network answers for the moved drawing, and a PNG chart
(`cnnlib.plots.sweep_picture`) shows each class's probability across one slider's whole range
(`cnnlib.inference.sweep`, one forward pass of at most 21 images), so the student sees where the
answer flips. A second keyed expander nudges the drawing with FGSM (`cnnlib.inference.fgsm_nudge`).

The controls are a fragment inside the page's drawing fragment: a slider reruns this section only,
not the canvas, Grad-CAM and the feature maps. The last sweep is kept in the page's memory dict
(`pages/ui/memory.py`) and computed again only when the drawing, the model or another slider changes.
"""

from __future__ import annotations

import html

import numpy as np
import streamlit as st

from cnnlib.inference import (
    ANGLE_LIMIT,
    SCALE_RANGE,
    SHIFT_LIMIT,
    SWEEP_KINDS,
    Preprocessed,
    answer,
    fgsm_nudge,
    predict_moved,
    sweep,
    sweep_values,
)
from cnnlib.plots import framed, sweep_picture
from pages.ui.draw.views import ModelChoice
from pages.ui.glossary import explain_caption
from pages.ui.memory import memory

OPEN_KEY = "draw_inv_open"
FOOL_KEY = "draw_inv_fool_open"
SLIDERS = {
    "shift_x": "draw_inv_dx",
    "shift_y": "draw_inv_dy",
    "angle": "draw_inv_angle",
    "scale": "draw_inv_scale",
}
AT_REST = {"shift_x": 0, "shift_y": 0, "angle": 0, "scale": 1.0}
SWEEP_KEY = "draw_inv_sweep"
MEMORY = "draw_inv_memory"  # the last sweep: (what it was computed for, probabilities)
SHORT = {"shift_x": "Shift →", "shift_y": "Shift ↓", "angle": "Rotate", "scale": "Scale"}
NO_DRAWING = "Draw a digit first (or upload one): then move it here and watch the answer."
HIDDEN = "Reveal the answer first: moving the drawing would give it away."


def _ready(pre: Preprocessed | None, hidden: bool) -> bool:
    """A drawing to move and an answer that may be shown; otherwise say why not."""
    if pre is None or pre.empty or pre.tensor is None:
        st.info(NO_DRAWING, icon=":material/draw:")
        return False
    if hidden:
        st.info(HIDDEN, icon=":material/visibility_off:")
        return False
    return True


def section(choice: ModelChoice, pre: Preprocessed | None, hidden: bool) -> None:
    """The section's two expanders (move it; fool it), their content only while open."""
    box = st.expander(
        "Move your drawing: does the answer survive a shift, a turn, a resize?",
        key=OPEN_KEY,
        on_change="rerun",
        icon=":material/open_with:",
    )
    if box.open:
        with box:
            if _ready(pre, hidden) and pre is not None:
                explain_caption(
                    "A convolution finds a stroke wherever it is, but pooling, the dense layers and the "
                    "training digits (always centred, about 20 px tall, upright) make the network's answer "
                    "depend on where the digit sits. Move your drawing and watch; the chart runs one slider "
                    "over its whole range (one batch through the network) and shows where the answer flips.",
                    once=False,
                )
                moves(choice, pre.steps[-1][1], pre.signature)
    fool = st.expander(
        "Fool the network: a nudge too faint to notice (FGSM)",
        key=FOOL_KEY,
        on_change="rerun",
        icon=":material/blur_on:",
    )
    if fool.open:
        with fool:
            if _ready(pre, hidden) and pre is not None:
                nudge(choice, pre.steps[-1][1])


def _follow(kind: str) -> None:
    """The chart follows the slider the student moved last."""
    st.session_state[SWEEP_KEY] = kind


def _rest() -> None:
    for kind, key in SLIDERS.items():
        st.session_state[key] = AT_REST[kind]


@st.fragment
def moves(choice: ModelChoice, grey28: np.ndarray, signature: str) -> None:
    """The sliders, the moved drawing and its answer, and the sweep chart (a fragment of its own)."""
    for kind, key in SLIDERS.items():  # values from the state only (a Reset sets them there)
        st.session_state.setdefault(key, AT_REST[kind])
    row = st.container(horizontal=True, vertical_alignment="bottom", key="draw_inv_sliders")
    dx = row.slider("Shift right (px)", -SHIFT_LIMIT, SHIFT_LIMIT, key=SLIDERS["shift_x"],
                    on_change=_follow, args=("shift_x",))  # fmt: skip
    dy = row.slider("Shift down (px)", -SHIFT_LIMIT, SHIFT_LIMIT, key=SLIDERS["shift_y"],
                    on_change=_follow, args=("shift_y",))  # fmt: skip
    angle = row.slider("Rotate ↺ (degrees)", -int(ANGLE_LIMIT), int(ANGLE_LIMIT), step=5,
                       key=SLIDERS["angle"], on_change=_follow, args=("angle",))  # fmt: skip
    scale = row.slider("Scale (× size)", SCALE_RANGE[0], SCALE_RANGE[1], step=0.1, format="%.1f",
                       key=SLIDERS["scale"], on_change=_follow, args=("scale",))  # fmt: skip
    row.button("Reset", icon=":material/restart_alt:", key="draw_inv_reset", on_click=_rest)
    pose = {"shift_x": dx, "shift_y": dy, "angle": angle, "scale": scale}
    try:
        image, probs = predict_moved(
            choice.model, grey28, (dx, dy), angle, scale, mean=choice.mean, std=choice.std
        )
        ans = answer(probs, choice.classes)
    except ValueError as err:
        st.error(f"This drawing could not be moved: {err}", icon=":material/error:")
        return

    out = st.container(horizontal=True, gap="medium", key="draw_inv_row")
    with out.container(width=190):
        st.image(framed(image, 150, units=28), caption="The moved drawing (28×28)", width=150)
        st.markdown(
            f"<span data-testid='draw-moved-answer'>The network reads "
            f"<b style='font-size:1.6rem;color:#1F5FBF'>{html.escape(ans.label)}</b> "
            f"({ans.confidence:.0%} sure)</span>",
            unsafe_allow_html=True,
        )
    with out.container():
        _sweep_chart(choice, grey28, signature, pose)


def _sweep_chart(choice: ModelChoice, grey28: np.ndarray, signature: str, pose: dict) -> None:
    """Which slider the chart runs along, and the chart (kept while only that slider moves)."""
    st.session_state.setdefault(SWEEP_KEY, "shift_x")
    picked = st.segmented_control(
        "Chart along", list(SWEEP_KINDS), format_func=SHORT.__getitem__, key=SWEEP_KEY
    )
    kind = picked if picked in SWEEP_KINDS else "shift_x"  # a second click on the picked one clears it
    others = {k: v for k, v in pose.items() if k != kind}
    seen = (signature, id(choice.model), choice.mean, choice.std, kind, tuple(sorted(others.items())))
    kept = memory(MEMORY).get("inv_sweep")
    if kept is not None and kept[0] == seen:
        probs = kept[1]
    else:
        try:
            probs = sweep(choice.model, grey28, kind, shift=(pose["shift_x"], pose["shift_y"]), angle=pose["angle"],
                          scale=pose["scale"], mean=choice.mean, std=choice.std)  # fmt: skip
        except ValueError as err:
            st.error(f"No chart for this model: {err}", icon=":material/error:")
            return
        memory(MEMORY)["inv_sweep"] = (seen, probs)
    values = sweep_values(kind)
    chart = sweep_picture(values, probs, choice.classes, pose[kind], SWEEP_KINDS[kind])
    st.image(chart, width=680)  # its own size (narrower: scaled down); stretched on a projector it blurs
    st.caption(
        "Top strip: the network's answer at every value of the slider (the outlined cell is where it is "
        "now). Lines: each class's probability; classes that never reach 5 % are left out."
    )


@st.fragment
def nudge(choice: ModelChoice, grey28: np.ndarray) -> None:
    """FGSM: every pixel moved by epsilon in the direction that hurts the answer most (a fragment)."""
    explain_caption(
        "The fast gradient sign method (Goodfellow et al., 2015) asks the network's own gradient which "
        "way each pixel should move to make its answer less likely, then moves every pixel by the same "
        "small step, epsilon, that way. A change a person hardly sees can flip the answer.",
        once=False,
    )
    st.session_state.setdefault("draw_inv_eps", 0.1)
    eps = st.slider("Epsilon (how far each pixel may move, 0 to 1 = black to white)", 0.0, 0.3,
                    step=0.01, format="%.2f", key="draw_inv_eps")  # fmt: skip
    try:
        result = fgsm_nudge(choice.model, grey28, eps, mean=choice.mean, std=choice.std)
    except ValueError as err:
        st.error(f"No nudge for this model: {err}", icon=":material/error:")
        return
    before, after = answer(result.before, choice.classes), answer(result.after, choice.classes)
    was = choice.classes[result.target]
    row = st.container(horizontal=True, gap="medium", vertical_alignment="center")
    row.image(
        framed(grey28, 150, units=28), caption=f"Before: {before.label} ({before.confidence:.0%})", width=150
    )
    row.image(framed(result.image, 150, units=28), caption=f"Nudged: {after.label} ({after.confidence:.0%})",
              width=150)  # fmt: skip
    flipped = "flipped" if after.label != before.label else "held"
    row.markdown(
        f"<span data-testid='draw-nudged-answer'>The answer {flipped}: "
        f"<b style='font-size:1.6rem;color:#1F5FBF'>{html.escape(after.label)}</b> "
        f"({after.confidence:.0%} sure). {html.escape(was)} went from {result.before[result.target]:.0%} "
        f"to {result.after[result.target]:.0%}.</span>",
        unsafe_allow_html=True,
    )
