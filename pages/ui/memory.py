"""A page's own values that are not widgets (the last good image, kernel, ...): one plain dict.

Each read or write through `st.session_state` takes 3-5 µs (a dict's: nothing), and each key is
one more entry in every full copy of the state Streamlit makes (`st.session_state.to_dict()`, ~1 µs
a key; in 1.67 also each value widget, unless pages/ui/runtime/widget_state.py is installed). A page keeps
what only it reads in one dict under one key and changes that dict in place.
"""

from __future__ import annotations

from typing import Any

import streamlit as st


def memory(name: str) -> dict[str, Any]:
    """The page's dict, kept in this session under `name` (created empty on first use)."""
    return st.session_state.setdefault(name, {})
