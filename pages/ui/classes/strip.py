"""The class strip at the top of every page: a student follows the teacher and answers the poll,
the teacher sees the answers come in, reveals, asks again and closes; pages ask the class through
`ask` and keep an answer back while a poll is open (`poll_open_for_students`).

Both strips are fragments that rerun every 1.5-2 s and read one small row (students: the follow-me
state; teacher: the projector view). The teacher's page publishes its link (`publish`, called by
pages/ui/classes/links.py) whenever it changes; a new page or lesson step closes the last poll.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st
from streamlit.errors import StreamlitAPIException

from cnnlib.classroom import ClassError, ClassStore, ClassUnavailable, PollInfo, ProjectorView, counted
from pages.ui.classes.classroom import STUDENT_EVERY_S, app_link, fail, leave, member, split_link, store
from pages.ui.classes.links import on_link_written
from pages.ui.navigation import PAGE_BY_URL

TEACHER_EVERY_S = 1.5
ss = st.session_state
# The lesson bar and the poll, slim (issue 25: the page's key picture fits below them): a row's text
# (the step's note, the question) shrinks and wraps (the note: cut with an ellipsis) before the
# buttons beside it move to a line of their own; less padding and lower buttons in both boxes; the
# page starts under the header's icons (3.2rem, not 6rem), so the strip costs the page less height.
STRIP_CSS = """<style>
.st-key-lesson_row > :nth-child(2):has([data-testid=stMarkdownContainer]), .st-key-lesson_question > :first-child,
.st-key-class_poll_actions > :first-child { flex: 1 1 0 !important; min-width: 10rem; }
.st-key-lesson_bar, .st-key-class_poll_live, .st-key-class_poll { padding: 0.4rem 0.75rem !important; gap: 0.4rem !important; }
.st-key-lesson_bar button, .st-key-class_poll_live button, .st-key-class_follow_row button {
  min-height: 2rem !important; padding-top: 0.1rem !important; padding-bottom: 0.1rem !important; }
[data-testid="stMainBlockContainer"] { padding-top: 3.2rem !important; }
</style>"""


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


def publish_page(url_name: str, params: dict[str, str]) -> None:
    """Every link a page writes (pages/ui/classes/links.py): a teacher's is the class's follow-me link."""
    m = member()
    if m and m.get("role") == "teacher":
        publish(app_link(url_name, params))


on_link_written(publish_page)


def live(here: str, go: Callable[[str, dict[str, str]], None]) -> None:
    """The class strip at the top of a page: a student's follow banner and poll, or the teacher's
    live poll counts. `here` is this page's app link; `go(url_name, params)` opens another page."""
    m = member()
    if m is None:
        return
    if m["role"] == "teacher":
        teacher_strip()
    elif m["role"] == "projector":
        screen_strip(here, go)
    else:
        student_strip(here, go)


@st.fragment(run_every=STUDENT_EVERY_S)
def student_strip(here: str, go: Callable[[str, dict[str, str]], None]) -> None:
    m, s = member(), store()
    if m is None or s is None:
        return
    try:
        state = s.follow(m["code"], m["sid"])  # and still in the class (not removed by the teacher)
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
                follow_link(go, url_name, params)
                return
            same_page = _page_part(link) == _page_part(here)
            where = "changed this page" if same_page else f"is on **{_title(url_name)}**"
            row = st.container(horizontal=True, vertical_alignment="center", key="class_follow_row")
            row.info(f"Your teacher {where}.", icon=":material/co_present:", width="stretch")
            if row.button("Follow", key="class_follow", type="primary"):
                ss["class_followed"] = state.version
                follow_link(go, url_name, params)
    if state.poll_id is not None and state.poll_state in ("open", "revealed"):
        poll_for_student(s, m, state.poll_id)


@st.fragment(run_every=STUDENT_EVERY_S)
def screen_strip(here: str, go: Callable[[str, dict[str, str]], None]) -> None:
    """The projector screen's strip: it goes where the teacher goes, shows the poll's question and
    how many answered (the counts and the answer once revealed), and never answers."""
    m, s = member(), store()
    if m is None or s is None:
        return
    try:
        state = s.follow(m["code"])
        view = s.projector(m["code"], top=3)
    except ClassUnavailable as err:
        fail(err)
        return
    except ClassError as err:
        ss["class_notice"] = str(err)
        leave()  # the class ended: the screen goes back to the lessons
        st.rerun()
    hiding = poll_open_for_students()
    ss["class_follow_state"] = state
    if hiding != poll_open_for_students():
        st.rerun()
    if state.link and state.version != ss.get("class_followed"):
        ss["class_followed"] = state.version
        if state.link != here:
            follow_link(go, *split_link(state.link))
            return
    poll_or_headline(view, "class_poll", screen_poll)


def screen_poll(poll: PollInfo, head: str, answers: str) -> None:
    """The poll on the projector screen: the question and how many answered; once revealed, the
    answer and the counts."""
    if poll.state == "open":
        st.markdown(f"**:material/how_to_vote: {poll.question}** · {answers} so far · {head}")
        return
    answer = f" · the answer: **{poll.correct}**" if poll.correct is not None else ""
    st.markdown(
        f"**:material/how_to_vote: {poll.question}**{answer} · {answers}  \n"
        + poll_bars(poll.counts, poll.correct)
    )


def poll_or_headline(view: ProjectorView, key: str, draw: Callable[[PollInfo, str, str], None]) -> None:
    """The projector view on the projector's and the teacher's strips: with no poll on, the class's
    headline alone (a caption); else a bordered box (`key`) in which `draw(poll, headline, answers)`
    shows the poll (`answers`: how many answered, in words)."""
    head = f":material/groups: {view.headline}"
    poll = view.poll
    if poll is None or poll.state == "closed":
        st.container(key="class_headline").caption(head)
        return
    with st.container(border=True, key=key, gap="xsmall"):
        draw(poll, head, counted(poll.total, "answer"))


