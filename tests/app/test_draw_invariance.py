"""AppTest: Draw & predict's invariance section (shift, turn, scale the drawing; the sweep chart; FGSM)
with the canvas's state injected as a drawing, checked against cnnlib's own answers."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from cnnlib import inference as inf
from tests.app.test_draw import PAGE, SEVEN, _canvas_png, _draw, _session_record, _texts

OPEN = "draw_inv_open"
FOOL = "draw_inv_fool_open"


def _moved_answer(at) -> str | None:
    for md in at.markdown:
        if "draw-moved-answer" in md.value:
            return md.value.split("<b", 1)[1].split(">", 1)[1].split("<", 1)[0]
    return None


def _grey28(png: str) -> np.ndarray:
    """The drawing as the page preprocesses it: grey [28, 28] in [0, 1]."""
    import base64

    rgba = np.asarray(Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1]))).convert("RGBA"))
    return inf.preprocess_drawing(rgba).steps[-1][1]


def _swept(at) -> np.ndarray:
    """The probabilities the chart was drawn from (kept in the section's memory dict): [N, K]."""
    return at.session_state["draw_inv_memory"]["inv_sweep"][1]


def test_closed_it_builds_nothing_and_without_a_drawing_it_says_so(open_page):
    at = open_page(PAGE)
    assert "draw_inv_dx" not in [s.key for s in at.slider]  # closed: no slider, no sweep
    at.session_state[OPEN] = True  # the student opens the section before drawing
    at.run()
    assert not at.exception
    assert "Draw a digit first" in _texts(at)
    assert "draw_inv_dx" not in [s.key for s in at.slider] and _moved_answer(at) is None


def test_a_shift_gives_cnnlibs_answer_and_the_chart_follows_the_slider(open_page):
    png = _canvas_png(SEVEN)
    at = _draw(open_page(PAGE), png)
    at.session_state[OPEN] = True
    at.run()
    assert not at.exception, at.exception
    bundle = inf.load_pretrained_bundle()
    grey = _grey28(png)
    assert _moved_answer(at) == "7"  # at rest: the drawing as it is

    for dx, angle, scale in ((9, 0, 1.0), (-10, 0, 1.0), (9, -45, 0.5)):
        at.slider(key="draw_inv_dx").set_value(dx)
        at.slider(key="draw_inv_angle").set_value(angle)
        at.slider(key="draw_inv_scale").set_value(scale)
        at.run()
        assert not at.exception, at.exception
        _, probs = inf.predict_moved(
            bundle.model, grey, (dx, 0), angle, scale, mean=bundle.mean, std=bundle.std
        )
        expected = inf.answer(probs, bundle.classes)
        assert _moved_answer(at) == expected.label, (dx, angle, scale)
        assert f"({expected.confidence:.0%} sure)" in next(
            m.value for m in at.markdown if "draw-moved-answer" in m.value
        )
    # the chart runs along the slider moved last (the scale), the others where they stand
    assert at.session_state["draw_inv_sweep"] == "scale"
    expected = inf.sweep(
        bundle.model, grey, "scale", shift=(9, 0), angle=-45, mean=bundle.mean, std=bundle.std
    )
    np.testing.assert_allclose(_swept(at), expected, atol=1e-6)
    captions = [img.caption for im in at.get("image") for img in im.proto.imgs]
    assert "The moved drawing (28×28)" in captions
    at.segmented_control(key="draw_inv_sweep").set_value("angle").run()
    expected = inf.sweep(
        bundle.model, grey, "angle", shift=(9, 0), scale=0.5, mean=bundle.mean, std=bundle.std
    )
    np.testing.assert_allclose(_swept(at), expected, atol=1e-6)


def test_reset_and_the_quiz_keeps_the_answer_hidden(open_page):
    at = _draw(open_page(PAGE), _canvas_png(SEVEN))
    at.session_state[OPEN] = True
    at.run()
    at.slider(key="draw_inv_dx").set_value(5).run()
    assert at.slider(key="draw_inv_dx").value == 5
    at.button(key="draw_inv_reset").click().run()
    assert at.slider(key="draw_inv_dx").value == 0 and not at.exception
    at.toggle(key="draw_quiz").set_value(True).run()
    _draw(at, _canvas_png([[(60, 40), (200, 40), (100, 240)]]))
    assert _moved_answer(at) is None and "Reveal the answer first: moving" in _texts(at)


def test_a_students_own_model_is_moved_too(open_page):
    record = _session_record("My CNN", 0.91, dataset="mnist-sample")
    at = open_page(PAGE, state={"trained_models": [record]})
    assert "My CNN" in at.selectbox(key="draw_model").options[1]
    at.selectbox(key="draw_model").set_value(1).run()
    png = _canvas_png(SEVEN)
    _draw(at, png)
    at.session_state[OPEN] = True
    at.run()
    at.slider(key="draw_inv_dy").set_value(-7).run()
    assert not at.exception, at.exception
    model = inf.model_from_record(record)
    _, probs = inf.predict_moved(model, _grey28(png), (0, -7), mean=record["mean"][0], std=record["std"][0])
    assert _moved_answer(at) == inf.answer(probs, record["classes"]).label
    assert at.session_state["draw_inv_sweep"] == "shift_y"


def test_the_fgsm_nudge_shows_cnnlibs_before_and_after(open_page):
    png = _canvas_png(SEVEN)
    at = _draw(open_page(PAGE), png)
    at.session_state[FOOL] = True
    at.run()
    at.slider(key="draw_inv_eps").set_value(0.2).run()
    assert not at.exception, at.exception
    bundle = inf.load_pretrained_bundle()
    result = inf.fgsm_nudge(bundle.model, _grey28(png), 0.2, mean=bundle.mean, std=bundle.std)
    after = inf.answer(result.after, bundle.classes)
    shown = next(m.value for m in at.markdown if "draw-nudged-answer" in m.value)
    assert f">{after.label}</b> ({after.confidence:.0%} sure)" in shown
    assert f"7 went from {result.before[7]:.0%} to {result.after[7]:.0%}" in shown
    captions = [img.caption for im in at.get("image") for img in im.proto.imgs]
    assert f"Nudged: {after.label} ({after.confidence:.0%})" in captions
