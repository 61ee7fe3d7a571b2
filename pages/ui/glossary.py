"""The glossary on the pages: the sidebar's popover, the Glossary page's entries, and linked text.

The frame calls `render_glossary()` inside the sidebar. Pages write their explanatory text (intros,
captions, explanations) through `explain` / `explain_caption` (or wrap it in `linked`), so the first
mention of each glossary term in it links to the term's entry on the Glossary page
(`pages/7_glossary.py`, `glossary#stride`), with the entry as a tooltip.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from cnnlib.glossary import GLOSSARY, anchor, title
from cnnlib.terms import link_terms


def glossary_markdown() -> str:
    """The glossary as a Markdown list: **term**: definition."""
    return "\n".join(f"- **{term}**: {text}" for term, text in GLOSSARY.items())


def entries_markdown() -> str:
    """The Glossary page's text: an index of the terms, then one heading per term (its anchor is the
    term's, `feature-map`) and its entry, A to Z."""
    terms = sorted(GLOSSARY, key=str.lower)
    index = " · ".join(f"[{title(t)}](#{anchor(t)})" for t in terms)
    body = "\n\n".join(f"### {title(t)}\n{GLOSSARY[t]}" for t in terms)
    return index + "\n\n" + body


def linked(markdown: str) -> str:
    """`markdown` with the first mention of each glossary term linked to its entry."""
    return link_terms(markdown)


def explain(markdown: str, **kwargs: Any) -> None:
    """`st.markdown` of a page's explanatory text, glossary terms linked."""
    st.markdown(link_terms(markdown), **kwargs)


def explain_caption(markdown: str, **kwargs: Any) -> None:
    """`st.caption` of a page's explanatory text, glossary terms linked."""
    st.caption(link_terms(markdown), **kwargs)


def render_glossary(label: str = ":material/menu_book: Glossary", key: str = "glossary_popover") -> None:
    """A popover button that opens the whole glossary (put it in the sidebar or next to a control)."""
    # Filled only while open: every page shows the button, and the list is ~3 KB a view otherwise.
    with st.popover(
        label, width="stretch", key=key, help="The words of CNNs, in plain language", on_change="rerun"
    ) as box:
        if box.open:
            st.markdown("#### Glossary\n" + glossary_markdown())
