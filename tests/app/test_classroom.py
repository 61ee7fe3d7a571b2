"""AppTest: the frame's classroom features through app.py: projector view, lessons, class sessions,
polls, the results board; and the lesson pages going on when the class database is gone."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import open_app

KERNELS = "pages/1_kernels.py"
BOARD = "pages/6_class_board.py"


def app(params: dict | None = None, page: str | None = None, state: dict | None = None) -> AppTest:
    return open_app(page, params=params, state=state, check=False)


def texts(at: AppTest) -> str:
    return " ".join(
        [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    )


# ------------------------------------------------------------------------------- projector, lessons


def test_projector_view_from_a_link_and_off_again():
    at = app({"present": "1"})
    assert not at.exception
    assert any("font-size: max(14px, min(1.146vw" in h.proto.body for h in at.get("html"))  # 22 px at 1080p
    assert at.query_params["present"] == "1" and at.toggle(key="present").value is True
    at.toggle(key="present").set_value(False).run()
    assert "present" not in at.query_params
    assert not any("1.146vw" in h.proto.body for h in at.get("html"))


def test_projector_view_folds_the_introduction_and_draws_the_figures_taller():
    import json

    def max_height(at: AppTest) -> int:
        """The tallest the Kernels maps may grow (our heat map element fits them to the window below)."""
        for c in at.get("bidi_component"):
            if "cc_heatmaps" in c.proto.component_name:
                return json.loads(c.proto.json)["max_h"]
        raise AssertionError("no heat map element on the Kernels page")

    student = app(page=KERNELS)
    projector = app({"present": "1"}, page=KERNELS)
    assert not student.exception and not projector.exception
    assert "About this page" in [e.label for e in projector.expander]
    assert "About this page" not in [e.label for e in student.expander]
    assert max_height(student) == 380 and max_height(projector) == 570


def test_a_lesson_link_opens_its_step_and_next_goes_to_the_following_one():
    at = app({"lesson": "edges_and_kernels", "step": "2"})
    assert not at.exception
    assert "Edges and kernels** · step 2 of 6" in texts(at)
    at.button(key="lesson_open").click().run()  # step 2 is on the Kernels page
    assert at.query_params["kernel"] == "box_blur" and at.query_params["step"] == "2"
    assert "blurred" in texts(at)
    at.button(key="lesson_next").click().run()
    assert at.query_params["step"] == "3" and at.selectbox(key="k_preset").value == "Sobel x"  # the default
    assert "step 3 of 6" in texts(at)
    at.button(key="lesson_end").click().run()
    assert "lesson" not in at.query_params and "step 3" not in texts(at)


def test_hostile_frame_params_are_ignored():
    at = app({"lesson": "../../etc/passwd", "step": "x" * 500, "class": "<script>", "present": "maybe"})
    assert not at.exception
    assert "lesson" not in at.query_params and "class" not in at.query_params
    assert "ignored" in texts(at) + " ".join(w.value for w in at.warning)


# ------------------------------------------------------------------------------- class sessions


def test_start_a_class_then_a_student_joins_answers_a_poll_and_sees_the_answer(db):
    teacher = app(state={"frame_class": True})
    title = next(t for t in teacher.text_input if t.label == "Class title")
    title.input("Lesson 3")
    next(b for b in teacher.button if b.label == "Start a class").click().run()
    m = teacher.session_state["class"]
    assert m["role"] == "teacher" and teacher.query_params["class"] == m["code"]
    assert "key" not in teacher.query_params  # the teacher's key never shows in the address bar

    student = app({"class": m["code"]}, state={"frame_class": True})
    assert next(t for t in student.text_input if t.label == "Class code").value == m["code"]
    next(t for t in student.text_input if t.label == "Your nickname").input("Ana <b>")
    next(b for b in student.button if b.label == "Join").click().run()
    assert "<b>" in texts(student) or student.error  # refused with a message (HTML in a nickname)
    next(t for t in student.text_input if t.label == "Your nickname").input("Ana")
    next(b for b in student.button if b.label == "Join").click().run()
    sm = student.session_state["class"]
    assert sm["role"] == "student" and sm["name"] == "Ana"

    pid = db.open_poll(m["code"], m["key"], "Output size?", ["26", "28"], "26")
    student.run()
    pills = student.get("button_group")
    assert pills and "Output size?" in texts(student)
    student.session_state[f"class_answer_{pid}"] = "28"
    student.run()
    assert db.poll(m["code"], pid) == {"26": 0, "28": 1}
    teacher.run()
    assert "1 student in class" in texts(teacher) and "Output size?" in texts(teacher)
    teacher.button(key="class_reveal").click().run()
    student.run()
    assert any("The answer: **26**" in s.value for s in student.success)


def test_the_teacher_link_makes_a_teacher_and_a_wrong_key_says_so(db):
    info = db.create_class("Keys")
    at = app({"class": info.code, "key": info.teacher_key})
    assert at.session_state["class"]["role"] == "teacher" and "key" not in at.query_params
    wrong = app({"class": info.code, "key": "x" * 32})
    assert "class" not in wrong.session_state or wrong.session_state["class"] is None
    assert any("key" in w.value.lower() for w in wrong.warning)


def test_the_board_ranks_posted_runs(db):
    info = db.create_class("Board")
    ana = db.join(info.code, "Ana")
    ben = db.join(info.code, "Ben")
    db.post_run(
        info.code,
        ana,
        {"accuracy": 0.97, "params": 26138, "model": "SimpleCNN", "link": "/training?model=simplecnn"},
    )
    db.post_run(info.code, ben, {"accuracy": 0.91, "params": 5000, "model": "Tiny"})
    at = app(page=BOARD, state={"class": {"code": info.code, "role": "student", "sid": ana, "name": "Ana"}})
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["who"]) == ["Ana (you)", "Ben"] and list(table["test accuracy"]) == [97.0, 91.0]
    assert "model=simplecnn" in table["settings"][0] and "class=" in table["settings"][0]


def test_without_a_class_the_board_says_how_to_join():
    at = app(page=BOARD)
    assert not at.exception and "Join a class" in texts(at)


def test_lesson_pages_keep_working_when_the_class_database_is_unusable(tmp_path, monkeypatch):
    from pages.ui.classes import classroom

    bad = tmp_path / "not-a-db.sqlite"
    bad.write_text("this is not a database")
    monkeypatch.setenv("CNN_CLASSROOM_DB", f"sqlite:///{bad}")
    classroom._store.clear()
    at = app(state={"frame_class": True})
    assert not at.exception
    assert any("unavailable" in w.value.lower() for w in at.warning)  # said once, in the class panel
    next(t for t in at.text_input if t.label == "Your nickname").input("Ana")
    next(t for t in at.text_input if t.label == "Class code").input("K7M-Q2R")
    next(b for b in at.button if b.label == "Join").click().run()
    assert not at.exception and any("unavailable" in w.value.lower() for w in at.warning)
    assert "class" not in at.session_state  # not in a class
    at.switch_page(KERNELS).run()
    assert not at.exception and at.title[0].value.endswith("Kernels")
    classroom._store.clear()


# ------------------------------------------------------------------------------- join limits (issue 24)


def _as_browser_at(monkeypatch, peer: str | None, forwarded: str | None) -> None:
    """What st.context says of the connection: its peer (None: this machine, as behind nginx) and
    the X-Forwarded-For header nginx sent."""
    from streamlit.runtime.context import ContextProxy

    monkeypatch.setattr(ContextProxy, "ip_address", property(lambda self: peer))
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    monkeypatch.setattr(ContextProxy, "headers", property(lambda self: headers))


def _join_form(at: AppTest, code: str, name: str) -> AppTest:
    next(t for t in at.text_input if t.label == "Class code").input(code)
    next(t for t in at.text_input if t.label == "Your nickname").input(name)
    next(b for b in at.button if b.label == "Join").click().run()
    assert not at.exception
    return at


def test_the_page_passes_the_browsers_address_to_the_join_and_start_limits(db, monkeypatch):
    from cnnlib.classroom import limits

    monkeypatch.setattr(limits, "JOINS_PER_ADDRESS", 2)
    monkeypatch.setattr(limits, "CLASSES_PER_ADDRESS", 1)
    info = db.create_class("Limits")
    _as_browser_at(monkeypatch, None, "198.51.100.7")  # behind nginx on this machine
    for name in ["Ana", "Bo"]:
        at = _join_form(app(state={"frame_class": True}), info.code, name)
        assert at.session_state["class"]["name"] == name
    flood = _join_form(app(state={"frame_class": True}), info.code, "Ana")
    assert "class" not in flood.session_state
    assert any("Too many joins from your network" in e.value for e in flood.error)
    assert db.status(info.code).students == 2
    _as_browser_at(monkeypatch, None, "198.51.100.8")  # another school
    assert (
        _join_form(app(state={"frame_class": True}), info.code, "Cy").session_state["class"]["name"] == "Cy"
    )
    _as_browser_at(
        monkeypatch, "203.0.113.9", "198.51.100.99"
    )  # straight to the app: its header is not believed
    assert (
        _join_form(app(state={"frame_class": True}), info.code, "Di").session_state["class"]["name"] == "Di"
    )
    assert (
        _join_form(app(state={"frame_class": True}), info.code, "Ed").session_state["class"]["name"] == "Ed"
    )
    refused = _join_form(app(state={"frame_class": True}), info.code, "Fe")
    assert any("Too many joins" in e.value for e in refused.error) and "class" not in refused.session_state

    def start() -> AppTest:
        teacher = app(state={"frame_class": True})
        next(t for t in teacher.text_input if t.label == "Class title").input("Lesson")
        next(b for b in teacher.button if b.label == "Start a class").click().run()
        assert not teacher.exception
        return teacher

    assert start().session_state["class"]["role"] == "teacher"
    second = start()
    assert "class" not in second.session_state
    assert any("Too many classes started from your network" in e.value for e in second.error)


def test_a_browser_that_holds_a_seat_in_the_class_gets_it_back_instead_of_joining_again(db, monkeypatch):
    from pages.ui.classes import seat

    info, other = db.create_class("Mine"), db.create_class("Another")
    sid = db.join(info.code, "Ana")
    token = db.issue_seat(info.code, "student", student_id=sid)
    monkeypatch.setattr(seat, "browser_token", lambda: token)  # this browser's cookie
    # Opened from another class's link, its seat stays in the browser; then Ana types her own code.
    at = app({"class": other.code}, state={"frame_class": True})
    assert "class" not in at.session_state
    at.button(key="class_invite_dismiss").click().run()  # "Not now" to the other class's invite
    _join_form(at, info.code, "Ana 2")
    m = at.session_state["class"]
    assert (m["code"], m["role"], m["sid"], m["name"]) == (info.code, "student", sid, "Ana")
    assert any("already in class" in w.value for w in at.warning)
    assert db.status(info.code).students == 1  # one browser, one student
    # Many sessions of that browser are all Ana.
    for _ in range(3):
        again = app({"class": info.code})
        assert again.session_state["class"]["sid"] == sid
    assert db.status(info.code).students == 1
    # A browser whose seat is gone (Ana left) joins as someone new.
    db.leave(info.code, sid)
    fresh = app({"class": other.code}, state={"frame_class": True})
    fresh.button(key="class_invite_dismiss").click().run()
    _join_form(fresh, info.code, "Ana")
    assert fresh.session_state["class"]["sid"] != sid and fresh.session_state["class"]["name"] == "Ana 2"
