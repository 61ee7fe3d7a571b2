"""Class membership: who this session is in a class (seats, teacher and projector links), joining
and starting a class, leaving. The panel that shows it is pages/ui/classes/panel.py; following the
teacher and the polls are pages/ui/classes/strip.py.

The store (cnnlib.classroom) holds the class; this module only draws. A session's part in a class
is kept in st.session_state["class"]: {"code", "role" ("teacher", "student" or "projector"), "key"
(teacher), "sid" and "name" (student), "lead" (teacher: students follow my page), "auto" (student:
follow without asking; a projector screen always does)}. A projector screen is the display the
teacher opens on the projector's computer with its own link: it follows the class and shows what the
students see (no teacher controls, notes, answers before the reveal, or key). The class code also
travels in every link (`class=`), so a reload keeps it; the teacher's key never does (it is read once from the teacher's link, then dropped from the URL).

Everything here fails soft: when the database cannot be reached, the class features say so once
and every lesson page keeps working without them. The live parts are fragments that rerun every
1-2 s and read one small row (pages/ui/classes/strip.py).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import streamlit as st

from cnnlib.classroom import (
    ClassError,
    ClassStore,
    ClassUnavailable,
    Seat,
    client_address,
    format_code,
    normalize_code,
    trusted_proxies,
)
from pages.ui.classes import seat

STUDENT_EVERY_S = 2.0  # how often a student's page asks the store what the class is doing
ss = st.session_state


@st.cache_resource(show_spinner=False)
def _store() -> ClassStore:
    return ClassStore.open()  # raises ClassError (not cached): the next call tries again


def store() -> ClassStore | None:
    """The process's class store, or None (with the reason kept in ss["class_error"])."""
    try:
        return _store()
    except ClassError as err:
        ss["class_error"] = str(err)
        return None


def member() -> dict | None:
    """This session's part in a class, or None."""
    return ss.get("class")


def is_teacher() -> bool:
    m = member()
    return bool(m and m.get("role") == "teacher")


def is_projector() -> bool:
    m = member()
    return bool(m and m.get("role") == "projector")


def code() -> str | None:
    m = member()
    return m["code"] if m else None


def fail(err: ClassError) -> None:
    st.error(
        str(err), icon=":material/cloud_off:" if isinstance(err, ClassUnavailable) else ":material/error:"
    )


def app_link(url_name: str, params: dict[str, str]) -> str:
    """A link inside the app ("/kernels?kernel=sobel_y"), as the follow-me state and the board store it."""
    query = urlencode({k: v for k, v in params.items() if k not in ("key", "screen", "present")}, safe=",;:")
    return f"/{url_name}" + (f"?{query}" if query else "")


def split_link(link: str) -> tuple[str, dict[str, str]]:
    """("kernels", {"kernel": "sobel_y"}) from an app link."""
    parts = urlsplit(link)
    return parts.path.strip("/"), dict(parse_qsl(parts.query))


# ----------------------------------------------------------------------------- joining


def restore_seat(frame: dict) -> None:
    """A new session (a reload, a dropped connection, a restarted server): the browser's seat brings
    this person back as who they were, unless the link names another class (a new class's QR code)."""
    if member() is not None or ss.get("seat_checked"):
        return
    ss["seat_checked"] = True
    token = seat.browser_token()
    if not token:
        return
    s = store()
    if s is None:
        return
    try:
        found = s.redeem_seat(token)
    except ClassError as err:
        seat.keep(None)  # gone for good: the browser forgets it
        ss["class_notice"] = f"{err} Join again with the class code." if "not valid" not in str(err) else None
        return
    if frame.get("class") and normalize_code(frame["class"]) != found.code:
        return  # a link to another class: its join form, this seat stays in the browser
    if found.role == "teacher":
        ss["class"] = {"code": found.code, "role": "teacher", "key": found.teacher_key, "lead": True}
    elif found.role == "projector":
        ss["class"] = {"code": found.code, "role": "projector", "auto": True}
    else:
        take_student_seat(found, token)
    ss["seat_token"] = token


