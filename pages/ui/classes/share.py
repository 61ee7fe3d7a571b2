"""Sharing the screen: the page's link with a large QR code, and the projector view's styling.

The share dialog shows the address of what is on screen (the URL the page keeps up to date, see
pages/ui/classes/links.py) as copyable text and as a QR code for students to scan from the projector. In
a class session the code carries the class too (never the teacher's key). The projector view
(`present=1`) enlarges the type, folds the sidebar and the page's introduction, and draws the main
figures taller, for the back of a room.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import streamlit as st

from cnnlib.share import QRError, qr_png
from pages.ui.classes.links import url_params
from pages.ui.glossary import linked

# Larger type for the projector: Streamlit sizes everything in rem, so one root size scales it all.
# The projector's type is a share of the screen, as a slide's is: 22 px on a 1920x1080 projector,
# 14.7 px on a 1280x720 one (the same size on the wall), never below 14 px. The page starts under
# the header's icons (3.2rem, not Streamlit's 6rem) and the title is one slim line: the room goes
# to the page's key picture (issue 25's one screen).
PROJECTOR_CSS = """<style>
html { font-size: max(14px, min(1.146vw, 2.037vh)); }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding: 3.2rem 2rem 2rem 2rem; }
[data-testid="stCaptionContainer"] { font-size: 0.95rem; }
h1 { font-size: 2rem !important; padding: 0 0 0.4rem 0 !important; }
</style>"""


FIGURE_SCALE = 1.5  # main figures in the projector view: 380 px tall becomes 570 px


def projecting() -> bool:
    """Whether this session shows the projector view."""
    return bool(st.session_state.get("present"))


def figure_height(height: int) -> int:
    """A main figure's height: taller in the projector view, where the screen is the teacher's."""
    return int(height * FIGURE_SCALE) if projecting() else height


def intro(text: str) -> None:
    """A page's introduction: shown in full for a student, folded in the projector view (the teacher
    says it aloud; the figures get the room). Its glossary terms are linked (pages.ui.glossary)."""
    text = linked(text)
    if projecting():
        with st.expander("About this page", icon=":material/info:"):
            st.markdown(text)
    else:
        st.markdown(text)


def base_url() -> str:
    """The app's address (scheme and host), from the browser's URL; a loopback one under AppTest."""
    url = st.context.url or ""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return "http://localhost:8501"


def page_link_url(url_name: str, params: dict[str, str] | None = None) -> str:
    """The full link to a page (its URL name, "" for the landing page) with these params."""
    params = url_params() if params is None else params
    query = urlencode(params, safe=",;:")
    return f"{base_url()}/{url_name}" + (f"?{query}" if query else "")


def share_link(url_name: str) -> str:
    """What students should open: the page as it is now, without the teacher's key or projector view."""
    params = {k: v for k, v in url_params().items() if k not in ("key", "screen", "present")}
    return page_link_url(url_name, params)


@st.dialog("Share this page", width="large")
def share_dialog(url_name: str) -> None:
    """The link to this page as it is now, to copy, and as a QR code to scan from the projector."""
    link = share_link(url_name)
    st.markdown(
        "Everyone who opens this link sees this page **as it is now** (uploads excepted: they stay on "
        "this computer). Scan the code or copy the link:"
    )
    left, right = st.columns([3, 2], vertical_alignment="center")
    with left:
        st.code(link, language=None, wrap_lines=True)
        st.caption("The copy button sits at the top right of the box.")
    with right:
        try:
            st.image(qr_png(link, scale=10, border=4), caption="Scan to open", width=320)
        except QRError as err:
            st.warning(str(err), icon=":material/qr_code:")
