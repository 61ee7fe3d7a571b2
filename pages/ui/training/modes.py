"""Slow motion's "Train mode or eval mode?": what `model.train()` and `model.eval()` change.

Drawn only when its expander is open (a keyed expander that reruns on open). The numbers come from
`cnnlib.training.one_step.mode_comparison`: the model's Dropout and BatchNorm2d layers, each given
the input it received from this batch, in train mode and in eval mode, and the first image's logits
in both modes.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cnnlib.training.one_step import mode_comparison
from pages.ui.glossary import explain

INTRO = (
    "`model.train()` and `model.eval()` change only two kinds of layer. **Dropout** in train mode "
    "zeroes values at random and scales the others up by 1 / (1 − p); in eval mode it lets everything "
    "through. **Batch norm** in train mode normalises with this batch's mean and variance; in eval "
    "mode with the running averages it kept while training. That is why a model must be switched "
    "to eval mode before it is tested: the same image, two answers."
)


def render_modes(slow) -> None:
    """The expander, for the slow-motion step's model and batch (`slow` is its SlowStep)."""
    box = st.expander(
        "Train mode or eval mode? Dropout and batch norm on this batch",
        icon=":material/compare_arrows:",
        key="sm_modes",
        on_change="rerun",
    )
    if not box.open:
        return
    with box:
        try:
            got = mode_comparison(slow.model, slow.x, seed=slow.seed)
        except ValueError as exc:
            st.info(str(exc), icon=":material/info:")
            return
        explain(INTRO, once=False)
        if got.demo:
            st.caption(
                "This model has no dropout or batch norm layer, so both modes give it the same answer. "
                "Here is what the two layers would do to its first convolution's output."
            )
        for layer in got.layers:
            st.markdown(f"**{layer.name}** (first image, channel 1, its first {len(layer.inputs)} values)")
            table = pd.DataFrame(
                [layer.inputs, layer.train, layer.eval],
                index=["input", "train mode", "eval mode"],
                columns=[str(i + 1) for i in range(len(layer.inputs))],
            )
            st.dataframe(table.style.format("{:.4f}"), width="stretch")
            st.caption(layer.note)
        k = len(got.logits_eval)
        logits = pd.DataFrame(
            [got.logits_train, got.logits_eval],
            index=["train mode", "eval mode"],
            columns=[str(i) for i in range(k)],
        )
        st.markdown("**The whole model's logits for the first image**")
        st.dataframe(logits.style.format("{:.4f}"), width="stretch")
