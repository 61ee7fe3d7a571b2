"""AppTest: the Draw & predict page through app.py, with the canvas's state injected as a drawing."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from tests.app.plotly_specs import plotly_specs

PAGE = "pages/5_draw_and_predict.py"
KEY = "draw_canvas_0"


def _canvas_png(strokes=(), width=20, fill=False) -> str:
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    draw = ImageDraw.Draw(img)
    if fill:
        draw.rectangle((0, 0, 279, 279), fill=(255, 255, 255, 255))
    for points in strokes:
        if len(points) == 1:
            (x, y), r = points[0], width / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 255))
        else:
            draw.line(points, fill=(255, 255, 255, 255), width=width, joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


SEVEN = [[(60, 50), (210, 50), (110, 240)]]
ONE = [[(140, 30), (140, 250)]]
PATH = {"type": "Path", "path": [["M", 10, 10], ["L", 20, 20]], "strokeWidth": 20}


def _session_record(name: str, test_accuracy: float, **extra) -> dict:
    """A record as the Training page stores one, holding the pretrained model's weights under a new name."""
    from cnnlib.inference import load_pretrained_bundle

    bundle = load_pretrained_bundle()
    return {
        "name": name,
        "spec": bundle.spec,
        "state_dict": bundle.model.state_dict(),
        "classes": bundle.classes,
        "test_accuracy": test_accuracy,
        "mean": (bundle.mean,),
        "std": (bundle.std,),
        **extra,
    }


def _draw(at: AppTest, data_url: str, n_objects: int = 1, key: str = KEY) -> AppTest:
    at.session_state[key] = {"drawing": {"raw": {"objects": [PATH] * n_objects}, "data": data_url}}
    at.run()
    assert not at.exception, at.exception
    return at


def _answer(at: AppTest) -> str | None:
    for md in at.html:  # st.html: the page's big answer
        if "draw-answer" in md.value:
            return md.value.split("data-testid='draw-answer'")[1].split(">", 1)[1].split("<", 1)[0]
    return None


