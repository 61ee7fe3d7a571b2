"""Views for the slow-motion tab: the batch grid and what each of the five steps shows.

UI only: the numbers come from cnnlib.training.one_step results, the figures from cnnlib.plots.step.
"""

from __future__ import annotations

import streamlit as st

from cnnlib.plots import (
    batch_grid_figure,
    grad_norms_figure,
    kernel_step_figure,
    loss_reveal_figure,
    nll_figure,
    probs_figure,
)
from cnnlib.training.one_step import STEP_CODE, StepError, fmt
from pages.ui.figures import chart

CHART_CONFIG = {"displayModeBar": False}


def _chart(fig, key: str) -> None:
    """A Plotly figure as cnnlib.plots.step styled it (dark, large text; not Streamlit's theme)."""
    chart(st, fig, key=key, config=CHART_CONFIG)


def _shape(shape) -> str:
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def show_batch(batch, classes) -> None:
    """The DataLoader's first batch: shape, a grid with labels, and what batch size and shuffle do."""
    c1, c2, c3 = st.columns(3)
    c1.metric("Batch tensor shape", _shape(batch.shape), help="[batch, channels, height, width]")
    c2.metric("Batches per epoch", f"{batch.batches_per_epoch:,}")
    c3.metric("Training images", f"{batch.dataset_size:,}")
    _chart(batch_grid_figure(batch.images, batch.labels, classes), key="sm_batch_grid")
    shown = min(32, batch.shape[0])
    counts = batch.label_counts(len(classes))
    st.caption(
        (f"The first {shown} of {batch.shape[0]} images. " if shown < batch.shape[0] else "")
        + "Labels in this batch: "
        + ", ".join(f"{c} ×{n}" for c, n in zip(classes, counts, strict=True) if n)
    )
    with st.expander("What do batch size and shuffle change?"):
        st.markdown(
            f"- **Batch size {batch.batch_size}**: the network looks at {batch.batch_size} images, averages "
            f"their losses, and takes *one* step. One pass over the {batch.dataset_size:,} training images "
            f"(an **epoch**) is {batch.batches_per_epoch:,} steps; the last batch holds "
            f"{batch.last_batch_size}. Bigger batches: fewer, smoother steps; smaller: more, noisier ones.\n"
            + (
                "- **Shuffle on**: each epoch the DataLoader deals the images in a new random order (the seed "
                "fixes it), so every batch is a fair mix of classes. Change the seed to draw another batch."
                if batch.shuffle
                else "- **Shuffle off**: the batch is always the first images of the dataset, in the same "
                "order every epoch. If the data were sorted by class, a batch would hold one class only and "
                "the network would lurch from class to class."
            )
        )


def show_zero_grad(res, setup) -> None:
    st.code(STEP_CODE["zero_grad"], language="python")
    if res.grad_before is None:
        st.markdown(
            "Round 1: no gradients yet, every `.grad` is empty. From round 2 on, this line clears the "
            "previous round's gradients. It matters because `backward()` **adds** to `.grad`: without "
            "it, old gradients would pile up."
        )
    else:
        c1, c2 = st.columns(2)
        c1.metric(f"{setup.slow.weight_title}.grad before", fmt(res.grad_before))
        c2.metric("Gradient tensors cleared", res.cleared)
        st.markdown("The old gradients are gone (set to `None`); the next backward pass starts from zero.")


def show_forward(res, setup) -> None:
    st.code(f"logits = model(x)   # x: {_shape(res.input_shape)}  →  logits: {_shape(res.output_shape)}")
    c1, c2 = st.columns(2)
    c1.metric("Input x", _shape(res.input_shape))
    c2.metric("Logits", _shape(res.output_shape), help="[batch, classes]: one score per class per image")
    labels = setup.batch.labels
    _chart(probs_figure(res.logits, res.probs, labels, setup.classes, res.shown), key="sm_probs")
    i = res.shown[0]
    st.markdown(
        f"Softmax turns image {i}'s logits into probabilities; its true class is **{setup.classes[int(labels[i])]}**:"
    )
    st.latex(res.softmax_latex(i, int(labels[i])))
    with st.expander("The logits and probabilities as numbers"):
        st.dataframe(res.rows(labels, setup.classes), hide_index=True, width="stretch")
    with st.expander("What are logits and softmax?"):
        st.markdown(
            "The last layer outputs one raw score per class, a **logit** (any number). **Softmax** makes "
            "them probabilities: $p_k = e^{z_k} / \\sum_j e^{z_j}$, all between 0 and 1, adding up to 1. "
            "An untrained network gives every class about the same probability: it is guessing."
        )


