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
    """The lesson's bar above the page: where we are, previous / next, the teacher's note and question."""
    n = len(lesson.steps)
    step = max(1, min(step, n))
    s = lesson.steps[step - 1]
    student = classroom.member() is not None and not classroom.is_teacher()
    with st.container(border=True, key="lesson_bar"):
        row = st.container(horizontal=True, vertical_alignment="center", key="lesson_row")
        row.markdown(f"**:material/school: {lesson.title}** · step {step} of {n}", width="stretch")
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
        if s.page != page_key:
            st.info("This step is on another page.", icon=":material/arrow_forward:")
            if not student and st.button("Open this step", key="lesson_open", type="primary"):
                go(step)
            return
        if s.note:
            st.markdown(s.note)
        if s.question is not None:
            question(s.question, step, student)


def question(q, step: int, student: bool = False) -> None:
    """The step's question; its answer behind a reveal (in a class the teacher's poll takes over: a
    student sees the answer when the teacher reveals it, never through a box of their own)."""
    st.markdown(f"**:material/help: {q.text}**")
    st.markdown("  ·  ".join(f"**{chr(65 + i)}** {o}" for i, o in enumerate(q.options)))
    strip.ask(q.text, list(q.options), q.answer, key=f"lesson_{step}")  # in a class: a live poll
    if q.answer is not None and not student:
        with st.expander("Reveal the answer", key=f"lesson_reveal_{step}", on_change="rerun") as box:
            if box.open:
                st.success(f"**{chr(65 + q.options.index(q.answer))}** {q.answer}", icon=":material/check:")
