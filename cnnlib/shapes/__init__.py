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

from cnnlib.shapes.checks import MAX_VALUE, ShapeError, check_int, parse_int
from cnnlib.shapes.explain import (
    LayerResult,
    refused_formulas,
    single_layer,
)
from cnnlib.shapes.formulas import (
    conv2d_output_hw,
    conv2d_output_size,
    conv2d_params,
    conv_transpose2d_output_hw,
    conv_transpose2d_output_size,
    conv_transpose2d_params,
    pool2d_output_hw,
    pool2d_output_size,
    receptive_field_stack,
    receptive_field_step,
    same_padding,
)
from cnnlib.shapes.latex import (
    conv2d_formula_latex,
    conv_transpose2d_formula_latex,
    params_latex,
    pool2d_formula_latex,
)
from cnnlib.shapes.link import (
    SHAPES_LINK,
)
from cnnlib.shapes.quiz import (
    QUIZ_KINDS,
    Answer,
    QuizQuestion,
    Score,
    check_answer,
    common_mistakes,
    make_question,
    poll_options,
)
from cnnlib.shapes.settings import (
    KINDS,
    LAYER_KINDS,
    LayerKind,
    LayerSettings,
    kind_of,
    layer_output_hw,
)
from cnnlib.shapes.stack import (
    StackResult,
    layer_settings,
    layer_status,
    layer_title,
    stack_shapes,
)
from cnnlib.shapes.window import (
    SlidingAxis,
    describe_indices,
    sliding_axis,
    uncovered_indices,
    uncovered_reasons,
)

__all__ = [
    "poll_options",
    "SHAPES_LINK",
    "Answer",
    "LAYER_KINDS",
    "KINDS",
    "LayerKind",
    "LayerResult",
    "LayerSettings",
    "kind_of",
    "layer_output_hw",
    "params_latex",
    "MAX_VALUE",
    "QUIZ_KINDS",
    "QuizQuestion",
    "Score",
    "ShapeError",
    "SlidingAxis",
    "StackResult",
    "check_answer",
    "check_int",
    "common_mistakes",
    "conv2d_formula_latex",
    "conv2d_output_hw",
    "conv2d_output_size",
    "conv2d_params",
    "conv_transpose2d_formula_latex",
    "conv_transpose2d_output_hw",
    "conv_transpose2d_output_size",
    "conv_transpose2d_params",
    "describe_indices",
    "make_question",
    "parse_int",
    "pool2d_formula_latex",
    "pool2d_output_hw",
    "pool2d_output_size",
    "receptive_field_stack",
    "receptive_field_step",
    "refused_formulas",
    "same_padding",
    "single_layer",
    "sliding_axis",
    "stack_shapes",
    "layer_settings",
    "layer_status",
    "layer_title",
    "uncovered_indices",
    "uncovered_reasons",
]
