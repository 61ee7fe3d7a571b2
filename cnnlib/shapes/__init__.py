"""Output-size formulas for Conv2d, MaxPool2d, AvgPool2d and ConvTranspose2d, written out by hand.

These formulas are the lesson, so they are written here rather than asked of PyTorch, and the tests
check them against PyTorch over many random cases. All sizes are ints; invalid input raises
`ShapeError` (a ValueError) naming the field and what to change.

This package's public face is this module; the modules inside it:

    checks.py    ShapeError and the checks of typed numbers
    formulas.py  the output-size and parameter formulas, receptive field
    latex.py     each formula as LaTeX with the numbers put in
    settings.py  one layer's settings (LayerSettings) and what each kind does (LayerKind, KINDS)
    explain.py   one layer's full result (single_layer); a refused layer's formula
    window.py    the sliding window along one axis and the input pixels it never reads
    stack.py     a stack of layers: shapes and receptive field layer by layer
    quiz.py      the shape quiz: questions, answers, common mistakes, the score
    link.py      the page's state as a link (SHAPES_LINK)
"""

from __future__ import annotations

from cnnlib.shapes import checks, explain, formulas, latex, link, quiz, settings, stack, window
from cnnlib.shapes.checks import *  # noqa: F403
from cnnlib.shapes.explain import *  # noqa: F403
from cnnlib.shapes.formulas import *  # noqa: F403
from cnnlib.shapes.latex import *  # noqa: F403
from cnnlib.shapes.link import *  # noqa: F403
from cnnlib.shapes.quiz import *  # noqa: F403
from cnnlib.shapes.settings import *  # noqa: F403
from cnnlib.shapes.stack import *  # noqa: F403
from cnnlib.shapes.window import *  # noqa: F403

__all__ = [
    *checks.__all__,
    *explain.__all__,
    *formulas.__all__,
    *latex.__all__,
    *link.__all__,
    *quiz.__all__,
    *settings.__all__,
    *stack.__all__,
    *window.__all__,
]
