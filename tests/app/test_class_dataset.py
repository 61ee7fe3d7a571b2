"""AppTest: a dataset the class draws (issue 26): the teacher opens it with 3 labels, two students add
drawings from Draw & predict (the canvas state injected), the caps refuse with a message, the Class
board shows the counts and thumbnails, the Training page lists and trains on "Our class's drawings",
and removing a student removes their drawings."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from cnnlib.classroom import PER_STUDENT_PER_LABEL
from tests.app.test_draw import ONE, SEVEN, _canvas_png, _draw
from tests.conftest import open_app

DRAW = "pages/5_draw_and_predict.py"
BOARD = "pages/6_class_board.py"
TRAINING = "pages/4_training.py"
LABELS = ["circle", "triangle", "star"]


def _student(code: str, sid: str, name: str, page: str = DRAW) -> AppTest:
    state = {"class": {"code": code, "role": "student", "sid": sid, "name": name, "auto": False}}
    return open_app(page, state=state, check=False, timeout=120)


def _texts(at: AppTest) -> str:
    return " ".join(
        [m.value for m in at.markdown]
        + [c.value for c in at.caption]
        + [e.value for e in at.error]
        + [s.value for s in at.subheader]
    )


def _add(at: AppTest, label_index: int, stroke: list, n: int) -> AppTest:
    """Draw a new picture (the stroke's last point moved by n, so each drawing is new) and add it."""
    moved = [[*points[:-1], (points[-1][0] + 6 * (n % 8), points[-1][1] - 5 * (n // 8))] for points in stroke]
    _draw(at, _canvas_png(moved), n_objects=1 + n % 2)
    at.button(key=f"draw_ds_add_{label_index}").click().run()
    assert not at.exception, at.exception
    return at


def test_the_teacher_opens_a_dataset_students_draw_it_and_the_class_trains_on_it(db):
    info = db.create_class("Drawings")
    teacher_state = {"code": info.code, "role": "teacher", "key": info.teacher_key, "lead": False}
    teacher = open_app(DRAW, state={"class": teacher_state, "frame_class": True}, check=False, timeout=120)
    teacher.session_state["class_ds_open"] = True  # a click on "Draw a dataset" in the class panel
    teacher.run()
    teacher.text_input(key="class_ds_labels").input(", ".join(LABELS))
    teacher.button(key="class_ds_start").click().run()
    assert not teacher.exception, teacher.exception
    opened = db.dataset_info(info.code)
    assert opened is not None and opened.labels == tuple(LABELS) and opened.open

    ana, bo = db.join(info.code, "Ana"), db.join(info.code, "Bo")
    a = _student(info.code, ana, "Ana")
    assert "Add this drawing as:" in _texts(a)
    assert a.button(key="draw_ds_add_0").disabled  # nothing drawn yet
    _add(a, 0, SEVEN, 0)
    assert a.button(key="draw_ds_add_0").disabled  # this drawing was added: wait for a new one
    assert "circle 1/20" in _texts(a)
    stored = db.drawings(info.code)
    assert stored.images.shape == (1, 28, 28) and stored.images.max() > 200  # what the network sees

    for n in range(1, PER_STUDENT_PER_LABEL - 1):
        _add(a, 0, SEVEN, n)
    stale = _student(info.code, ana, "Ana")  # a second tab, drawn while she had 19 circles
    _draw(stale, _canvas_png([[(50, 50), (200, 220)]]))
    assert not stale.button(key="draw_ds_add_0").disabled
    _add(a, 0, SEVEN, PER_STUDENT_PER_LABEL)  # her 20th, in the first tab
    assert db.dataset_info(info.code, ana).mine["circle"] == PER_STUDENT_PER_LABEL
    assert a.button(key="draw_ds_add_0").disabled  # her circles are full
    stale.button(key="draw_ds_add_0").click().run()  # the 21st: refused, with a message
    assert any(f"already drew {PER_STUDENT_PER_LABEL} of 'circle'" in e.value for e in stale.error)
    assert db.dataset_info(info.code, ana).mine["circle"] == PER_STUDENT_PER_LABEL

    for n in range(5):
        _add(a, 1, ONE, n)
    b = _student(info.code, bo, "Bo")
    for n in range(6):
        _add(b, 2, SEVEN, n + 3)
    _add(b, 1, ONE, 9)
    counts = db.dataset_info(info.code).counts
    assert counts == {"circle": 20, "triangle": 6, "star": 6}

    board = _student(info.code, bo, "Bo", page=BOARD)
    assert not board.exception, board.exception
    assert [(m.label, m.value) for m in board.metric] == [("circle", "20"), ("triangle", "6"), ("star", "6")]
    captions = [img.caption for im in board.get("image") for img in im.proto.imgs]
    assert "The newest drawings of each label" in captions

    trainer = _student(info.code, bo, "Bo", page=TRAINING)
    assert not trainer.exception, trainer.exception
    dataset = trainer.selectbox(key="tr_dataset")
    assert "class-drawings" in dataset.options or "Our class's drawings" in dataset.options
    dataset.set_value("class-drawings")
    trainer.selectbox(key="tr_model").set_value("TinyCNN")
    trainer.number_input(key="tr_ep").set_value(1)
    trainer.number_input(key="tr_bs").set_value(16)  # 23 training drawings (3 held out for validation)
    trainer.run()
    assert not trainer.exception, trainer.exception
    bundle = trainer.session_state["class_ds_bundle"][1]
    assert bundle.input_shape == (1, 28, 28) and len(bundle.train) + len(bundle.test) == 32
    assert bundle.class_counts("test") == [4, 1, 1]
    assert "data" not in trainer.query_params  # the class's drawings never travel in a link
    trainer.button(key="train_start").click().run()
    run = trainer.session_state["train_run"]
    for _ in range(600):  # a guard against hanging, not a timing assertion
        trainer.run()
        if run.done:
            break
        time.sleep(0.1)
    assert run.done and not trainer.exception

    # Removing Bo removes his drawings; too few stars then says how many more.
    db.remove_student(info.code, info.teacher_key, bo)
    assert db.dataset_info(info.code).counts == {"circle": 20, "triangle": 5, "star": 0}
    again = _student(info.code, ana, "Ana", page=TRAINING)
    again.selectbox(key="tr_dataset").set_value("class-drawings").run()
    assert any("draw 5 more 'star'" in e.value for e in again.error), [e.value for e in again.error]
