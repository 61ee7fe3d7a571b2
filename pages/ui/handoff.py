"""The hand-off between the Model builder and the Training page: which model Training will train.

The builder sends a spec by storing it in `st.session_state["model_spec"]`. Training selects a newly
sent model once (it remembers the spec's signature under `SEEN_KEY`); after that the student's own
pick on Training (under `PICKED_KEY`) stands. The builder reads the same keys to say which model
Training will use, so both pages share these names and this signature.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import streamlit as st

from cnnlib.spec import DEFAULT_PRESET

BUILDER_OPTION = "Your model (from the Model builder)"  # Training's menu entry for the sent model
DEFAULT_OPTION = DEFAULT_PRESET  # what Training trains when nothing was sent or picked: the Digit CNN
PICKED_KEY = "_tr_model"  # Training's remembered menu choice
SEEN_KEY = "tr_builder_sig"  # signature of the last sent spec Training has selected


def spec_signature(spec: dict[str, Any]) -> str:
    """A short fingerprint of a spec dict, to tell a newly sent model from one already seen."""
    return hashlib.sha1(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def mark_sent() -> None:
    """Make Training select the sent model on its next run, even if the same spec was sent before."""
    st.session_state.pop(SEEN_KEY, None)


def select_if_new(sent: dict[str, Any]) -> bool:
    """On Training: select the sent model once per new spec. True when it was newly selected."""
    sig = spec_signature(sent)
    if st.session_state.get(SEEN_KEY) == sig:
        return False
    st.session_state[SEEN_KEY] = sig
    st.session_state[PICKED_KEY] = BUILDER_OPTION
    return True


def training_choice() -> tuple[str, str]:
    """(the model Training will train, why): "sent" from the builder, "picked" there, or its "default"."""
    sent = st.session_state.get("model_spec")
    picked = st.session_state.get(PICKED_KEY)
    if sent and (st.session_state.get(SEEN_KEY) != spec_signature(sent) or picked in (None, BUILDER_OPTION)):
        return st.session_state.get("model_spec_name") or "your model", "sent"
    if picked in (None, BUILDER_OPTION):
        return DEFAULT_OPTION, "default"
    return str(picked), "picked"
