"""Lesson plans on screen: choose one, then step through it with buttons or a presenter's clicker.

A lesson (cnnlib.share.lessons) is an ordered list of page states with the teacher's notes and
questions. The frame keeps `lesson` and `step` in every link, so a lesson survives page switches and
reloads; each step opens its page with its state, exactly as a link does. Next and previous answer
PageDown / PageUp (what a presenter's clicker sends) as keyboard shortcuts.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from cnnlib.share import BUNDLED, Lesson, LessonError, LinkSchema, bundled_lesson_text, parse_lesson
from pages.ui.classes import classroom, strip

UPLOAD = "upload"
REVEAL_WIDTH = 330  # px: "Reveal the answer" folded, in the projector's large type too


def schemas() -> dict[str, LinkSchema]:
    """Every page's link schema by page key (imports the page domains, torch included)."""
    from cnnlib.inference import DRAW_LINK
    from cnnlib.kernels import KERNELS_LINK
    from cnnlib.shapes import SHAPES_LINK
    from cnnlib.spec import BUILDER_LINK
    from cnnlib.training import TRAINING_LINK

    return {s.page: s for s in (KERNELS_LINK, SHAPES_LINK, BUILDER_LINK, TRAINING_LINK, DRAW_LINK)}


@st.cache_resource(show_spinner=False)
def bundled(lesson_id: str) -> Lesson:
    """A lesson that ships with the app, parsed once per process (shared, never mutated)."""
    return parse_lesson(bundled_lesson_text(lesson_id), schemas(), lesson_id)


def titles() -> dict[str, str]:
    return {lesson_id: bundled(lesson_id).title for lesson_id in BUNDLED}


def current() -> Lesson | None:
    """The lesson this session is stepping through, or None."""
    lesson_id = st.session_state.get("lesson")
    if not lesson_id:
        return None
    if lesson_id == UPLOAD:
        return st.session_state.get("lesson_upload")
    try:
        return bundled(lesson_id)
    except LessonError:
        return None


def picker(start: Callable[[str, int], None]) -> None:
    """Choose a bundled lesson or upload one; `start(lesson_id, step)` opens its first step."""
    names = titles()
    options = [*names, UPLOAD]
    choice = st.selectbox(
        "Lesson plan",
        options,
        format_func=lambda k: names.get(k, "Your own lesson (a JSON file)"),
        key="lesson_choice",
        label_visibility="collapsed",  # under the panel's "Lesson plan" heading
    )
    if choice == UPLOAD:
        up = st.file_uploader("Lesson file (JSON)", type=["json"], key="lesson_file")
        if up is None:
            st.caption(
                'A lesson is {"title", "steps": [{"page", "state", "note", "question"}]}: see the bundled ones.'
            )
            return
        try:
            lesson = parse_lesson(up.getvalue(), schemas(), UPLOAD)
        except LessonError as err:
            st.error(str(err), icon=":material/error:")
            return
        st.session_state["lesson_upload"] = lesson
        st.caption(
            f"**{lesson.title}**: {len(lesson.steps)} steps. It stays on this computer (not in links)."
        )
    else:
        st.caption(bundled(choice).description)
    if st.button("Start the lesson", icon=":material/play_arrow:", key="lesson_start", type="primary"):
        start(choice, 1)


def bar(
    lesson: Lesson, step: int, page_key: str, go: Callable[[int], None], stop: Callable[[], None]
) -> None:
    """The lesson's bar above the page, one line where it fits: the lesson, the step, the step's note
    (cut to one line, in full on hover) and previous / next (a student: who moves the class along);
    the step's question on a second line. Issue 25: the page's key picture must fit below it."""
    n = len(lesson.steps)
    step = max(1, min(step, n))
    s = lesson.steps[step - 1]
    student = classroom.member() is not None and not classroom.is_teacher()
    here = s.page == page_key
    with st.container(border=True, key="lesson_bar", gap="xsmall"):
        row = st.container(horizontal=True, vertical_alignment="center", gap="small", key="lesson_row")
        row.markdown(f"**:material/school: {lesson.title}** · step {step} of {n}", width="content")
        if not here and student:
            row.caption(":material/arrow_forward: This step is on another page.", width="stretch")
        elif not here:  # the button says it, in less room (the row stays one line at 1280 px)
            row.space("stretch")
            if row.button("Open this step", key="lesson_open", type="primary", icon=":material/arrow_forward:",
                          help="This step is on another page: open it"):  # fmt: skip
                go(step)
        elif s.note:
            row.markdown(s.note, width="stretch", wrap=False, help=s.note)  # one line, in full on hover
        else:
            row.space("stretch")
        if student:
            # A student in a class follows the teacher's steps (the Follow banner): no buttons of its own.
            row.caption(":material/co_present: Your teacher moves the class along.", width="content")
        else:
            if row.button("Previous", icon=":material/chevron_left:", key="lesson_prev", disabled=step <= 1,
                          shortcut="PageUp", help="Previous step (PageUp)"):  # fmt: skip
                go(step - 1)
            if row.button("Next", icon=":material/chevron_right:", key="lesson_next", disabled=step >= n,
                          shortcut="PageDown", type="primary", help="Next step (PageDown)"):  # fmt: skip
                go(step + 1)
            if row.button("End", key="lesson_end", help="Leave the lesson"):
                stop()
                st.rerun()
        # While the class is asked, the poll just below holds the question (and the teacher's reveal).
        if here and s.question is not None and not strip.poll_asked(s.question.text):
            question(s.question, step, student)


def question(q, step: int, student: bool = False) -> None:
    """The step's question on one line: its options, the teacher's "Ask the class" and the answer
    behind a reveal (in a class the teacher's poll takes over: a student sees the answer when the
    teacher reveals it, never through a box of their own)."""
    row = st.container(horizontal=True, vertical_alignment="center", gap="small", key="lesson_question")
    options = "  ·  ".join(f"**{chr(65 + i)}** {o}" for i, o in enumerate(q.options))
    row.markdown(f"**:material/help: {q.text}**  ·  {options}", width="stretch")
    with row:
        strip.ask(q.text, list(q.options), q.answer, key=f"lesson_{step}")  # in a class: a live poll
    if q.answer is not None and not student:
        with row.expander(
            "Reveal the answer", key=f"lesson_reveal_{step}", on_change="rerun", width=REVEAL_WIDTH
        ) as box:
            if box.open:
                st.success(f"**{chr(65 + q.options.index(q.answer))}** {q.answer}", icon=":material/check:")
