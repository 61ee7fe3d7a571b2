"""AppTest: a lesson run in a class session, teacher and students in separate sessions on one store:
every step reaches the students (on another page or the same one), polls open, clear, close and
reveal (an opinion poll reveals its counts), a new step closes the last poll, and a student never
sees the answer the class is asked for before the teacher reveals it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnnlib.classroom import ClassStore
from cnnlib.classroom.codes import student_key
from tests.conftest import ROOT, open_app

KERNELS = "pages/1_kernels.py"
SHAPES = "pages/2_shape_calculator.py"


def session(member: dict, params: dict | None = None, page: str | None = None) -> AppTest:
    return open_app(page, params=params, state={"class": dict(member)})


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [str(m.value) for m in at.metric]
    parts += [i.value for i in at.info] + [s.value for s in at.success]
    return " ".join(parts)


def outputs(at: AppTest) -> list[str]:
    """The Shape calculator's output shape, where it shows."""
    return [str(m.value) for m in at.metric if m.label.startswith("Output")]


def a_class(db: ClassStore) -> tuple[dict, dict]:
    info = db.create_class("Lesson")
    teacher = {"code": info.code, "role": "teacher", "key": info.teacher_key, "lead": True}
    sid = db.join(info.code, "Ana")
    student = {"code": info.code, "role": "student", "sid": sid, "name": "Ana", "auto": False}
    return teacher, student


def test_same_page_lesson_steps_reach_students_with_the_step_settings(db):
    t, s = a_class(db)
    lesson = {"lesson": "edges_and_kernels", "step": "1"}
    teacher = session(t, lesson)
    teacher.button(key="lesson_open").click().run()  # step 1 is on Kernels: the teacher opens it
    assert teacher.query_params["kernel"] == "identity"
    student = session(s, page=KERNELS)
    assert "Your teacher changed this page" in texts(student)
    student.button(key="class_follow").click().run()
    assert student.selectbox(key="k_preset").value == "Identity" and "step 1 of 6" in texts(student)

    teacher.button(key="lesson_next").click().run()  # step 2, the same page: box blur
    assert teacher.query_params["kernel"] == "box_blur"
    student.run()
    assert "Your teacher changed this page" in texts(student)
    student.button(key="class_follow").click().run()
    assert student.selectbox(key="k_preset").value == "Box blur" and "step 2 of 6" in texts(student)
    student.run()
    assert "Your teacher changed this page" not in texts(student)  # followed: no banner left

    auto = session({**s, "auto": True}, page=KERNELS)  # follows without asking
    teacher.button(key="lesson_next").click().run()  # step 3: Sobel x
    auto.run()
    assert auto.selectbox(key="k_preset").value == "Sobel x" and "step 3 of 6" in texts(auto)


def test_a_student_has_no_lesson_buttons_and_no_answer_box(db):
    t, s = a_class(db)
    lesson = {"lesson": "edges_and_kernels", "step": "1"}
    student = session(s, lesson, page=KERNELS)
    keys = {b.key for b in student.button}
    assert not keys & {"lesson_prev", "lesson_next", "lesson_end", "lesson_open"}
    assert "Reveal the answer" not in [e.label for e in student.expander]
    assert "Your teacher moves the class along" in texts(student)
    teacher = session(t, lesson, page=KERNELS)
    assert {"lesson_next", "lesson_end"} <= {b.key for b in teacher.button}
    assert "Reveal the answer" in [e.label for e in teacher.expander]


def test_polls_ask_again_close_and_a_new_step_closes_the_last_one(db):
    t, s = a_class(db)
    teacher = session(t, {"lesson": "edges_and_kernels", "step": "1"}, page=KERNELS)
    teacher.button(key="class_ask_lesson_1").click().run()
    student = session(s, page=KERNELS)
    poll_id = db.follow(t["code"]).poll_id
    student.session_state[f"class_answer_{poll_id}"] = "The same image"
    student.run()
    teacher.run()
    assert "1 answer" in texts(teacher)

    teacher.button(key="class_reask").click().run()  # clear: the same question, no answers yet
    again = db.follow(t["code"]).poll_id
    assert again != poll_id and sum(db.poll(t["code"], again).values()) == 0
    assert "0 answers" in texts(teacher)
    teacher.button(key="class_close_poll").click().run()
    student.run()
    assert db.follow(t["code"]).poll_state == "closed" and not student.get("button_group")

    teacher.button(key="class_ask_lesson_1").click().run()
    assert db.follow(t["code"]).poll_state == "open"
    teacher.button(key="lesson_next").click().run()  # a new step: the poll leaves every screen
    assert db.follow(t["code"]).poll_state == "closed"


