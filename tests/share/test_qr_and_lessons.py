"""QR codes decode back to their link (zbarimg); lesson plans: the bundled ones load, broken ones are named."""

from __future__ import annotations

import json
import random
import shutil
import subprocess

import pytest

from cnnlib.inference import DRAW_LINK
from cnnlib.kernels import KERNELS_LINK
from cnnlib.shapes import SHAPES_LINK
from cnnlib.share import BUNDLED, LessonError, QRError, bundled_lesson_text, parse_lesson, qr_png
from cnnlib.share.qr import qr_svg
from cnnlib.spec import BUILDER_LINK
from cnnlib.training import TRAINING_LINK

SCHEMAS = {s.page: s for s in (KERNELS_LINK, SHAPES_LINK, BUILDER_LINK, TRAINING_LINK, DRAW_LINK)}
ZBAR = shutil.which("zbarimg")


@pytest.mark.skipif(ZBAR is None, reason="zbarimg missing (apt-get install -y zbar-tools)")
@pytest.mark.parametrize(
    "link",
    [
        "http://127.0.0.1:8501/kernels?kernel=sobel_y&stride=2&padding=1&pixel=12,7",
        "https://cnn-classroom.streamlit.app/model_builder?model=v1."
        + "eJyrVkrOzysuSU0u" * 12
        + "&present=1",
    ],
)
def test_qr_png_decodes_to_the_link(tmp_path, link):
    png = tmp_path / "qr.png"
    png.write_bytes(qr_png(link))
    out = subprocess.run([ZBAR, "--raw", "-q", str(png)], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == link


def test_qr_svg_is_black_on_white_and_refuses_an_oversized_link():
    svg = qr_svg("http://x/kernels?kernel=sobel_x")
    assert svg.startswith("<svg") and "#000" in svg
    with pytest.raises(QRError, match="Copy the link"):
        qr_svg("http://x/?" + "a" * 3000)
    with pytest.raises(QRError):
        qr_png("")


def test_every_bundled_lesson_loads_and_its_states_are_valid():
    for lesson_id in BUNDLED:
        lesson = parse_lesson(bundled_lesson_text(lesson_id), SCHEMAS, lesson_id)
        assert 4 <= len(lesson.steps) <= 8 and lesson.title and lesson.description
        for step in lesson.steps:
            parsed = SCHEMAS[step.page].parse(step.state)
            assert parsed.ignored == () and step.note
            if step.question and step.question.answer is not None:
                assert step.question.answer in step.question.options


def _lesson(**step) -> str:
    base = {"page": "kernels", "state": {"kernel": "sobel_x"}, "note": "n"}
    return json.dumps({"title": "T", "steps": [base, {**base, **step}]})


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "not valid JSON"),
        ("[]", "JSON object"),
        (json.dumps({"title": "T"}), "'steps'"),
        (json.dumps({"title": "", "steps": [{}]}), "'title'"),
        (json.dumps({"title": "T", "steps": [1]}), "Step 1"),
        (json.dumps({"title": "T", "steps": [{"page": "nope"}]}), "Step 1, field 'page'"),
        (_lesson(state={"stride": "9"}), "Step 2 (Kernels), field 'stride': 9 is outside 1 to 8"),
        (_lesson(state={"weights": "1,2"}), "Step 2 (Kernels), field 'weights'"),
        (_lesson(state=[1, 2]), "Step 2 (Kernels), field 'state'"),
        (_lesson(question={"text": "Q", "options": ["a"]}), "question.options"),
        (_lesson(question={"text": "Q", "options": ["a", "b"], "answer": "c"}), "question.answer"),
        (_lesson(question={"text": "Q", "options": ["a", "a"]}), "must differ"),
        (_lesson(extra=1), "unknown field"),
        (_lesson(note="x" * 5000), "field 'note'"),
        (json.dumps({"title": "T", "steps": [{"page": "kernels", "state": {}}] * 41}), "at most 40"),
        (json.dumps({"title": "T", "bogus": 1, "steps": []}), "unknown field"),
    ],
)
def test_broken_lessons_name_the_step_and_field(text, words):
    with pytest.raises(LessonError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_lesson(text, SCHEMAS)


def test_lesson_files_are_bounded_and_must_be_utf8():
    with pytest.raises(LessonError, match="bytes"):
        parse_lesson(b"{" + b" " * 300_000 + b"}", SCHEMAS)
    with pytest.raises(LessonError, match="UTF-8"):
        parse_lesson(b"\xff\xfe{}", SCHEMAS)


def test_fuzzed_lessons_only_ever_give_lesson_errors():
    rng = random.Random(7)
    good = bundled_lesson_text("edges_and_kernels")
    for _ in range(400):
        chars = list(good)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(chars))
            chars[i] = rng.choice(['"', "{", "}", "[", "]", ",", "x", "9", ":", "\\"])
        try:
            parse_lesson("".join(chars), SCHEMAS)
        except LessonError:
            pass


def test_an_unknown_bundled_lesson_is_refused():
    with pytest.raises(LessonError, match="ships"):
        bundled_lesson_text("nope")
