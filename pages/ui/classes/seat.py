"""A person's seat in a class, kept by their browser: a reload, a dropped connection or a server
restart brings them back as who they were (the teacher as the teacher, a student with their
nickname, answers and runs), and the class counts people, not browser tabs.

The seat is a signed token from the class store (`ClassStore.issue_seat`: HMAC-signed, short-lived,
never the teacher key, which stays in the database) kept in a cookie of the app's own origin,
`cc_seat`. Streamlit 1.67 cannot set a cookie from a script (`st.context.cookies` is read-only), so
a one-line components-v2 element writes it from the page (`document.cookie`, `SameSite=Strict`,
`Secure` on https). It is therefore not HttpOnly: it is signed, expires with the class, and a stolen
seat is one student's seat (the teacher removes it). A new session (a reload, a restart) reads it
from the websocket's cookies on its first run and redeems it with the store.

Chosen over serving a route of the app's own through Streamlit's ASGI entry point (`st.App`), which
would set an HttpOnly cookie but changes how the app starts everywhere (AppTest, the load test, the
nginx recipe, Community Cloud, which runs `streamlit run`); the element costs one block in each run
of the session that wrote the cookie (its websocket still carries the old cookies) and nothing after
the next reload.
"""

from __future__ import annotations

from functools import lru_cache

import streamlit as st

COOKIE = "cc_seat"
MAX_AGE_S = 12 * 3600  # the store's tokens expire with the class (at most this long)
ss = st.session_state

_JS = """
export default function (component) {
  const { data } = component;
  if (!data || !data.name) return;
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  const value = data.value ? encodeURIComponent(data.value) : "";
  const age = data.value ? data.max_age : 0;
  document.cookie = `${data.name}=${value}; Path=/; Max-Age=${age}; SameSite=Strict${secure}`;
  window.ccSeatWritten = (window.ccSeatWritten || 0) + 1;
}
"""


# The reader: drawn only beside a join form. A tab opened before its browser joined in another tab
# connected without the cookie, so its session cannot see the seat and would join a second student.
# The reader looks at the browser's cookie when the tab comes back into view (focus, visibility)
# and every 2 s, and sends a seat that appeared once; the form's tab then takes that seat.
_READ_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  const state = window.ccSeatReader || (window.ccSeatReader = { sent: "" });
  state.known = (data && data.known) || "";
  state.send = setTriggerValue;
  if (state.timer) return;
  const read = () => {
    const m = document.cookie.match(/(?:^|;\\s*)cc_seat=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  };
  const check = () => {
    const now = read();
    if (now && now !== state.known && now !== state.sent) {
      state.sent = now;
      state.send("seat", now);
    }
  };
  state.timer = setInterval(check, 2000);
  window.addEventListener("focus", check);
  document.addEventListener("visibilitychange", check);
  check();
  return () => {
    clearInterval(state.timer);
    state.timer = null;
    window.removeEventListener("focus", check);
    document.removeEventListener("visibilitychange", check);
  };
}
"""


@lru_cache(maxsize=1)
def _reader():
    return st.components.v2.component("cc_seat_reader", js=_READ_JS, isolate_styles=False)


def from_other_tab() -> str | None:
    """A seat this browser took in another tab since this session connected: its token, in the run
    the reader sends it (None otherwise). Draw it only where a join form is on screen."""
    result = _reader()(
        key="cc_seat_reader", data={"known": browser_token() or ""}, height=0, on_seat_change=_noop
    )
    token = getattr(result, "seat", None)
    return token if isinstance(token, str) and token else None


def _noop() -> None:
    """The reader's change callback: the run it causes is all that is needed."""


@lru_cache(maxsize=1)
def _writer():
    return st.components.v2.component("cc_seat_cookie", js=_JS, isolate_styles=False)


def browser_token() -> str | None:
    """The seat token this browser sent when the session connected (None if it had none)."""
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no request context (a test runner): no cookie
        return None
    return value if isinstance(value, str) and value else None  # AppTest's context is a mock


def keep(token: str | None) -> None:
    """Ask the browser to keep this seat (None: forget it). `sync` draws the writer in every run of
    this session: the cookies it can read are those of its connection, which never see the write."""
    ss["seat_token"] = token or ""


def sync() -> None:
    """Draw the cookie writer when the browser's cookie differs from the session's seat."""
    wanted = ss.get("seat_token")
    if wanted is None or wanted == (browser_token() or ""):
        return
    _writer()(key="cc_seat_cookie", data={"name": COOKIE, "value": wanted, "max_age": MAX_AGE_S}, height=0)