def _texts(at: AppTest) -> str:
    parts = [
        e.value for kind in ("info", "warning", "error", "markdown", "caption") for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def test_drawing_gets_a_prediction_with_every_view(open_page):
    at = open_page(PAGE)
    assert "Draw a digit" in _texts(at) and _answer(at) is None
    _draw(at, _canvas_png(SEVEN))
    assert _answer(at) == "7"
    charts = plotly_specs(at)
    assert len(charts) >= 1 + 1 + 3  # probabilities, Grad-CAM, three conv layers
    assert len(at.get("image")) >= 5  # the preprocessing steps
    texts = _texts(at)
    assert (
        "Digit CNN (29,290 parameters), pretrained · test accuracy 98"
        in at.selectbox(key="draw_model").options[0]
    )
    assert "What the network sees" in "\n".join(h.value for h in at.subheader)
    # A second stroke set: a "1", the answer follows the drawing.
    _draw(at, _canvas_png(ONE))
    assert _answer(at) == "1"
    assert "Traceback" not in texts


@pytest.mark.parametrize(
    "png, words",
    [
        (_canvas_png(), "empty"),
        (_canvas_png([[(140, 140)]]), "dot"),
        (_canvas_png(fill=True), "covered"),
        (_canvas_png([[(0, 0), (279, 279)]]), "edge"),
    ],
    ids=["blank", "dot", "scribble", "edges"],
)
def test_bad_drawings_get_a_message(png, words, open_page):
    at = _draw(open_page(PAGE), png)
    assert words in _texts(at)


def test_quiz_mode_hides_then_reveals(open_page):
    at = open_page(PAGE)
    at.toggle(key="draw_quiz").set_value(True).run()
    _draw(at, _canvas_png(SEVEN))
    assert _answer(at) is None and "What will the network say?" in _texts(at)
    at.button(key="draw_reveal").click().run()
    assert _answer(at) == "7"


def test_undo_and_clear(open_page):
    at = _draw(open_page(PAGE), _canvas_png(SEVEN), n_objects=2)
    at.button(key="draw_undo").click().run()
    assert not at.exception
    initial = at.session_state["draw_initial"]
    assert len(initial["objects"]) == 1
    at.button(key="draw_clear").click().run()
    assert at.session_state["draw_canvas_n"] == 1 and at.session_state["draw_initial"] is None
    assert _answer(at) is None  # the new canvas is empty


def test_upload_fallback_and_bad_uploads(open_page):
    at = open_page(PAGE)
    at.radio(key="draw_mode").set_value("Upload an image").run()
    paper = Image.new("L", (300, 300), 235)  # a dark "7" on light paper, as in a photo
    ImageDraw.Draw(paper).line([(70, 60), (230, 60), (120, 260)], fill=20, width=22)
    at.file_uploader(key="draw_upload").set_value(("seven.png", _png_bytes(paper), "image/png")).run()
    assert not at.exception and _answer(at) == "7"
    at.file_uploader(key="draw_upload").set_value(("fake.png", b"not an image", "image/png")).run()
    assert not at.exception and "could not be read as an image" in _texts(at)
    assert _answer(at) is None


def test_incompatible_session_model_is_explained(open_page):
    at = open_page(PAGE)
    bad = {
        "name": "CIFAR net",
        "spec": {
            "input_shape": [3, 32, 32],
            "layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 10}],
        },
        "state_dict": {},
        "classes": [str(i) for i in range(10)],
        "dataset": "cifar10",
        "test_accuracy": 0.5,
        "mean": (0.5, 0.5, 0.5),
        "std": (0.25, 0.25, 0.25),
    }
    at.session_state["trained_models"] = [bad]
    at.run()
    at.selectbox(key="draw_model").set_value(1).run()
    _draw(at, _canvas_png(SEVEN))
    texts = _texts(at)
    assert "can't read drawings" in texts and "3×32×32" in texts
    assert _answer(at) == "7"  # the pretrained model stands in


def test_session_model_is_used(open_page):
    """A model trained this session (here: the pretrained weights, renamed) answers the drawing."""
    record = _session_record("My CNN", 0.91, dataset="mnist-sample")
    at = open_page(PAGE)
    at.session_state["trained_models"] = [record]
    at.run()
    at.selectbox(key="draw_model").set_value(1).run()
    _draw(at, _canvas_png(SEVEN))
    assert "Model: My CNN" in _texts(at) and _answer(at) == "7"
    assert np.isclose(record["test_accuracy"], 0.91)


def test_session_model_without_convolutions_and_broken_records(open_page):
    mlp = {
        "name": "MLP on MNIST sample (91.0%, 10:00)",
        "spec": {
            "input_shape": [1, 28, 28],
            "layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 10}],
        },
        "classes": [str(i) for i in range(10)],
        "dataset": "mnist-sample",
        "test_accuracy": 0.91,
        "mean": [0.13],
        "std": [0.31],
    }
    import torch

    torch.manual_seed(0)
    mlp["state_dict"] = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)).state_dict()
    broken = dict(mlp, name="Broken", state_dict={"0.weight": torch.zeros(3)})
    at = open_page(PAGE)
    at.session_state["trained_models"] = [mlp, broken]
    at.run()
    options = at.selectbox(key="draw_model").options
    assert options[1] == "Trained this session: MLP on MNIST sample (91.0%, 10:00)"
    at.selectbox(key="draw_model").set_value(1).run()
    _draw(at, _canvas_png(SEVEN))
    texts = _texts(at)
    assert "Model: MLP on MNIST sample" in texts and _answer(at) is not None
    assert "no convolution layers" in texts and "No Grad-CAM for this model" in texts
    at.selectbox(key="draw_model").set_value(2).run()
    assert not at.exception
    texts = _texts(at)
    assert "can't read drawings" in texts and "could not be loaded" in texts
    assert _answer(at) == "7"


def test_undo_on_an_empty_canvas_and_huge_upload(open_page):
    at = open_page(PAGE)
    at.button(key="draw_undo").click().run()
    assert not at.exception and "Nothing to undo" in _texts(at)
    at.radio(key="draw_mode").set_value("Upload an image").run()
    huge = _png_bytes(Image.new("1", (6000, 5000), 0))
    at.file_uploader(key="draw_upload").set_value(("huge.png", huge, "image/png")).run()
    assert not at.exception and "too big" in _texts(at)
    blank = _png_bytes(Image.new("RGB", (200, 200), (250, 250, 250)))
    at.file_uploader(key="draw_upload").set_value(("blank.png", blank, "image/png")).run()
    assert not at.exception and "blank" in _texts(at)


def test_missing_pretrained_file_is_explained(monkeypatch, tmp_path, open_page):
    from cnnlib.inference import pretrained
    from pages.ui.resources import get_pretrained

    monkeypatch.setattr(pretrained, "DATA_DIR", tmp_path)  # where pretrained_path looks it up
    get_pretrained.clear()
    try:
        at = open_page(PAGE)
        texts = _texts(at)
        assert "mnist_cnn.pt is missing" in texts and "train_pretrained.py" in texts
        assert "No model to use yet" in texts
    finally:
        get_pretrained.clear()


