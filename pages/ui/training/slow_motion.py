"""The Training page's "One step in slow motion" tab: a batch, seen, then the five steps of one
training iteration with a button each (zero_grad, forward, loss, backward, optimizer step).

`render_slow_motion()` draws the whole tab. The SlowStep object lives in st.session_state, so the
walk survives reruns and page changes; every number shown comes from cnnlib.training.one_step (torch).
"""

from __future__ import annotations

import streamlit as st

from cnnlib.data import DatasetError
from cnnlib.spec import DEFAULT_PRESET, preset_label
from cnnlib.training.one_step import (
    STEP_TITLES,
    STEPS,
    OptimizerSettings,
    StepError,
    first_batch,
    parameter_labels,
    setup_slow_step,
    trainable_parameters,
    weight_from_flat,
    weight_title,
)
from pages.ui.resources import get_dataset
from pages.ui.training import slow_motion_views as views
from pages.ui.training.modes import render_modes

STATE = "slow_motion"  # {"sig": tuple, "setup": SlowStepSetup | None, "error": str | None, ...}
DATASETS = {"mnist-sample": "MNIST digits (bundled sample)", "shapes": "Synthetic shapes (colour)"}
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}
BUTTON_LABELS = {
    "zero_grad": "1 · zero_grad()",
    "forward": "2 · forward",
    "loss": "3 · loss",
    "backward": "4 · backward()",
    "step": "5 · step()",
}


def render_slow_motion() -> None:
    """Draw the tab: batch controls and grid, optimizer settings, the five step buttons, the results."""
    st.markdown(
        "A network learns one **batch** at a time. Here one batch goes through a single training step, "
        "slowly: press the five buttons in order and watch what each line of the training loop does to "
        "the numbers. Everything shown is computed by PyTorch."
    )
    state = st.session_state.setdefault(STATE, {"sig": None, "setup": None, "error": None})
    st.subheader("A batch, seen")
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    dataset = c1.selectbox("Dataset", list(DATASETS), format_func=DATASETS.__getitem__, key="sm_dataset")
    batch_size = int(c2.number_input("Batch size", 1, 256, 16, 1, key="sm_batch_size"))
    shuffle = c3.toggle("Shuffle", value=True, key="sm_shuffle", help="DataLoader(shuffle=True)")
    seed = int(c4.number_input("Seed", 0, 10_000, 0, 1, key="sm_seed", help="Random init and shuffle"))
    try:
        bundle = get_dataset(dataset)
    except DatasetError as exc:
        st.error(f"Could not load the dataset: {exc}")
        return
    try:
        batch = first_batch(bundle.train_images, bundle.train_labels, batch_size, shuffle, seed)
    except StepError as exc:
        st.error(str(exc))
        return
    views.show_batch(batch, bundle.classes)

    st.subheader("One step in slow motion")
    settings = _optimizer_controls()
    if settings is None:
        return
    spec = st.session_state.get("model_spec")
    sig = (repr(spec), dataset, batch_size, shuffle, seed, settings)
    if state["sig"] != sig:
        _rebuild(state, sig, spec, bundle, batch_size, shuffle, seed, settings, None)
    if state["setup"] is None:
        st.error(state["error"] or "The step could not be set up.")
        return
    setup = state["setup"]
    weight = _weight_control(setup.slow)
    if weight is not None and weight != setup.slow.weight:
        _rebuild(state, sig, spec, bundle, batch_size, shuffle, seed, settings, weight)
        setup = state["setup"]
    who = (
        "your model from the Model builder"
        if spec
        else f"the {preset_label(DEFAULT_PRESET)}, every page's model (build your own on the Model builder page and it is used here)"
    )
    st.caption(
        f"Model: {who}, freshly initialised from the seed: an untrained network, before its first step."
    )
    if setup.adapted:
        st.caption(
            f"The model was fitted to the {DATASETS[dataset]}: input "
            f"{' × '.join(map(str, bundle.input_shape))}, {len(bundle.classes)} output classes."
        )
    _buttons(state)
    slow = setup.slow
    for name in STEPS:
        if name in slow.results:
            with st.container(border=True):
                st.markdown(f"#### {STEP_TITLES[name]}")
                views.SHOW[name](slow.results[name], setup)
    if "loss" in slow.results:
        views.show_predict_prompt(setup, state)
    render_modes(slow)