def take_student_seat(found: Seat, token: str) -> None:
    """This session becomes the student whose seat `token` is (redeemed as `found`)."""
    ss["class"] = {
        "code": found.code,
        "role": "student",
        "sid": found.student_id,
        "name": found.nickname or "",
        "auto": False,
    }
    ss["seat_token"] = token


def keep_seat(s: ClassStore, role: str, **who: str) -> None:
    """Ask the browser to keep this session's seat (a failure only costs the seat, never the class)."""
    m = member()
    if m is None:
        return
    try:
        seat.keep(s.issue_seat(m["code"], role, **who))
    except ClassError as err:
        ss["class_notice"] = f"This browser could not keep your seat: {err}"


def adopt_link(frame: dict) -> None:
    """Called by the frame with the link's frame keys: a teacher link makes this session the teacher."""
    restore_seat(frame)
    code_in, key_in = frame.get("class"), frame.get("key")
    if frame.get("screen"):
        adopt_screen(frame["screen"])
        return
    m = member()
    if code_in and key_in and not (m and m.get("role") == "teacher" and m["code"] == code_in):
        s = store()
        if s is None:
            return
        try:
            s.check_teacher(code_in, key_in)
        except ClassError as err:
            ss["class_notice"] = str(err)
            return
        ss["class"] = {"code": code_in, "role": "teacher", "key": key_in, "lead": True}
        keep_seat(s, "teacher", teacher_key=key_in)  # the key leaves the address bar for a signed seat
    elif code_in and not m:
        ss["class_invite"] = code_in  # the join form is filled in; joining needs a nickname


def adopt_screen(token: str) -> None:
    """A projector link: this browser becomes the class's projector screen (its seat is the link's
    token, kept as a cookie; the address bar loses it at the page's next write)."""
    s = store()
    if s is None:
        return
    try:
        found = s.redeem_seat(token)
    except ClassError as err:
        ss["class_notice"] = str(err)
        return
    if found.role != "projector":
        ss["class_notice"] = "This link is not a projector screen's link."
        return
    ss["class"] = {"code": found.code, "role": "projector", "auto": True}
    ss["seat_checked"] = True
    ss["class_screen_new"] = True  # the frame turns the projector view on
    seat.keep(token)


def leave(tell_store: bool = False) -> None:
    """Forget the class in this session and this browser; `tell_store`: a student leaving frees the seat."""
    m = ss.pop("class", None)
    ss.pop("class_invite", None)
    seat.keep(None)
    if tell_store and m and m.get("role") == "student":
        s = store()
        try:
            if s is not None:
                s.leave(m["code"], m["sid"])
        except ClassError:
            pass  # already gone (ended, removed): nothing to free


def join_or_start() -> None:
    if store() is None:  # said up front: the lessons work, the class features wait for the database
        st.warning(ss.get("class_error", "Class features are unavailable."), icon=":material/cloud_off:")
    join, start = st.tabs(["Join a class", "Start a class"])
    with join:
        if not ss.get("class_invite"):  # else the invite on the page draws the seat reader (one a run)
            seat_from_other_tab()
        with st.form("class_join_form", border=False):
            code_in = st.text_input("Class code", value=ss.get("class_invite", ""), max_chars=16)
            name = st.text_input(
                "Your nickname", max_chars=40, help="No real name needed. Shown on the board."
            )
            if st.form_submit_button("Join", type="primary", icon=":material/login:"):
                _join(code_in, name)
    with start:
        with st.form("class_start_form", border=False):
            title = st.text_input(
                "Class title", max_chars=80, placeholder="e.g. CNNs, lesson 3", key="class_title"
            )
            if st.form_submit_button("Start a class", type="primary", icon=":material/co_present:",
                                     key="class_start_submit"):  # fmt: skip
                _start(title)


