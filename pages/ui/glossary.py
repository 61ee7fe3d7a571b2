"""The glossary on the pages: the sidebar's popover, the Glossary page's entries, and linked text.

The frame calls `render_glossary()` inside the sidebar. Pages write their explanatory text (intros,
captions, explanations) through `explain` / `explain_caption` (or wrap it in `linked`), so the first
mention of each glossary term on the page links to the term's entry on the Glossary page
(`pages/7_glossary.py`, `glossary#stride`), with the entry as a tooltip.

One link per term per page, not one per element: `frame()` calls `start_page()`, and each linked text
skips the terms an earlier text of the same run linked. A box a student opens on its own (a sidebar
expander) or a fragment's text (rerun without the rest of the page) passes `once=False`: it links its
own first mentions and leaves the page's tally alone.
"""

from __future__ import annotations

import threading
from typing import Any

import streamlit as st

from cnnlib.glossary import GLOSSARY, anchor, title
from cnnlib.terms import link_terms, linked_terms

# The terms this script run has linked so far. A session's runs happen one at a time on a script
# thread; `start_page()` (from the frame, first thing every full run) empties it.
_run = threading.local()


def start_page() -> None:
    """Forget the terms linked so far: a new page run begins."""
    _run.linked = set()


NBSP = "\u00a0"


def glossary_markdown() -> str:
    """The glossary as a Markdown list: **term**: definition."""
    return "\n".join(f"- **{term}**: {text}" for term, text in GLOSSARY.items())


def entries_markdown() -> str:
    """The Glossary page's text: an index of the terms, then one heading per term (its anchor is the
    term's, `feature-map`) and its entry, A to Z."""
    terms = sorted(GLOSSARY, key=str.lower)
    # A term's words never split across lines ("Learning / rate"): non-breaking spaces in the index.
    index = " · ".join(f"[{title(t).replace(' ', NBSP)}](#{anchor(t)})" for t in terms)
    body = "\n\n".join(f"### {title(t)}\n{GLOSSARY[t]}" for t in terms)
    return index + "\n\n" + body


def linked(markdown: str, once: bool = True) -> str:
    """`markdown` with the first mention of each glossary term linked to its entry: with `once`, only
    the terms no earlier text of this page run linked (and those it links now are counted); without,
    every term's first mention in this text (a self-contained box or a fragment's text)."""
    if not once:
        return link_terms(markdown)
    seen: set[str] = getattr(_run, "linked", None) or set()
    out = link_terms(markdown, frozenset(seen)) if seen else link_terms(markdown)
    _run.linked = seen | linked_terms(out)
    return out


def explain(markdown: str, once: bool = True, **kwargs: Any) -> None:
    """`st.markdown` of a page's explanatory text, glossary terms linked (see `linked`)."""
    st.markdown(linked(markdown, once), **kwargs)


def explain_caption(markdown: str, once: bool = True, **kwargs: Any) -> None:
    """`st.caption` of a page's explanatory text, glossary terms linked (see `linked`)."""
    st.caption(linked(markdown, once), **kwargs)


def render_glossary(label: str = ":material/menu_book: Glossary", key: str = "glossary_popover") -> None:
    """A popover button that opens the whole glossary (put it in the sidebar or next to a control)."""
    # Filled only while open: every page shows the button, and the list is ~3 KB a view otherwise.
    with st.popover(
        label, width="stretch", key=key, help="The words of CNNs, in plain language", on_change="rerun"
    ) as box:
        if box.open:
            st.markdown("#### Glossary\n" + glossary_markdown())
