"""The class panel in the frame's "Lesson & class" popover: join or start a class, or what this
session is in it; for the teacher the list of students (remove, lock), the Ready check, the
projector screen's link, the teacher link, clearing the board and ending the class.

Membership, seats and joining live in pages/ui/classes/classroom.py; this module only draws the panel.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from cnnlib.classroom import ClassError, ClassStore, counted, format_code
from pages.ui.classes import dataset, ready
from pages.ui.classes.classroom import as_typed, fail, join_or_start, leave, member, store
from pages.ui.classes.share import page_link_url

ss = st.session_state


def screen_link(s: ClassStore | None, m: dict, url_name: str) -> None:
    """The teacher's projector link: a display-only seat for the projector's computer."""
    with st.expander("Projector screen (display only)", key="class_screen_open", on_change="rerun") as box:
        if not box.open or s is None:
            return
        if not ss.get("class_screen_link"):
            try:
                token = s.issue_seat(m["code"], "projector", teacher_key=m["key"])
            except ClassError as err:
                fail(err)
                return
            ss["class_screen_link"] = page_link_url(url_name, {"class": m["code"], "screen": token})
        st.caption(
            "Open this link on the projector's computer: it follows your page and shows what the "
            "students see, without your controls, notes, answers or key. Drive the lesson from here."
        )
        st.code(ss["class_screen_link"], language=None, wrap_lines=True)


def panel(url_name: str) -> None:
    """The class controls (inside the frame's Class popover): join, start, or what this session is."""
    m = member()
    if m is None:
        join_or_start()
        return
    s = store()
    if m["role"] == "teacher":
        st.markdown(f"**You teach class `{format_code(m['code'])}`.** Students join with this code.")
        st.toggle("Students follow my page", key="class_lead", value=m.get("lead", True),
                  on_change=lambda: m.update(lead=ss["class_lead"]))  # fmt: skip
        roster(s, m)
        dataset.teacher_control(s, m)
        ready.panel(s, m)
        screen_link(s, m, url_name)
        teacher_link = page_link_url(url_name, {"class": m["code"], "key": m["key"]})
        # Rarely needed, so folded: the panel must fit under the sidebar's button on a 720 px projector.
        with st.expander("Teacher link, clear the board, end the class", icon=":material/more_horiz:"):
            st.markdown("**Your teacher link** (keep it private)")
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
    elif m["role"] == "projector":
        st.markdown(f"**The projector screen of class `{format_code(m['code'])}`.**")
        st.caption(
            "It follows the teacher and shows what the class sees; the teacher drives from their own device."
        )
        if st.button("Stop being the projector screen", key="class_leave", icon=":material/logout:"):
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
                teacher_call(functools.partial(s.remove_student, m["code"], m["key"], p.student_id),
                             f"Removed {p.nickname}.")  # fmt: skip
                st.rerun()


def teacher_call(action: Callable[[], object], done: str) -> None:
    try:
        action()
        st.toast(done)
    except ClassError as err:
        fail(err)