def seat_from_other_tab() -> None:
    """Beside a join form: a seat this browser took in another tab (opened before it joined) is
    taken here too, so that one browser stays one student (pages/ui/classes/seat.py's reader)."""
    token = seat.from_other_tab()
    s = store() if token else None
    if token is None or s is None or member() is not None:
        return
    try:
        found = s.redeem_seat(token)
    except ClassError:
        return  # gone or forged: the form stays
    if found.role != "student":
        return
    take_student_seat(found, token)
    ss.pop("class_invite", None)
    ss["class_notice"] = (
        f"You joined class {format_code(found.code)} as {found.nickname} in another tab: this tab is in "
        "your seat too."
    )
    st.rerun()


def invite() -> None:
    """A link with a class code and no membership yet (a scanned QR code): the join form, in view."""
    invited = ss.get("class_invite")
    if not invited or member() is not None:
        return
    seat_from_other_tab()
    with st.container(border=True, key="class_invite_box"):
        with st.form("class_invite_form", border=False):
            st.markdown(
                f"**:material/groups: Join class `{format_code(invited)}`**: type a nickname (no real name needed)."
            )
            left, right = st.columns([4, 1], vertical_alignment="bottom")
            name = left.text_input("Your nickname", max_chars=40, key="class_invite_name")
            joined = right.form_submit_button(
                "Join", type="primary", key="class_invite_submit", width="stretch"
            )
        if joined:
            _join(invited, name)
        if st.button("Not now", key="class_invite_dismiss", type="tertiary"):
            ss.pop("class_invite", None)
            st.rerun()


def client() -> str | None:
    """This browser's address, for the class's join limits: the connection's peer, or behind a
    proxy on this machine or a private network (nginx) the last X-Forwarded-For entry (see
    cnnlib.classroom.client_address; $CNN_CLASSROOM_TRUSTED_PROXIES says which peers are proxies).
    None where there is no request (a test runner)."""
    try:
        peer = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For")
    except Exception:  # noqa: BLE001 - no request context: no address, the per-class limit still holds
        return None
    return client_address(
        peer if isinstance(peer, str) else None,
        forwarded if isinstance(forwarded, str) else None,
        trusted_proxies(),
    )


def seat_in(s: ClassStore, code_: str) -> bool:
    """One browser is one student: if this browser holds a student's seat in class `code_`, take it
    back (a second tab, a join form sent again) instead of joining as someone new. True if it did."""
    wanted = ss.get("seat_token")  # "" once this session left the class: the cookie is forgotten
    token = wanted if wanted is not None else seat.browser_token()
    if not token:
        return False
    try:
        found = s.redeem_seat(token)
    except ClassError:
        return False  # gone (left, removed, ended): a new join
    if found.role != "student" or found.code != code_:
        return False
    take_student_seat(found, token)
    ss["class_notice"] = (
        f"This browser is already in class {format_code(found.code)} as {found.nickname}: you are back "
        "in your seat. To join under another name, leave the class first."
    )
    return True


def _join(code_in: str, name: str) -> None:
    s = store()
    if s is None:
        return
    try:
        code_ = normalize_code(code_in)
        if not seat_in(s, code_):
            sid, stored = s.join_as(code_, name, client=client())
            ss["class"] = {"code": code_, "role": "student", "sid": sid, "name": stored, "auto": False}
            keep_seat(s, "student", student_id=sid)
    except ClassError as err:
        fail(err)
        return
    ss.pop("class_invite", None)
    st.rerun()


def _start(title: str) -> None:
    s = store()
    if s is None:
        return
    try:
        info = s.create_class(title, client=client())
    except ClassError as err:
        fail(err)
        return
    ss["class"] = {"code": info.code, "role": "teacher", "key": info.teacher_key, "lead": True}
    keep_seat(s, "teacher", teacher_key=info.teacher_key)
    st.rerun()


def as_typed(text: str) -> str:
    """Text for Markdown, shown as typed: a nickname like _Ada_ or `Ada` is not formatting."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)
