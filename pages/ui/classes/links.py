"""The address bar as a link to what is on screen: a page's state read from and written to the URL.

Every page keeps its state in the URL's query params (cnnlib's link schemas say which keys, their
types and bounds), so the address is always a link to what the page shows:

- `read_link(schema)` before the page draws its widgets: when the URL holds a state this session
  did not write itself (a shared link, a QR code, a lesson step, a deep link on a fresh server), it
  is parsed (bounded, never raising) and its values are returned for the page to put into its
  widgets; keys it could not use are named in one message on the page. An empty URL (a page opened
  from the menu) keeps the session's own state.
- `write_link(schema, values)` after the page has drawn: the page's state (defaults left out) plus
  the frame's keys (projector view, lesson step, class) go into the URL, replacing what was there,
  without a rerun. Uploads never go in; a page says so where it takes one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from cnnlib.share import FRAME_KEYS, LinkSchema, Parsed, first_value

WRITTEN = "link_written_{page}"  # the params this session last wrote for a page
MESSAGE = "link_message_{page}"  # what the last link applied to a page ignored, until the state changes
LAST = "link_written_last"  # the params this session wrote last, whatever the page
_LISTENERS: list[Callable[[str, dict[str, str]], None]] = []
APPLY = "link_apply"  # the page key whose next link must be applied as it is (set by the frame's go())


def url_params() -> dict[str, str]:
    """The URL's query params now, one value per key (the last when a key is repeated)."""
    return {k: first_value(st.query_params.get_all(k)) for k in st.query_params}


def page_params(params: Mapping[str, str] | None = None) -> dict[str, str]:
    """The URL's params without the frame's keys."""
    params = url_params() if params is None else params
    return {k: v for k, v in params.items() if k not in FRAME_KEYS}


def read_link(schema: LinkSchema) -> Parsed | None:
    """The state a link brings to this page, or None when the URL holds nothing new for it.

    The caller applies `parsed.values` (keys it had; a missing key means the page's default) to its
    widgets before drawing them. The message naming ignored keys is shown by `link_notice`.
    """
    incoming = page_params()
    written = st.session_state.get(WRITTEN.format(page=schema.page))
    # A lesson step or the teacher's page opened with go(): applied whatever it holds, even nothing
    # (every setting at the page's default is a state too: "Why the output shrinks", step 3).
    forced = st.session_state.get(APPLY) == schema.page
    st.session_state.pop(APPLY, None)
    if not forced and (not incoming or incoming == written or incoming == st.session_state.get(LAST)):
        return None  # nothing new: empty, this page's own, or what the page before wrote (a page switch)
    parsed = schema.parse(incoming)
    st.session_state[MESSAGE.format(page=schema.page)] = parsed.message()
    st.session_state[WRITTEN.format(page=schema.page)] = incoming  # applied once, not on every rerun
    return parsed


def link_notice(schema: LinkSchema) -> None:
    """Show what the last link ignored (once per link: it goes when the state next changes)."""
    message = st.session_state.get(MESSAGE.format(page=schema.page))
    if message:
        st.warning(message, icon=":material/link_off:")


def write_link(schema: LinkSchema, values: Mapping[str, Any]) -> dict[str, str]:
    """Put the page's state (and the frame's keys) in the URL; returns the page's params."""
    return write_params(schema.page, schema.encode(values))


def write_params(page: str, params: Mapping[str, str]) -> dict[str, str]:
    """Put a page's own params (and the frame's keys) in the URL, if they changed; then tell the
    listeners (`on_link_written`: the class strip publishes a leading teacher's page)."""
    params = dict(params)
    key = WRITTEN.format(page=page)
    if st.session_state.get(key) != params:
        st.session_state[key] = params
        st.session_state.pop(MESSAGE.format(page=page), None)
    st.session_state["frame_written"] = frame_params()
    st.session_state[LAST] = params
    full = {**frame_params(), **params}
    if url_params() != full:
        st.query_params.from_dict(full)
    for listener in _LISTENERS:  # the class strip: a leading teacher's page tells the class
        listener(st.session_state.get("page_url", ""), full)
    return params


def on_link_written(listener: Callable[[str, dict[str, str]], None]) -> None:
    """Call `listener(url_name, params)` after every link a page writes (once per listener): how the
    class strip hears of the teacher's page without this module importing the class features."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def frame_params() -> dict[str, str]:
    """The frame's keys to keep in every link of this session (projector view, lesson, class)."""
    return dict(st.session_state.get("frame_params", {}))