def test_an_opinion_poll_reveals_the_counts_not_an_answer(db):
    t, s = a_class(db)
    teacher = session(t, page=KERNELS)  # first: a teacher who moves to another page closes the poll
    pid = db.open_poll(t["code"], t["key"], "How sure are you?", ["Very", "A bit"], None)
    student = session(s, page=KERNELS)
    student.session_state[f"class_answer_{pid}"] = "A bit"
    student.run()
    teacher.run()
    assert teacher.button(key="class_reveal").label == "Show everyone the counts"
    teacher.button(key="class_reveal").click().run()
    student.run()
    shown = texts(student)
    assert "How the class answered (1 answer). You said A bit." in shown and "None" not in shown


def test_students_see_the_answer_only_after_the_reveal(db):
    t, s = a_class(db)
    alone = session({**t}, page=SHAPES)  # the teacher's own page keeps its answer
    student = session(s, page=SHAPES)
    assert outputs(student) == ["8 × 14 × 14"]  # no poll: the page shows its answer as always
    pid = db.open_poll(t["code"], t["key"], "Conv2d: what height comes out?", ["24", "26", "28"], "26")
    student.run()
    assert "Your teacher is asking the class" in texts(student) and outputs(student) == []
    kernels = session(s, page=KERNELS)
    assert "Your teacher is asking the class" in texts(kernels)
    assert "Sum of the products" not in [m.label for m in kernels.metric]
    alone.run()
    assert "Your teacher is asking" not in texts(alone) and outputs(alone) == ["8 × 14 × 14"]
    db.reveal_poll(t["code"], t["key"], pid)
    student.run()
    assert "Your teacher is asking the class" not in texts(student) and outputs(student) == ["8 × 14 × 14"]
    assert "The answer: **26**" in texts(student)


# ------------------------------------------------------------------------------- seats


def join_in_browser(db: ClassStore, code: str, name: str) -> AppTest:
    """A student joins from the class link's invite form, as in a browser."""
    at = open_app(params={"class": code}, check=False)
    at.text_input(key="class_invite_name").input(name)
    at.button(key="class_invite_submit").click().run()
    assert not at.exception and at.session_state["class"]["name"] == name
    return at


def reloaded(monkeypatch, token: str, params: dict | None = None, page: str | None = None) -> AppTest:
    """A new session of the same browser: its cookie carries the seat token."""
    from pages.ui.classes import seat

    monkeypatch.setattr(seat, "browser_token", lambda: token)
    return open_app(page, params=params)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_reload_and_a_restart_keep_each_seat_and_the_count(backend, db, monkeypatch):
    from pages.ui.classes import classroom

    info = db.create_class("Seats")
    teacher = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    teacher.query_params["class"], teacher.query_params["key"] = (
        info.code,
        info.teacher_key,
    )  # the teacher link
    teacher.run()
    assert "key" not in teacher.query_params
    teacher_token = teacher.session_state["seat_token"]
    assert teacher_token and info.teacher_key not in teacher_token  # never the key itself
    ana = join_in_browser(db, info.code, "Ana")
    ana_token, sid = ana.session_state["seat_token"], ana.session_state["class"]["sid"]
    assert db.status(info.code).students == 1

    again = reloaded(monkeypatch, ana_token, {"class": info.code})  # a reload: the class link again
    assert again.session_state["class"] == {**ana.session_state["class"], "auto": False}
    assert "class_invite" not in again.session_state  # no join form, no "Ana 2"
    assert db.status(info.code).students == 1

    classroom._store.clear()  # a server restart on the same database
    back = reloaded(monkeypatch, teacher_token, page=KERNELS)
    m = back.session_state["class"]
    assert m["role"] == "teacher" and m["key"] == info.teacher_key and m["code"] == info.code
    student = reloaded(monkeypatch, ana_token, page=KERNELS)
    assert student.session_state["class"]["sid"] == sid and student.session_state["class"]["name"] == "Ana"
    assert db.status(info.code).students == 1


def test_leaving_frees_the_seat_and_a_removed_student_is_told(db, monkeypatch):
    info = db.create_class("Leave")
    t = {"code": info.code, "role": "teacher", "key": info.teacher_key, "lead": True}
    ana = join_in_browser(db, info.code, "Ana")
    ben = join_in_browser(db, info.code, "Ben")
    assert db.status(info.code).students == 2
    ana.session_state["frame_class"] = True
    ana.run()
    ana.button(key="class_leave").click().run()
    assert "class" not in ana.session_state and db.status(info.code).students == 1
    assert ana.session_state["seat_token"] == ""  # the browser forgets the seat too

    teacher = session(t)
    teacher.session_state["frame_class"] = True
    teacher.run()
    ben_id = ben.session_state["class"]["sid"]
    teacher.button(key=f"class_remove_{student_key(ben_id)}").click().run()  # the list's id: a hash
    assert db.status(info.code).students == 0
    ben.run()
    assert "class" not in ben.session_state
    assert any("not in class" in w.value for w in ben.warning)

    teacher.toggle(key="class_lock").set_value(True).run()
    late = open_app(params={"class": info.code}, check=False)
    late.text_input(key="class_invite_name").input("Cleo")
    late.button(key="class_invite_submit").click().run()
    assert "class" not in late.session_state and any("locked" in e.value for e in late.error)


