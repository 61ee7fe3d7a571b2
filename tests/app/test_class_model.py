"""AppTest: "Share this model with the class" (issue 26): a student trains a tiny run on the Training
page and shares it from the Results tab; the teacher's Draw & predict lists the class's model
(the bundled one stays selected), and picking it answers a drawing as cnnlib's prediction with the
same stored record does. Too big a model is refused with the message; a corrupt one falls back."""

from __future__ import annotations

import base64
import io
import time

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnlib.inference import model_from_record, predict, preprocess_drawing
from cnnlib.trained import TrainedModel
from tests.app.test_draw import SEVEN, _answer, _canvas_png, _draw
from tests.conftest import open_app

DRAW = "pages/5_draw_and_predict.py"
TRAINING = "pages/4_training.py"
CLASS_MODEL = -1  # the Draw page's selector value for the class's model


def _student(code: str, sid: str, name: str, page: str) -> AppTest:
    state = {"class": {"code": code, "role": "student", "sid": sid, "name": name, "auto": False}}
    return open_app(page, state=state, check=False, timeout=120)


def _teacher(code: str, key: str, page: str = DRAW) -> AppTest:
    state = {"class": {"code": code, "role": "teacher", "key": key, "lead": False}}
    return open_app(page, state=state, check=False, timeout=120)


def _trained_results(at: AppTest, dataset: str = "mnist-sample"):
    """A tiny run (on the MNIST sample: 1x28x28, the digits), then the Results tab."""
    at.selectbox(key="tr_dataset").set_value(dataset)
    at.selectbox(key="tr_model").set_value("TinyCNN")
    at.number_input(key="tr_ep").set_value(1)
    at.number_input(key="tr_bs").set_value(128)
    at.run()
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    for _ in range(600):  # a guard against hanging, not a timing assertion
        at.run()
        if run.done:
            break
        time.sleep(0.1)
    at.run()
    assert run.done and not at.exception, at.exception
    at.session_state["train_tab"] = next(t.label for t in at.tabs if "Results" in t.label)
    at.run()
    assert not at.exception, at.exception
    return run


def _expected(record: dict, png: str) -> str:
    rgba = np.asarray(Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1]))))
    mean, std = float(np.ravel(record["mean"])[0]), float(np.ravel(record["std"])[0])
    probs = predict(model_from_record(record), preprocess_drawing(rgba, mean, std).tensor)
    return str(record["classes"][int(np.argmax(probs))])


def test_a_student_shares_a_model_and_the_teacher_draws_for_it(db):
    info = db.create_class("Models")
    ana = db.join(info.code, "Ana")
    a = _student(info.code, ana, "Ana", TRAINING)
    _trained_results(a)
    a.button(key="class_share_model").click().run()
    assert not a.exception, a.exception
    shown = " ".join(s.value for s in a.success)
    assert f"Shared: everyone in class {info.code[:3]}-{info.code[3:]} can draw for it" in shown, shown
    stored = db.class_model(info.code, with_data=True)
    assert stored is not None and stored.shared_by == "Ana" and stored.accuracy is not None
    record = TrainedModel.from_bytes(stored.data).to_dict()
    assert record["classes"] == [str(d) for d in range(10)] and record["spec"] is not None

    teacher = _teacher(info.code, info.teacher_key)
    assert not teacher.exception, teacher.exception
    menu = teacher.selectbox(key="draw_model")
    assert menu.value == 0  # the bundled model stays the default
    entry = next(o for o in menu.options if o.startswith("The class's model:"))
    assert stored.name in entry and f"{stored.accuracy:.1%}" in entry and "shared by Ana" in entry
    menu.set_value(CLASS_MODEL).run()
    png = _canvas_png(SEVEN)
    _draw(teacher, png)
    assert _answer(teacher) == _expected(record, png)
    assert any(c.value == f"Model: {stored.name}" for c in teacher.caption)  # not the bundled one
    assert not teacher.error, [e.value for e in teacher.error]


def test_too_big_a_model_is_refused_and_a_corrupt_one_falls_back(db, monkeypatch):
    info = db.create_class("Models")
    teacher = _teacher(info.code, info.teacher_key, TRAINING)
    _trained_results(teacher)
    monkeypatch.setattr("cnnlib.classroom.class_model.MAX_MODEL_BYTES", 1000)
    teacher.button(key="class_share_model").click().run()
    assert not teacher.exception, teacher.exception
    errors = " ".join(e.value for e in teacher.error)
    assert "too big to share with the class" in errors, errors
    assert db.class_model(info.code) is None

    db.share_model(info.code, info.teacher_key, "Broken", b"not a torch file", 0.5, "mnist-sample")
    draw = _teacher(info.code, info.teacher_key)
    draw.selectbox(key="draw_model").set_value(CLASS_MODEL).run()
    _draw(draw, _canvas_png(SEVEN))
    errors = " ".join(e.value for e in draw.error)
    assert "The class's model can't read drawings" in errors and "could not be read" in errors, errors
    assert _answer(draw) is not None  # the bundled model answers instead
    assert any(c.value.startswith("Model: the pretrained") for c in draw.caption)


def test_a_model_that_cannot_read_drawings_is_not_offered(db):
    info = db.create_class("Models")
    ana = db.join(info.code, "Ana")
    a = _student(info.code, ana, "Ana", TRAINING)
    _trained_results(a, "shapes")  # 3x28x28 colour shapes: Draw & predict's drawings are grey
    assert not any(b.key == "class_share_model" for b in a.button)
    assert any("Draw & predict can't use this model" in c.value for c in a.caption)
