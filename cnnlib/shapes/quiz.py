"""Shape quiz: random but sensible "what size comes out?" questions, answers checked with hints.

The answers come from cnnlib.shapes (tested against PyTorch), the worked formula from the LaTeX
helpers of cnnlib.shapes.latex, both through the question's LayerKind (cnnlib.shapes.settings). The caller passes a seeded random.Random, so a question can be
made again from its seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from cnnlib.shapes.checks import ShapeError
from cnnlib.shapes.settings import LAYER_KINDS, LayerKind, LayerSettings, kind_of

__all__ = ["QUIZ_KINDS", "QuizQuestion", "make_question", "Answer", "check_answer", "Score", "poll_options"]


QUIZ_KINDS = LAYER_KINDS
_WEIGHTS = {"Conv2d": 6, "MaxPool2d": 3, "AvgPool2d": 2, "ConvTranspose2d": 1}


@dataclass(frozen=True)
class QuizQuestion:
    """One square layer: "input size x size through this layer: what size comes out?".

    (cnnlib.share.Question is another thing: a lesson step's multiple-choice question.)
    """

    kind: str
    size: int
    kernel: int
    stride: int | None = 1  # None: a pool's default (= kernel)
    padding: int | str = 0
    dilation: int = 1
    output_padding: int = 0
    ceil_mode: bool = False

    @property
    def layer_kind(self) -> LayerKind:
        """What this kind of layer does (cnnlib.shapes.settings)."""
        return kind_of(self.kind)

    @property
    def settings(self) -> LayerSettings:
        """The question's layer as LayerSettings (one axis: height and width are the same)."""
        return LayerSettings(
            self.kind,
            self.size,
            self.kernel,
            self.stride,
            self.padding,
            self.dilation,
            self.output_padding,
            self.ceil_mode,
        ).applied()

    @property
    def answer(self) -> int:
        """The output height (= width), as PyTorch computes it."""
        return self.layer_kind.output_size(self.settings)

    def code(self) -> str:
        """The layer as PyTorch code, default arguments left out."""
        args = [f"kernel_size={self.kernel}"]
        lk = self.layer_kind
        if lk.learns:
            args.insert(0, "in_channels=3, out_channels=16")
        if self.stride is not None and (lk.pool or self.stride != 1):  # a conv's default stride: 1
            args.append(f"stride={self.stride}")
        if self.padding != 0:
            args.append(
                f"padding={self.padding!r}" if isinstance(self.padding, str) else f"padding={self.padding}"
            )
        if self.output_padding:
            args.append(f"output_padding={self.output_padding}")
        if self.dilation != 1:
            args.append(f"dilation={self.dilation}")
        if self.ceil_mode:
            args.append("ceil_mode=True")
        return f"nn.{self.kind}({', '.join(args)})"

    def note(self) -> str:
        """A reminder of a default the question relies on ("" if none)."""
        if self.stride is None:
            return f"A pool's stride defaults to its kernel size, here {self.kernel}."
        return ""

    def prompt(self) -> str:
        """The question in words (Markdown)."""
        note = f" ({self.note()})" if self.note() else ""
        return (
            f"An image of **{self.size}×{self.size}** pixels goes through `{self.code()}`{note}. "
            "How many pixels tall (and wide) is the output?"
        )

    def formula_latex(self) -> str:
        """The worked formula with this question's numbers."""
        return self.layer_kind.formula_latex(self.settings)


def _candidate(rng: random.Random, kind: str) -> QuizQuestion:
    size = rng.choice([rng.randint(5, 16), rng.randint(5, 16), rng.choice([28, 32, 64, 224])])
    lk = kind_of(kind)
    if lk.pool:
        kernel = rng.choice([2, 2, 3, 3, 4])
        stride = rng.choice([None, None, 1, 2, 3])
        padding: int | str = rng.choice([0, 0, 0, kernel // 2])
        ceil = rng.random() < 0.2
        dilation = 2 if lk.applies("dilation") and rng.random() < 0.08 else 1
        return QuizQuestion(kind, size, kernel, stride, padding, dilation, 0, ceil)
    if lk.transposed:
        size = rng.randint(2, 16)
        kernel, stride = rng.choice([2, 3, 4]), rng.choice([1, 2, 2])
        padding = rng.choice([0, 0, 1])
        output_padding = 1 if stride == 2 and rng.random() < 0.4 else 0
        return QuizQuestion(kind, size, kernel, stride, padding, 1, output_padding)
    kernel = rng.choice([1, 3, 3, 3, 5, 5, 7, 2, 4])
    stride = rng.choice([1, 1, 1, 2, 2, 3])
    padding = rng.randint(0, kernel // 2 + 1)
    if stride == 1 and rng.random() < 0.12:
        padding = rng.choice(["same", "valid"])
    dilation = 2 if rng.random() < 0.12 else 1
    return QuizQuestion(kind, size, kernel, stride, padding, dilation)


def make_question(rng: random.Random, kinds: Sequence[str] = QUIZ_KINDS) -> QuizQuestion:
    """A random question PyTorch accepts, with a sensible output (1 to 300 pixels)."""
    kinds = [k for k in kinds if k in _WEIGHTS] or list(QUIZ_KINDS)
    for _ in range(1000):
        q = _candidate(rng, rng.choices(kinds, [_WEIGHTS[k] for k in kinds])[0])
        try:
            if 1 <= q.answer <= 300:
                return q
        except ShapeError:
            continue
    return QuizQuestion("Conv2d", 28, 5, 1, 0)  # unreachable in practice; a classic


@dataclass(frozen=True)
class Answer:
    """The verdict on a typed answer: status "correct", "wrong" or "invalid" (not a whole number)."""

    status: str
    message: str
    value: int | None = None

    @property
    def correct(self) -> bool:
        return self.status == "correct"


def _read_whole_number(text: str) -> int | None:
    s = str(text).strip().replace(",", "").replace("_", "")
    try:
        return int(s)
    except ValueError:
        pass
    try:
        f = float(s)
    except ValueError:
        return None
    return int(f) if f == f and abs(f) < 1e15 and f == int(f) else None


def _conv_raw(n: int, k: int, s: int, p: int, d: int, ceil: bool = False) -> int:
    num = n + 2 * p - d * (k - 1) - 1
    return (-(-num // s) if ceil else num // s) + 1


def common_mistakes(q: QuizQuestion) -> dict[int, str]:
    """Wrong answers students often give for this question, each with a hint."""
    if q.layer_kind.transposed:
        s, p, k, d, op = q.stride or 1, int(q.padding), q.kernel, q.dilation, q.output_padding
        hints: dict[int, str] = {
            (q.size - 1) * s
            + 2 * p
            + d * (k - 1)
            + op
            + 1: "A transposed convolution *removes* 2p: padding crops.",
            (q.size + 2 * p - d * (k - 1) - 1) // s
            + 1: "That is the ordinary convolution formula; the transposed "
            "one runs it backwards: (in − 1)·s − 2p + d(k − 1) + output_padding + 1.",
            q.answer - op if op else -1: "Don't forget the output padding, added once at the end.",
        }
        hints.pop(q.answer, None)
        return hints
    if q.padding == "same":
        return {}
    p = 0 if q.padding == "valid" else int(q.padding)
    s = q.kernel if q.stride is None else q.stride
    n, k, d = q.size, q.kernel, q.dilation
    hints = {}
    if q.stride is None:
        hints[_conv_raw(n, k, 1, p, d, q.ceil_mode)] = "A pool's stride defaults to its kernel size, not 1."
    if d > 1:
        hints[_conv_raw(n, k, s, p, 1, q.ceil_mode)] = (
            "Dilation spreads the kernel: it spans d·(k − 1) + 1 pixels."
        )
    if p:
        hints[_conv_raw(n, k, s, 0, d, q.ceil_mode)] = (
            "Did you leave out the padding? It's added on both sides: 2p."
        )
        hints.setdefault(
            (n + p - d * (k - 1) - 1) // s + 1, "Padding goes on both sides, so it adds 2p, not p."
        )
    if not q.ceil_mode and _conv_raw(n, k, s, p, d, True) != q.answer:
        hints[_conv_raw(n, k, s, p, d, True)] = (
            "PyTorch rounds the division *down* (floor) unless ceil_mode=True."
        )
    if q.ceil_mode and _conv_raw(n, k, s, p, d) != q.answer:
        hints[_conv_raw(n, k, s, p, d)] = "With ceil_mode=True the division rounds *up*."
    hints.setdefault(q.answer - 1, "Don't forget the + 1: the window's first position counts too.")
    hints.setdefault((n + 2 * p - d * (k - 1) - 1) // s if s > 1 else -1, "Don't forget the + 1 at the end.")
    hints.pop(q.answer, None)
    return hints


def check_answer(q: QuizQuestion, text: str) -> Answer:
    """Check a typed answer. Spaces are fine; text that isn't a whole number is not marked wrong."""
    if not str(text).strip():
        return Answer("invalid", "Type your answer first: a whole number of pixels.")
    value = _read_whole_number(text)
    if value is None:
        return Answer("invalid", f"Please type a whole number, like 12 (got {str(text).strip()!r}).")
    if value == q.answer:
        return Answer("correct", f"Correct: the output is {q.answer}×{q.answer}.", value)
    hint = common_mistakes(q).get(value, "Work through the formula below step by step.")
    return Answer("wrong", f"Not quite: you said {value}, PyTorch gives {q.answer}. {hint}", value)


@dataclass
class Score:
    """A running score: questions answered, answered right, current streak."""

    answered: int = 0
    correct: int = 0
    streak: int = 0

    def record(self, answer: Answer) -> None:
        """Count a checked answer (invalid ones don't count)."""
        if answer.status == "invalid":
            return
        self.answered += 1
        if answer.correct:
            self.correct += 1
            self.streak += 1
        else:
            self.streak = 0

    def text(self) -> str:
        """e.g. "3 / 4 right"."""
        return f"{self.correct} / {self.answered} right"


def poll_options(correct: int, size: int, n: int = 4) -> list[str]:
    """Answers for a class poll on an output size: the right one among the usual slips (off by one,
    "the size stays the same", "halved"), `n` distinct positive whole numbers in increasing order."""
    candidates = [correct, correct - 1, correct + 1, size, size // 2, correct - 2, correct + 2, size - 1]
    picked: list[int] = []
    for c in candidates:
        if c >= 1 and c not in picked:
            picked.append(c)
        if len(picked) == n:
            break
    while len(picked) < n:  # tiny sizes: fill with the next numbers up
        picked.append(max(picked) + 1)
    return [str(v) for v in sorted(picked)]