def test_nicknames_that_pass_for_the_teacher_are_refused(db):
    info = db.create_class("Names")
    for name in ("Teacher", "Тeacher", "teacher 2"):
        at = open_app(params={"class": info.code}, check=False)
        at.text_input(key="class_invite_name").input(name)
        at.button(key="class_invite_submit").click().run()
        assert "class" not in at.session_state and at.error, name


def test_a_step_whose_settings_are_all_defaults_still_applies(db):
    """'Why the output shrinks' step 3 (stride 2, padding 1) is the Shape calculator's defaults, so its
    link holds no setting; after step 2 (stride 1) it must still set stride 2, for the teacher and
    for a student who follows."""
    t, s = a_class(db)
    lesson = {"lesson": "why_the_output_shrinks", "step": "2"}
    teacher = session(t, lesson)
    teacher.button(key="lesson_open").click().run()
    student = session({**s, "auto": True}, page=SHAPES)
    assert teacher.text_input(key="sc_Conv2d_s_h").value == "1"
    assert student.text_input(key="sc_Conv2d_s_h").value == "1"
    teacher.button(key="lesson_next").click().run()
    assert teacher.text_input(key="sc_Conv2d_s_h").value == "2" and "step 3 of 7" in texts(teacher)
    student.run()
    assert student.text_input(key="sc_Conv2d_s_h").value == "2" and "step 3 of 7" in texts(student)


def test_a_projector_screen_follows_shows_no_controls_and_no_answer(db):
    t, s = a_class(db)
    teacher = session(t, {"lesson": "edges_and_kernels", "step": "1"})
    teacher.button(key="lesson_open").click().run()  # the teacher on Kernels, step 1
    token = db.issue_seat(t["code"], "projector", teacher_key=t["key"])
    screen = open_app(params={"class": t["code"], "screen": token})
    assert screen.session_state["class"] == {"code": t["code"], "role": "projector", "auto": True}
    assert screen.session_state["present"] is True  # it opens in the projector view
    assert "screen" not in screen.query_params and "key" not in screen.query_params
    screen.run()  # the strip's follow: to the teacher's page and step
    assert screen.selectbox(key="k_preset").value == "Identity" and "step 1 of 6" in texts(screen)
    keys = {b.key for b in screen.button}
    assert not keys & {"lesson_prev", "lesson_next", "lesson_end", "lesson_open", "class_reveal"}
    assert "Reveal the answer" not in [e.label for e in screen.expander]
    assert db.projector(t["code"]).students == 1  # the screen is not counted

    teacher.button(key="lesson_next").click().run()  # step 2, the same page: box blur, asked
    teacher.button(key="class_ask_lesson_2").click().run()
    screen.run()
    screen.run()
    assert screen.selectbox(key="k_preset").value == "Box blur"
    shown = texts(screen)
    assert "0 answers so far" in shown and "The answer" not in shown
    assert not screen.pills  # the screen never answers
    teacher.button(key="class_reveal").click().run()
    screen.run()
    assert "the answer:" in texts(screen)

    forged = open_app(params={"class": t["code"], "screen": "A" * 60})
    assert "class" not in forged.session_state or not forged.session_state["class"]
    assert "not valid" in " ".join(w.value for w in forged.warning)


def test_the_teachers_ready_check_tries_every_part_and_says_what_it_found(db):
    t, _ = a_class(db)
    teacher = session(t)
    teacher.session_state["frame_class"] = True  # the class popover, and the check's box in it
    teacher.session_state["class_ready_open"] = True
    teacher.run()
    teacher.button(key="class_ready_run").click().run()
    checks = teacher.session_state["class_ready"]
    assert [c.name for c in checks] == [
        "Class database",
        "Training",
        "Data and pretrained model",
        "Model builder",
        "Memory",
    ]
    assert all(c.ok for c in checks[:4]), checks
    shown = texts(teacher)
    assert "writable (sqlite)" in shown and "training slot" in shown and "MNIST sample" in shown
    assert "Ready." in shown or "Not ready" in shown  # Memory depends on the machine


def test_when_the_teacher_ends_the_lesson_the_students_lesson_ends_too(db):
    t, s = a_class(db)
    lesson = {"lesson": "edges_and_kernels", "step": "6"}
    teacher = session(t, lesson, page=KERNELS)
    student = session({**s, "auto": True}, lesson, page=KERNELS)
    assert "step 6 of 6" in texts(student)
    teacher.button(key="lesson_end").click().run()
    student.run()  # the strip follows the teacher's page without a lesson
    assert "lesson" not in student.query_params and "step 6 of 6" not in texts(student)
    assert "lesson" not in student.session_state or not student.session_state["lesson"]
