"""The glossary as a compact popover: one line per term (tensor, channel, ... learning rate).

The frame calls `render_glossary()` inside the sidebar; any page may call it where it helps.
"""

from __future__ import annotations

import streamlit as st

from cnnlib.glossary import GLOSSARY


def glossary_markdown() -> str:
    """The glossary as a Markdown list: **term**: definition."""
    return "\n".join(f"- **{term}**: {text}" for term, text in GLOSSARY.items())


def render_glossary(label: str = ":material/menu_book: Glossary", key: str = "glossary_popover") -> None:
    """A popover button that opens the whole glossary (put it in the sidebar or next to a control)."""
    # Filled only while open: every page shows the button, and the list is ~3 KB a view otherwise.
    with st.popover(
        label, width="stretch", key=key, help="The words of CNNs, in plain language", on_change="rerun"
    ) as box:
        if box.open:
            st.markdown("#### Glossary\n" + glossary_markdown())
