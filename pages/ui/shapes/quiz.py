"""Shape calculator, quiz mode: a random layer, the student's answer checked, the worked formula
after, and a running score kept in the session."""

from __future__ import annotations

import random

import streamlit as st

from cnnlib.shapes import QUIZ_KINDS, Answer, QuizQuestion, Score, check_answer, make_question


def _new_question() -> None:
    """Draw the next question (seeded per session and question number) and clear the answer box."""
    st.session_state.setdefault("sc_quiz_seed", random.SystemRandom().randrange(1 << 30))
    n = st.session_state.get("sc_quiz_n", 0) + 1
    kinds = st.session_state.get("sc_quiz_kinds") or list(QUIZ_KINDS)
    st.session_state["sc_quiz_n"] = n
    st.session_state["sc_quiz_q"] = make_question(
        random.Random(f"{st.session_state['sc_quiz_seed']}:{n}"), kinds
    )
    st.session_state["sc_quiz_answer"] = ""
    st.session_state["sc_quiz_result"] = None


def _check() -> None:
    q: QuizQuestion = st.session_state["sc_quiz_q"]
    result = check_answer(q, st.session_state.get("sc_quiz_answer", ""))
    previous: Answer | None = st.session_state.get("sc_quiz_result")
    if previous is None or previous.status == "invalid":  # each question counts once
        st.session_state["sc_quiz_score"].record(result)
    if previous is None or previous.status == "invalid" or result.status != "invalid":
        st.session_state["sc_quiz_result"] = result


def render() -> None:
    """Quiz mode."""
    st.session_state.setdefault("sc_quiz_score", Score())
    if "sc_quiz_q" not in st.session_state:
        _new_question()
    score: Score = st.session_state["sc_quiz_score"]
    q: QuizQuestion = st.session_state["sc_quiz_q"]
    result: Answer | None = st.session_state.get("sc_quiz_result")
    st.multiselect("Question types", QUIZ_KINDS, default=list(QUIZ_KINDS), key="sc_quiz_kinds")
    left, right = st.columns([3, 1], gap="large")
    with right:
        st.metric("Score", score.text())
        st.metric("Streak", str(score.streak))
    with left:
        st.markdown(f"**Question {st.session_state['sc_quiz_n']}**")
        st.subheader(f"An image of {q.size}×{q.size} pixels goes through", anchor=False)
        st.code(q.code(), language="python", wrap_lines=True)
        if q.note():
            st.caption(q.note())
        st.subheader("How many pixels tall (and wide) is the output?", anchor=False)
        answered = result is not None and result.status != "invalid"
        c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
        c1.text_input("Your answer (pixels)", key="sc_quiz_answer", disabled=answered)
        c2.button(
            "Check", key="sc_quiz_check", on_click=_check, type="primary", disabled=answered, width="stretch"
        )
        c3.button("Next question", key="sc_quiz_next", on_click=_new_question, width="stretch")
        if result is None:
            st.caption("Type a whole number and press Check. Pen and paper welcome!")
            return
        if result.status == "correct":
            st.success(result.message, icon=":material/celebration:")
        elif result.status == "wrong":
            st.error(result.message, icon=":material/close:")
        else:
            st.warning(result.message, icon=":material/edit:")
            return
        st.markdown("**Worked formula**")
        st.latex(q.formula_latex())