# ------------------------------------------------------------- audit additions


def _cam_z(at: AppTest) -> np.ndarray:
    """The Grad-CAM heat map (the figure's first trace) as the page drew it."""
    import json

    chart = next(spec for id_, spec in plotly_specs(at) if "draw_cam" in id_)
    z = json.loads(chart)["data"][0]["z"]
    if isinstance(z, dict):  # Plotly's typed-array encoding
        shape = [int(n) for n in str(z.get("shape", "28, 28")).split(",")]
        z = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.asarray(z, dtype=np.float32)


CAM_ATOL = 5.01e-4  # the page sends heat maps rounded to 3 decimals (cnnlib.plots.draw.heat_values)


def _expected_cam(png: str, target: int) -> np.ndarray:
    from cnnlib.inference import grad_cam, load_pretrained_bundle, preprocess_drawing

    bundle = load_pretrained_bundle()
    rgba = np.asarray(Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1]))))
    return grad_cam(bundle.model, preprocess_drawing(rgba, bundle.mean, bundle.std).tensor, target)


def test_grad_cam_follows_each_new_answer_until_a_class_is_chosen(open_page):
    at = open_page(PAGE)
    seven, one = _canvas_png(SEVEN), _canvas_png(ONE)
    _draw(at, seven)
    sel = at.selectbox(key="draw_cam_class_10")
    assert sel.value == -1 and sel.options[0] == "The network's answer"
    np.testing.assert_allclose(_cam_z(at), _expected_cam(seven, 7), atol=CAM_ATOL)
    _draw(at, one)  # a new drawing: Grad-CAM explains the new answer, not the old one
    sel = at.selectbox(key="draw_cam_class_10")
    assert _answer(at) == "1" and sel.value == -1 and "the network's answer, **1**" in _texts(at)
    np.testing.assert_allclose(_cam_z(at), _expected_cam(one, 1), atol=CAM_ATOL)
    sel.set_value(3).run()
    assert "Evidence for **3**; the network's answer is **1**." in _texts(at)
    np.testing.assert_allclose(_cam_z(at), _expected_cam(one, 3), atol=CAM_ATOL)
    _draw(at, seven)  # a chosen class stays chosen
    assert at.selectbox(key="draw_cam_class_10").value == 3 and "answer is **7**" in _texts(at)


def test_naive_squash_comparison_and_quiz_keeps_it_hidden(open_page):
    corner = _canvas_png([[(8, 8), (60, 8), (25, 75)]], width=8)  # a small 7 in the corner
    at = _draw(open_page(PAGE), corner)
    assert "Squashed whole" not in _texts(at)  # the expander is lazy: nothing runs while it is closed
    at.session_state["draw_why_open"] = True  # the student opens "Why preprocess the drawing like MNIST?"
    at.run()
    texts = _texts(at)
    assert "Squashed whole" in texts and "Through the MNIST recipe it is **7**" in texts
    at.toggle(key="draw_quiz").set_value(True).run()
    _draw(at, _canvas_png(SEVEN))
    texts = _texts(at)
    assert "Through the MNIST recipe" not in texts and "Reveal the answer first" in texts


def test_upload_mode_words_and_a_16_bit_scan(open_page):
    at = open_page(PAGE)
    at.radio(key="draw_mode").set_value("Upload an image").run()
    texts = _texts(at)
    assert "### Upload a digit" in texts and "### Draw a digit" not in texts
    paper = Image.new("L", (300, 300), 235)
    ImageDraw.Draw(paper).line([(70, 60), (230, 60), (120, 260)], fill=20, width=22)
    scan16 = Image.fromarray(np.asarray(paper).astype(np.uint16) * 257)  # a 16-bit grey PNG
    at.file_uploader(key="draw_upload").set_value(("scan16.png", _png_bytes(scan16), "image/png")).run()
    assert not at.exception and _answer(at) == "7"
    tiny = _png_bytes(Image.new("RGB", (1, 1)))
    at.file_uploader(key="draw_upload").set_value(("dot.png", tiny, "image/png")).run()
    assert not at.exception and "too small" in _texts(at) and _answer(at) is None