def show_loss(res, setup) -> None:
    st.code("loss = criterion(logits, y)   # criterion = nn.CrossEntropyLoss()")
    c1, c2, c3 = st.columns(3)
    c1.metric("Loss (cross-entropy)", fmt(res.loss))
    c2.metric("Mean of −log p(true class)", fmt(float(res.nll_true.mean())))
    c3.metric("Guessing would give", fmt(res.guess_loss, 4), help="−log(1 / classes): equal odds for all")
    st.latex(res.latex())
    _chart(nll_figure(res.nll_true, res.labels, setup.classes, res.loss), key="sm_nll")
    st.markdown(
        "Each bar is one image's −log p(true class): near 0 when the network gives the right class a "
        "high probability, large when it is confidently wrong. The loss is their average."
    )


def show_backward(res, setup) -> None:
    st.code(STEP_CODE["backward"], language="python")
    name = setup.slow.weight_title
    c1, c2 = st.columns(2)
    c1.metric(f"Weight {name}", fmt(res.value))
    c2.metric("Its gradient ∂L/∂w", fmt(res.grad))
    if res.grad > 0:
        st.markdown(
            "The gradient is **positive**: making this weight bigger would *raise* the loss, so the step will make it smaller."
        )
    elif res.grad < 0:
        st.markdown(
            "The gradient is **negative**: making this weight bigger would *lower* the loss, so the step will make it bigger."
        )
    else:
        st.markdown(
            "The gradient is **0**: this weight does not affect the loss on this batch (e.g. a ReLU after it output 0)."
        )
    if res.kernel is not None:
        _chart(
            kernel_step_figure(res.kernel, res.kernel_grad, None, res.weight.index[2:4]), key="sm_kernel_grad"
        )
        st.caption("The kernel that holds the chosen weight (boxed): red = positive, blue = negative.")
    with st.expander("Every layer's gradient size"):
        _chart(grad_norms_figure(res.grad_norms), key="sm_grad_norms")
        st.caption("Autograd walked back from the loss through every layer, filling each weight's `.grad`.")


def show_step(res, setup) -> None:
    st.code(STEP_CODE["step"], language="python")
    c1, c2, c3 = st.columns([5, 5, 4])
    c1.metric("Weight before", fmt(res.before, 7))
    c2.metric("Weight after", fmt(res.after, 7))
    c3.metric("Change", fmt(res.change, 4))
    st.markdown(f"The gradient was **{fmt(res.grad)}**; the update rule, with the numbers PyTorch used:")
    for line in res.rule.lines:
        st.latex(line)
    for note in res.notes:
        st.info(note)
    if res.kernel_before is not None:
        fig = kernel_step_figure(res.kernel_before, None, res.kernel_after, res.weight.index[2:4])
        _chart(fig, key="sm_kernel_step")
    st.caption("Every other weight moved by the same rule, with its own gradient: all at once, in one step.")


def show_predict_prompt(setup, state) -> None:
    """'Will the loss go down or up after the step?', revealed by recomputing the loss."""
    slow = setup.slow
    with st.container(border=True):
        st.markdown("#### :material/psychology: Predict, then reveal")
        st.radio(
            "After the optimizer step, will the loss on this same batch go **down** or **up**?",
            ["down", "up", "same"],
            format_func={"down": "⬇️ down", "up": "⬆️ up", "same": "stays the same"}.get,
            index=None,
            horizontal=True,
            key="sm_predict",
        )
        if "step" not in slow.results:
            st.caption("Ask the class, pick an answer, then take the step.")
            return
        st.button("Reveal the new loss", key="reveal_loss", on_click=_reveal, args=(state,))
        if state.get("reveal_error"):
            st.error(state["reveal_error"])
        rev = slow.results.get("reveal")
        if rev is None:
            return
        c1, c2 = st.columns(2)
        c1.metric("Loss before the step", fmt(rev.loss_before))
        c2.metric(
            "Loss after the step",
            fmt(rev.loss_after),
            delta=fmt(rev.loss_after - rev.loss_before, 4),
            delta_color="inverse",
        )
        answer = rev.direction
        guess = st.session_state.get("sm_predict")
        text = {
            "down": "The loss went **down**: each weight moved a little against its gradient, downhill for "
            "this batch.",
            "up": "The loss went **up**: the step overshot. The gradient only promises 'downhill' for tiny "
            "steps; try a smaller learning rate.",
            "same": "The loss **stayed the same**: no weight moved (learning rate 0), so the network's "
            "outputs are exactly what they were.",
            "blew up": "The loss **blew up** (it is no longer a number): the learning rate is so large that the "
            "step threw the weights far past the minimum. Reset and try a smaller one.",
        }[answer]
        if answer == "blew up":
            answer = "up"
        if guess is None:
            st.info(text)
        elif guess == answer:
            st.success("Right! " + text)
        else:
            st.warning("Not this time. " + text)
        _chart(loss_reveal_figure(rev.p_true_before, rev.p_true_after), key="sm_reveal")


def _reveal(state) -> None:
    try:
        state["setup"].slow.reveal_loss_after()
        state["reveal_error"] = None
    except StepError as exc:
        state["reveal_error"] = str(exc)


SHOW = {
    "zero_grad": show_zero_grad,
    "forward": show_forward,
    "loss": show_loss,
    "backward": show_backward,
    "step": show_step,
}
