"""A page's own values that are not widgets (the last good image, kernel, ...): one plain dict.

Each key in `st.session_state` costs every view: Streamlit 1.67 copies the whole session state
for every value widget it draws (`filtered_state`, ~1 µs a key, for each selectbox, radio, number
input, slider and text box), and each read or write through `st.session_state` takes 3-5 µs. A
page keeps what only it reads in one dict under one key and changes that dict in place.
"""

from __future__ import annotations

from typing import Any

import streamlit as st


def memory(name: str) -> dict[str, Any]:
    """The page's dict, kept in this session under `name` (created empty on first use)."""
    return st.session_state.setdefault(name, {})