def follow_link(go: Callable[[str, dict[str, str]], None], url_name: str, params: dict[str, str]) -> None:
    """Go where the teacher is, lesson included: a link without a lesson (the teacher ended it)
    ends this session's lesson too, instead of keeping its old bar and step."""
    if "lesson" not in params:
        ss.pop("lesson", None)
        ss.pop("step", None)
    go(url_name, params)


def _page_part(link: str) -> str:
    return link.split("?", 1)[0]


def _title(url_name: str) -> str:
    page = PAGE_BY_URL.get(url_name)
    return page.title if page else "another page"


def poll_for_student(s: ClassStore, m: dict, poll_id: int) -> None:
    try:
        info = s.poll_info(m["code"], poll_id)
        mine = s.my_answer(m["code"], poll_id, m["sid"])
    except ClassError as err:
        fail(err)
        return
    # One line where it fits: the question, the answer pills and whether the answer was sent.
    with st.container(
        border=True, key="class_poll", horizontal=True, vertical_alignment="center", gap="small"
    ):
        st.markdown(f"**:material/how_to_vote: {info.question}**", width="content")
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
            st.caption("Sent. You can change it until the reveal.", width="content")


def reveal_for_student(info: PollInfo, mine: str | None) -> None:
    """A revealed poll on a student's screen: the answer and theirs, or (a poll of opinions, with no
    right answer) how the class answered."""
    if info.correct is None:
        said = "" if mine is None else f" You said {mine}."
        st.markdown(
            f"How the class answered ({counted(info.total, 'answer')}).{said}  \n" + poll_bars(info.counts),
            width="stretch",
        )
        return
    verdict = "" if mine is None else (" You got it." if mine == info.correct else f" You said {mine}.")
    st.success(f"The answer: **{info.correct}**.{verdict}", icon=":material/check:", width="stretch")


def poll_open_for_students() -> bool:
    """True for a student in a class while the teacher's poll is open: the page then keeps the
    answer to itself (the output size, the pixel's value, the prediction) until the reveal."""
    m = member()
    if not m or m.get("role") not in ("student", "projector"):
        return False
    state = ss.get("class_follow_state")
    return bool(state and state.poll_id is not None and state.poll_state == "open")


def poll_asked(question: str) -> bool:
    """True while the class's poll (open or revealed) is on this screen: a student's or the projector
    screen's (any question: theirs is the poll just below), the teacher's (this question: the poll
    box holds it, with its reveal)."""
    m = member()
    if not m:
        return False
    if m.get("role") == "teacher":
        return ss.get("class_poll_question") == question
    state = ss.get("class_follow_state")
    return bool(state and state.poll_id is not None and state.poll_state in ("open", "revealed"))


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
    asked = poll.question if poll is not None and poll.state in ("open", "revealed") else None
    if asked != ss.get("class_poll_question"):
        ss["class_poll_question"] = asked
        st.rerun()  # the lesson bar folds its question while the class is asked it (poll_asked)
    poll_or_headline(view, "class_poll_live", functools.partial(teacher_poll, s, m))


def teacher_poll(s: ClassStore, m: dict, poll: PollInfo, head: str, answers: str) -> None:
    """The live poll on the teacher's strip: the question, how many answered and the buttons (reveal,
    ask again, close) on one line, the counts on the next (one line for a few short options)."""
    row = st.container(horizontal=True, vertical_alignment="center", gap="small", key="class_poll_actions")
    if poll.state == "revealed" and ss.get("present"):
        # Folded to one line on the projector: the page is the picture, the poll is done.
        answer = f" · answer: **{poll.correct}**" if poll.correct is not None else ""
        row.markdown(f"{head} · :material/how_to_vote: {poll.question}{answer} · {answers}", width="stretch")
    else:
        row.markdown(f"**:material/how_to_vote: {poll.question}** · {answers}", width="stretch")
    if poll.state == "open":
        label = "Reveal the answer" if poll.correct is not None else "Show everyone the counts"
        if row.button(label, key="class_reveal", type="primary"):
            teacher_act(lambda: s.reveal_poll(m["code"], m["key"], poll.id))
        if row.button("Ask again", key="class_reask", help="Clear the answers and ask the same question"):
            options = list(poll.options)
            teacher_act(lambda: s.open_poll(m["code"], m["key"], poll.question, options, poll.correct))
    if row.button("Close", key="class_close_poll", help="Take the question off every screen"):
        teacher_act(lambda: s.close_poll(m["code"], m["key"], poll.id))
    if not (poll.state == "revealed" and ss.get("present")):
        counts = st.container(horizontal=True, vertical_alignment="center", gap="medium")
        counts.markdown(
            poll_bars(poll.counts, poll.correct if poll.state == "revealed" else None), width="content"
        )
        counts.caption(head, width="content")


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


def poll_bars(counts: dict[str, int], correct: str | None = None, width: int = 8) -> str:
    """The poll's counts as text bars (Markdown), readable on a projector and cheap to redraw: side
    by side on one line, wrapping between two options where they do not fit."""
    total = max(1, sum(counts.values()))
    lines = []
    for option, n in counts.items():
        # Padded with no-break spaces: Markdown empties a code span of plain spaces after a line break.
        bar = ("█" * round(width * n / total)).ljust(width, "\u00a0")
        mark = " ✓" if option == correct else ""
        lines.append(f"`{bar}` **{n}** · {option}{mark}")
    return "\u2003 ".join(lines)


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