def _optimizer_controls() -> OptimizerSettings | None:
    """Optimizer, learning rate and friends; None (with a message next to them) when invalid."""
    c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
    name = c1.selectbox("Optimizer", list(OPTIMIZERS), format_func=OPTIMIZERS.__getitem__, key="sm_optimizer")
    lr = c2.number_input(
        "Learning rate η", 0.0, 10.0, 0.05, 0.01, format="%.4f", key="sm_lr", help="How far each step goes"
    )
    if name == "sgd":
        momentum = c3.slider("Momentum μ", 0.0, 0.99, 0.0, 0.01, key="sm_momentum")
    else:
        momentum = 0.0
        c3.caption("Adam keeps two running averages (m, v) instead of momentum; β₁ = 0.9, β₂ = 0.999.")
    wd = c4.number_input("Weight decay λ", 0.0, 1.0, 0.0, 0.0001, format="%.4f", key="sm_weight_decay")
    settings = OptimizerSettings(name=name, lr=float(lr), momentum=float(momentum), weight_decay=float(wd))
    try:
        settings.validate()
    except StepError as exc:
        st.error(str(exc))
        return None
    if settings.lr == 0:
        st.warning(
            "Learning rate 0: the step will compute everything, but no weight will move (0 × anything = 0)."
        )
    st.caption("Changing any setting above starts the walk over with a freshly initialised model.")
    return settings


def _weight_control(slow):
    """Which single weight to follow: a parameter and a position in it."""
    params = dict(trainable_parameters(slow.model))
    labels = parameter_labels(slow.model)
    if st.session_state.get("sm_weight_param") not in params:
        st.session_state.pop("sm_weight_param", None)
        st.session_state.pop("sm_weight_pos", None)
    c1, c2, c3 = st.columns([4, 2, 3])
    name = c1.selectbox(
        "Weight to follow", list(params), format_func=labels.get, key="sm_weight_param",
        help="Default: the first weight of the first conv kernel",
    )  # fmt: skip
    numel = 1
    for size in params[name]:
        numel *= size
    pos = int(c2.number_input("Position in it", 0, numel - 1, 0, 1, key="sm_weight_pos"))
    try:
        ref = weight_from_flat(name, params[name], pos)
    except StepError as exc:
        c3.error(str(exc))
        return None
    c3.markdown(f"Following  \n**`{weight_title(slow.model, ref)}`**")
    return ref


def _rebuild(state, sig, spec, bundle, batch_size, shuffle, seed, settings, weight) -> None:
    state.update(sig=sig, error=None, step_error=None, revealed=False)
    st.session_state.pop("sm_predict", None)
    try:
        state["setup"] = setup_slow_step(spec, bundle, batch_size, shuffle, seed, settings, weight)
    except StepError as exc:
        state.update(setup=None, error=str(exc))


def _run_step(name: str) -> None:
    state = st.session_state[STATE]
    try:
        state["setup"].slow.run(name)
        state["step_error"] = None
        if name == "zero_grad":
            state["revealed"] = False
            st.session_state.pop("sm_predict", None)
    except StepError as exc:
        state["step_error"] = str(exc)


def _reset() -> None:
    st.session_state[STATE]["sig"] = None  # rebuilt on this rerun: same seed, same fresh model


def _buttons(state) -> None:
    slow = state["setup"].slow
    cols = st.columns(len(STEPS) + 1)
    for col, name in zip(cols, STEPS, strict=False):
        col.button(
            BUTTON_LABELS[name],
            key=f"step_{name}",
            on_click=_run_step,
            args=(name,),
            disabled=name != slow.next_step,
            type="primary" if name == slow.next_step else "secondary",
            width="stretch",
        )
    cols[-1].button("↺ Reset", key="step_reset", on_click=_reset, width="stretch")
    st.caption(
        f"Round {slow.round} on this batch · next: **{STEP_TITLES[slow.next_step]}** · "
        f"following **{slow.weight_title}**"
    )
    if state.get("step_error"):
        st.error(state["step_error"])
