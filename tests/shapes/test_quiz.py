"""cnnlib.shapes.quiz: questions PyTorch accepts, answers that agree with PyTorch, kind verdicts."""

from __future__ import annotations

import random
import warnings
from collections import Counter

import pytest
import torch
import torch.nn as nn

from cnnlib.shapes import QUIZ_KINDS, QuizQuestion, Score, check_answer, make_question
from cnnlib.shapes.quiz import common_mistakes


def test_questions_are_valid_and_answers_agree_with_torch():
    """Each question's code is real PyTorch: run it and compare the output size."""
    rng = random.Random(0)
    kinds = Counter()
    features = Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(300):
            q = make_question(rng)
            layer = eval(q.code(), {"nn": nn})  # noqa: S307 - our own generated code
            channels = 3 if q.kind in ("Conv2d", "ConvTranspose2d") else 1
            x = torch.zeros(1, channels, q.size, q.size, device="meta")  # [N, C, H, W]
            out = layer.to("meta")(x)
            assert tuple(out.shape[-2:]) == (q.answer, q.answer), q
            assert 1 <= q.answer <= 300
            kinds[q.kind] += 1
            features["ceil"] += q.ceil_mode
            features["same"] += q.padding == "same"
            features["dilation"] += q.dilation > 1
            features["default stride"] += q.stride is None
    assert set(kinds) == set(QUIZ_KINDS)
    assert all(features[f] > 0 for f in ("ceil", "same", "dilation", "default stride")), features


def test_same_seed_same_question():
    assert make_question(random.Random(42)) == make_question(random.Random(42))
    assert len({make_question(random.Random(i)) for i in range(30)}) > 20


def test_kinds_can_be_restricted():
    rng = random.Random(1)
    assert {make_question(rng, ["MaxPool2d"]).kind for _ in range(20)} == {"MaxPool2d"}
    assert make_question(rng, ["Nope"]).kind in QUIZ_KINDS


def test_prompt_code_and_formula():
    q = QuizQuestion("Conv2d", 28, 5, 2, 1)
    assert q.answer == 13
    assert q.code() == "nn.Conv2d(in_channels=3, out_channels=16, kernel_size=5, stride=2, padding=1)"
    assert "28×28" in q.prompt() and "nn.Conv2d" in q.prompt()
    assert r"\frac{28 + 2\cdot 1 - 1\cdot(5-1) - 1}{2}" in q.formula_latex()
    pool = QuizQuestion("MaxPool2d", 7, 2, None, ceil_mode=True)
    assert (
        pool.code() == "nn.MaxPool2d(kernel_size=2, ceil_mode=True)"
        and "defaults to its kernel" in pool.prompt()
    )
    assert pool.answer == 4 and r"\lceil" in pool.formula_latex()
    t = QuizQuestion("ConvTranspose2d", 4, 3, 2, 1, output_padding=1)
    assert t.answer == 8 and "output_padding=1" in t.code() and r"(4-1)\cdot 2" in t.formula_latex()
    assert QuizQuestion("Conv2d", 9, 3, 1, "same").code().endswith("padding='same')")


@pytest.mark.parametrize("text", ["13", " 13 ", "13\n", "\t+13", "13.0"])
def test_right_answers_tolerate_whitespace(text):
    a = check_answer(QuizQuestion("Conv2d", 28, 5, 2, 1), text)
    assert a.status == "correct" and a.correct and a.value == 13 and "13×13" in a.message


@pytest.mark.parametrize("text", ["", "   ", "abc", "13.5", "thirteen", "1 3", "nan", "inf"])
def test_non_numbers_are_not_marked_wrong(text):
    a = check_answer(QuizQuestion("Conv2d", 28, 5, 2, 1), text)
    assert a.status == "invalid" and not a.correct
    assert "whole number" in a.message


def test_wrong_answers_say_the_right_one_with_a_hint():
    q = QuizQuestion("Conv2d", 28, 5, 2, 1)
    a = check_answer(q, "12")
    assert a.status == "wrong" and a.value == 12 and "PyTorch gives 13" in a.message
    assert "padding" in a.message  # 12 is what you get without the padding
    assert "+ 1" in check_answer(QuizQuestion("Conv2d", 28, 3), "25").message
    assert "floor" in check_answer(QuizQuestion("Conv2d", 28, 3, 2, 0), "14").message  # 13.5 rounded up
    assert "defaults to its kernel" in check_answer(QuizQuestion("MaxPool2d", 8, 2, None), "7").message
    assert "both sides" in check_answer(QuizQuestion("Conv2d", 10, 3, 1, 2), "10").message
    assert "formula below" in check_answer(q, "99").message
    assert "-5" in check_answer(q, "-5").message


def test_common_mistakes_never_include_the_answer():
    rng = random.Random(3)
    for _ in range(300):
        q = make_question(rng)
        assert q.answer not in common_mistakes(q)


def test_score_counts_checked_answers_only():
    q = QuizQuestion("AvgPool2d", 6, 2, None)
    s = Score()
    s.record(check_answer(q, "3"))
    s.record(check_answer(q, "x"))
    s.record(check_answer(q, "4"))
    assert (s.answered, s.correct, s.streak) == (2, 1, 0)
    s.record(check_answer(q, "3"))
    assert s.text() == "2 / 3 right" and s.streak == 1


def test_poll_options_hold_the_answer_among_distinct_positive_slips():
    from cnnlib.shapes import poll_options

    for correct in range(1, 60):
        for size in range(1, 70, 7):
            opts = poll_options(correct, size)
            values = [int(o) for o in opts]
            assert str(correct) in opts and len(set(opts)) == len(opts) == 4
            assert values == sorted(values) and min(values) >= 1