def test_corrupt_pretrained_file_is_explained_and_session_models_still_work(monkeypatch, tmp_path, open_page):
    from cnnlib.inference import pretrained
    from pages.ui.resources import get_pretrained

    record = _session_record("My CNN", 0.9)  # built before the weights file is broken below
    (tmp_path / "mnist_cnn.pt").write_bytes(b"PK\x03\x04 half a zip file")
    monkeypatch.setattr(pretrained, "DATA_DIR", tmp_path)
    get_pretrained.clear()
    try:
        at = open_page(PAGE)
        assert "could not be read" in _texts(at) and "No model to use yet" in _texts(at)
        at.session_state["trained_models"] = [record]
        at.run()
        assert at.selectbox(key="draw_model").options == [
            "Trained this session: My CNN · test accuracy 90.0%"
        ]
        _draw(at, _canvas_png(SEVEN))
        assert not at.exception and _answer(at) == "7" and "could not be read" in _texts(at)
    finally:
        get_pretrained.clear()


def test_session_models_with_other_classes(open_page):
    """Output count and class names that disagree are refused; other class names work, with a note."""
    from cnnlib.inference import load_pretrained_bundle

    bundle = load_pretrained_bundle()
    base = {"spec": bundle.spec, "state_dict": bundle.model.state_dict(), "test_accuracy": 0.8}
    wrong = dict(base, name="Three names", classes=["a", "b", "c"])
    fashion = dict(base, name="Fashion", classes=["T-shirt", "Trouser", "Pullover", *"3456789"])
    at = open_page(PAGE)
    at.session_state["trained_models"] = [wrong, fashion]
    at.run()
    at.selectbox(key="draw_model").set_value(1).run()
    _draw(at, _canvas_png(SEVEN))
    texts = _texts(at)
    assert "can't read drawings" in texts and "10 outputs but 3 class names" in texts
    assert _answer(at) == "7"  # the pretrained model stands in
    at.selectbox(key="draw_model").set_value(2).run()
    texts = _texts(at)
    assert "not the digits 0-9" in texts and "Model: Fashion" in texts and not at.exception


def test_the_bundled_model_stays_until_the_student_picks_their_own(open_page):
    """A model trained this session joins the menu but is never selected by itself (issue 25: the
    teacher's Grad-CAM switched to a 4-channel SimpleCNN just trained); the student's pick stands."""
    record = _session_record("Just trained", 0.9)
    at = open_page(PAGE)
    assert at.selectbox(key="draw_model").value == 0  # only the bundled Digit CNN so far
    at.session_state["trained_models"] = [record]
    at.run()
    assert len(at.selectbox(key="draw_model").options) == 2
    assert at.selectbox(key="draw_model").value == 0  # still the bundled model
    _draw(at, _canvas_png(SEVEN))
    assert "Model: the pretrained Digit CNN" in _texts(at) and _answer(at) == "7"
    at.selectbox(key="draw_model").set_value(1).run()  # the student picks their own
    assert "Model: Just trained" in _texts(at)
    at.session_state["trained_models"] = [record, dict(record, name="Trained again")]
    at.run()
    assert at.selectbox(key="draw_model").value == 1  # a newer run does not take over either
    assert "Model: Just trained" in _texts(at)


def test_grad_cam_class_labels_never_go_stale_and_a_chosen_class_stays(open_page):
    """Issue 25: the selector said "The answer (1)" while the answer was 4 (its labels carried the
    answer, so the browser kept an old one), and a class chosen by hand reset when it became the answer."""
    at = open_page(PAGE)
    _draw(at, _canvas_png(SEVEN))
    first = list(at.selectbox(key="draw_cam_class_10").options)
    assert not any("7" in label and label != "7" for label in first)  # no label names today's answer
    _draw(at, _canvas_png(ONE), n_objects=2)  # another stroke: another answer
    sel = at.selectbox(key="draw_cam_class_10")
    assert _answer(at) == "1" and list(sel.options) == first  # the same words whatever the answer
    assert "the network's answer, **1**" in _texts(at)
    sel.set_value(7).run()  # chosen by hand
    assert "Evidence for **7**; the network's answer is **1**." in _texts(at)
    _draw(at, _canvas_png(SEVEN), n_objects=1)  # undo: the chosen class is now the answer, and stays chosen
    sel = at.selectbox(key="draw_cam_class_10")
    assert _answer(at) == "7" and sel.value == 7 and list(sel.options) == first
    assert "Evidence for **7**, which is also the network's answer." in _texts(at)
    np.testing.assert_allclose(_cam_z(at), _expected_cam(_canvas_png(SEVEN), 7), atol=CAM_ATOL)
    _draw(at, _canvas_png(ONE), n_objects=2)
    assert at.selectbox(key="draw_cam_class_10").value == 7 and "answer is **1**" in _texts(at)
