"""Training page: the settings' kept values. Streamlit drops a widget's value when its page (or a
folded section) is not drawn; each setting keeps its last value under "_<key>" in the session, which
the widgets, the page's link and the folded "More settings" read."""

from __future__ import annotations

import streamlit as st

__all__ = ["keep", "kept"]


def kept(key: str, default):
    """The value a setting had when the student last saw it (widget state is dropped off-page)."""
    return st.session_state.get("_" + key, default)


def keep(key: str, value):
    st.session_state["_" + key] = value
    return value
