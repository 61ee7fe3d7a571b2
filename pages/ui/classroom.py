"""Class sessions on screen: start or join a class, follow the teacher, answer polls, see them live.

The store (cnnlib.classroom) holds the class; this module only draws. A session's part in a class
is kept in st.session_state["class"]: {"code", "role" ("teacher" or "student"), "key" (teacher),
"sid" and "name" (student), "lead" (teacher: students follow my page), "auto" (student: follow
without asking)}. The class code also travels in every link (`class=`), so a reload keeps it;
the teacher's key never does (it is read once from the teacher's link, then dropped from the URL).

Everything here fails soft: when the database cannot be reached, the class features say so once
and every lesson page keeps working without them. The live parts are fragments that rerun every
1-2 s and read one small row (students: the follow-me state; teacher: the projector view).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

import streamlit as st
from streamlit.errors import StreamlitAPIException

from cnnlib.classroom import ClassError, ClassStore, ClassUnavailable, PollInfo, counted, format_code
from pages.ui import seat
from pages.ui.share import page_link_url

STUDENT_EVERY_S = 2.0
TEACHER_EVERY_S = 1.5
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


def code() -> str | None:
    m = member()
    return m["code"] if m else None


def fail(err: ClassError) -> None:
    st.error(
        str(err), icon=":material/cloud_off:" if isinstance(err, ClassUnavailable) else ":material/error:"
    )


def app_link(url_name: str, params: dict[str, str]) -> str:
    """A link inside the app ("/kernels?kernel=sobel_y"), as the follow-me state and the board store it."""
    query = urlencode({k: v for k, v in params.items() if k not in ("key", "present")}, safe=",;:")
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
    if frame.get("class") and frame["class"].replace("-", "").upper() != found.code:
        return  # a link to another class: its join form, this seat stays in the browser
    if found.role == "teacher":
        ss["class"] = {"code": found.code, "role": "teacher", "key": found.teacher_key, "lead": True}
    else:
        name = found.nickname or ""
        ss["class"] = {
            "code": found.code,
            "role": "student",
            "sid": found.student_id,
            "name": name,
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


def panel(url_name: str) -> None:
    """The class controls (inside the frame's Class popover): join, start, or what this session is."""
    m = member()
    if m is None:
        _join_or_start()
        return
    s = store()
    if m["role"] == "teacher":
        st.markdown(f"**You teach class `{format_code(m['code'])}`.** Students join with this code.")
        st.toggle("Students follow my page", key="class_lead", value=m.get("lead", True),
                  on_change=lambda: m.update(lead=ss["class_lead"]))  # fmt: skip
        roster(s, m)
        teacher_link = page_link_url(url_name, {"class": m["code"], "key": m["key"]})
        with st.expander("Your teacher link (keep it private)"):
            st.code(teacher_link, language=None, wrap_lines=True)
            st.caption("It makes any browser the teacher of this class. Never show it on the projector.")
        if st.button("Clear the results board", key="class_clear", icon=":material/delete_sweep:") and s:
            try:
                st.toast(f"Removed {counted(s.clear_board(m['code'], m['key']), 'run')} from the board.")
            except ClassError as err:
                fail(err)
        if st.button("End the class", key="class_end", icon=":material/logout:") and s:
            try:
                s.close_class(m["code"], m["key"])
            except ClassError as err:
                fail(err)
            leave()
            st.rerun()
    else:
        st.markdown(f"**You are in class `{format_code(m['code'])}` as {as_typed(m['name'])}.**")
        st.toggle("Follow the teacher without asking", key="class_auto", value=m.get("auto", False),
                  on_change=lambda: m.update(auto=ss["class_auto"]))  # fmt: skip
        if st.button("Leave the class", key="class_leave", icon=":material/logout:"):
            leave(tell_store=True)
            st.rerun()


def roster(s: ClassStore | None, m: dict) -> None:
    """The teacher's list of students (remove one, with their answers and runs) and the class lock."""
    if s is None:
        return
    try:
        people = [p for p in s.students(m["code"], m["key"]) if p.present]
        locked = s.status(m["code"]).locked
    except ClassError as err:
        fail(err)
        return
    if st.toggle("Lock the class (no new joins)", value=locked, key="class_lock"):
        if not locked:
            teacher_call(lambda: s.lock_class(m["code"], m["key"], True), "Class locked: no new joins.")
    elif locked:
        teacher_call(lambda: s.lock_class(m["code"], m["key"], False), "Class open to new joins again.")
    with st.expander(f"Students ({len(people)})", icon=":material/group:"):
        if not people:
            st.caption("Nobody has joined yet.")
        for p in people:
            row = st.container(horizontal=True, vertical_alignment="center")
            row.markdown(as_typed(p.nickname), width="stretch")
            if row.button("Remove", key=f"class_remove_{p.student_id}", type="tertiary",
                          help="Remove this student, their answers and their runs"):  # fmt: skip
                teacher_call(lambda sid=p.student_id: s.remove_student(m["code"], m["key"], sid),
                             f"Removed {p.nickname}.")  # fmt: skip
                st.rerun()


def teacher_call(action: Callable[[], object], done: str) -> None:
    try:
        action()
        st.toast(done)
    except ClassError as err:
        fail(err)


def _join_or_start() -> None:
    if store() is None:  # said up front: the lessons work, the class features wait for the database
        st.warning(ss.get("class_error", "Class features are unavailable."), icon=":material/cloud_off:")
    join, start = st.tabs(["Join a class", "Start a class"])
    with join:
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


def invite() -> None:
    """A link with a class code and no membership yet (a scanned QR code): the join form, in view."""
    invited = ss.get("class_invite")
    if not invited or member() is not None:
        return
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


def _join(code_in: str, name: str) -> None:
    s = store()
    if s is None:
        return
    try:
        sid, stored = s.join_as(code_in, name)
        code_ = s.status(code_in).code
    except ClassError as err:
        fail(err)
        return
    ss["class"] = {"code": code_, "role": "student", "sid": sid, "name": stored, "auto": False}
    ss.pop("class_invite", None)
    keep_seat(s, "student", student_id=sid)
    st.rerun()


def _start(title: str) -> None:
    s = store()
    if s is None:
        return
    try:
        info = s.create_class(title)
    except ClassError as err:
        fail(err)
        return
    ss["class"] = {"code": info.code, "role": "teacher", "key": info.teacher_key, "lead": True}
    keep_seat(s, "teacher", teacher_key=info.teacher_key)
    st.rerun()


# ----------------------------------------------------------------------------- following


def publish(link: str) -> None:
    """The teacher's page changed: tell the class (only when leading, only when the link changed)."""
    m = member()
    if not (m and m["role"] == "teacher" and m.get("lead", True)) or ss.get("class_published") == link:
        return
    s = store()
    if s is None:
        return
    try:
        close_poll_on_move(s, m, ss.get("class_published"), link)
        s.set_follow(m["code"], m["key"], link)
        ss["class_published"] = link
    except ClassError as err:
        ss["class_notice"] = str(err)


def live(here: str, go: Callable[[str, dict[str, str]], None]) -> None:
    """The class strip at the top of a page: a student's follow banner and poll, or the teacher's
    live poll counts. `here` is this page's app link; `go(url_name, params)` opens another page."""
    m = member()
    if m is None:
        return
    if m["role"] == "teacher":
        teacher_strip()
    else:
        student_strip(here, go)


@st.fragment(run_every=STUDENT_EVERY_S)
def student_strip(here: str, go: Callable[[str, dict[str, str]], None]) -> None:
    m, s = member(), store()
    if m is None or s is None:
        return
    try:
        state = s.follow(m["code"])
        s.nickname(m["code"], m["sid"])  # still in the class (not removed by the teacher)
    except ClassUnavailable as err:
        fail(err)  # the database is away for now: the seat stays
        return
    except ClassError as err:
        ss["class_notice"] = str(err)
        leave()  # ended, expired or removed: back to the lessons, said once at the top
        st.rerun()
    hiding = poll_open_for_students()
    ss["class_follow_state"] = state
    if hiding != poll_open_for_students():
        st.rerun()  # the poll opened or was revealed: the page shows or hides its answer
    link = state.link
    if link and state.version != ss.get("class_followed"):
        # A newer teacher state than the one this student last followed: another page, or the same
        # page with other settings (a lesson step on Kernels, a new kernel).
        if link == here:
            ss["class_followed"] = state.version  # already there
        else:
            url_name, params = split_link(link)
            if m.get("auto"):
                ss["class_followed"] = state.version
                go(url_name, params)
                return
            same_page = _page_part(link) == _page_part(here)
            where = "changed this page" if same_page else f"is on **{_title(url_name)}**"
            row = st.container(horizontal=True, vertical_alignment="center", key="class_follow_row")
            row.info(f"Your teacher {where}.", icon=":material/co_present:", width="stretch")
            if row.button("Follow", key="class_follow", type="primary"):
                ss["class_followed"] = state.version
                go(url_name, params)
    if state.poll_id is not None and state.poll_state in ("open", "revealed"):
        poll_for_student(s, m, state.poll_id)


def _page_part(link: str) -> str:
    return link.split("?", 1)[0]


def _title(url_name: str) -> str:
    from pages.ui.frame import PAGE_BY_URL

    page = PAGE_BY_URL.get(url_name)
    return page.title if page else "another page"


def poll_for_student(s: ClassStore, m: dict, poll_id: int) -> None:
    try:
        info = s.poll_info(m["code"], poll_id)
        mine = s.my_answer(m["code"], poll_id, m["sid"])
    except ClassError as err:
        fail(err)
        return
    with st.container(border=True, key="class_poll"):
        st.markdown(f"**:material/how_to_vote: {info.question}**")
        if info.state == "revealed":
            reveal_for_student(info, mine)
            return
        choice = st.pills("Your answer", info.options, key=f"class_answer_{poll_id}", default=mine,
                          label_visibility="collapsed")  # fmt: skip
        if choice is not None and choice != mine:
            try:
                s.answer(m["code"], poll_id, m["sid"], choice)
                mine = choice
            except ClassError as err:
                fail(err)
        if mine is not None:  # said on every tick, not only the one after the click
            st.caption("Sent. You can change it until the teacher reveals the answer.")


def reveal_for_student(info: PollInfo, mine: str | None) -> None:
    """A revealed poll on a student's screen: the answer and theirs, or (a poll of opinions, with no
    right answer) how the class answered."""
    if info.correct is None:
        said = "" if mine is None else f" You said {mine}."
        st.markdown(
            f"How the class answered ({counted(info.total, 'answer')}).{said}  \n" + poll_bars(info.counts)
        )
        return
    verdict = "" if mine is None else (" You got it." if mine == info.correct else f" You said {mine}.")
    st.success(f"The answer: **{info.correct}**.{verdict}", icon=":material/check:")


def poll_open_for_students() -> bool:
    """True for a student in a class while the teacher's poll is open: the page then keeps the
    answer to itself (the output size, the pixel's value, the prediction) until the reveal."""
    m = member()
    if not m or m.get("role") != "student":
        return False
    state = ss.get("class_follow_state")
    return bool(state and state.poll_id is not None and state.poll_state == "open")


@st.fragment(run_every=TEACHER_EVERY_S)
def teacher_strip() -> None:
    m, s = member(), store()
    if m is None or s is None:
        return
    try:
        view = s.projector(m["code"], top=3)
    except ClassError as err:
        fail(err)
        return
    poll = view.poll
    head = f":material/groups: {view.headline}"
    if poll is None or poll.state == "closed":
        st.container(key="class_headline").caption(head)
        return
    with st.container(border=True, key="class_poll_live"):
        answers = counted(poll.total, "answer")
        if poll.state == "revealed" and ss.get("present"):
            # Folded to one line on the projector: the page is the picture, the poll is done.
            answer = f" · answer: **{poll.correct}**" if poll.correct is not None else ""
            st.markdown(f"{head} · :material/how_to_vote: {poll.question}{answer} · {answers}")
        else:
            st.markdown(f"{head}  \n**:material/how_to_vote: {poll.question}** · {answers}")
            st.markdown(poll_bars(poll.counts, poll.correct if poll.state == "revealed" else None))
        row = st.container(horizontal=True, key="class_poll_actions")
        if poll.state == "open":
            label = (
                "Reveal the answer to everyone" if poll.correct is not None else "Show everyone the counts"
            )
            if row.button(label, key="class_reveal", type="primary"):
                teacher_act(lambda: s.reveal_poll(m["code"], m["key"], poll.id))
            if row.button("Ask again", key="class_reask", help="Clear the answers and ask the same question"):
                options = list(poll.options)
                teacher_act(lambda: s.open_poll(m["code"], m["key"], poll.question, options, poll.correct))
        if row.button("Close", key="class_close_poll", help="Take the question off every screen"):
            teacher_act(lambda: s.close_poll(m["code"], m["key"], poll.id))


def teacher_act(action: Callable[[], object]) -> None:
    """A teacher's poll action, then the strip again at once (not at the next tick)."""
    try:
        action()
    except ClassError as err:
        fail(err)
        return
    try:
        st.rerun(scope="fragment")  # a click inside the strip: only the strip again
    except StreamlitAPIException:
        st.rerun()  # the strip drawn by a full run (a test's click, a page switch)


def close_poll_on_move(s: ClassStore, m: dict, old: str | None, new: str) -> None:
    """A new page or lesson step closes the poll the teacher left open or revealed."""
    if old is None or _step_part(old) == _step_part(new):
        return
    state = s.follow(m["code"])
    if state.poll_id is not None and state.poll_state in ("open", "revealed"):
        s.close_poll(m["code"], m["key"], state.poll_id)


def _step_part(link: str) -> tuple[str, str | None]:
    """A link's page and lesson step: what makes it another moment of the lesson."""
    return _page_part(link), split_link(link)[1].get("step")


def as_typed(text: str) -> str:
    """Text for Markdown, shown as typed: a nickname like _Ada_ or `Ada` is not formatting."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def poll_bars(counts: dict[str, int], correct: str | None = None, width: int = 24) -> str:
    """The poll's counts as text bars (Markdown), readable on a projector and cheap to redraw."""
    total = max(1, sum(counts.values()))
    lines = []
    for option, n in counts.items():
        # Padded with no-break spaces: Markdown empties a code span of plain spaces after a line break.
        bar = ("█" * round(width * n / total)).ljust(width, "\u00a0")
        mark = " ✓" if option == correct else ""
        lines.append(f"`{bar}` **{n}** · {option}{mark}")
    return "  \n".join(lines)


def ask(question: str, options: list[str], correct: str | None, key: str) -> None:
    """On a prompt with fixed answers: the teacher's button that asks the whole class."""
    m, s = member(), store()
    if not (m and m["role"] == "teacher" and s):
        return
    if st.button("Ask the class", key=f"class_ask_{key}", icon=":material/how_to_vote:"):
        try:
            s.open_poll(m["code"], m["key"], question, options, correct)
            st.toast("The question is on every student's screen. Their answers count up in the poll box.")
        except ClassError as err:
            fail(err)
