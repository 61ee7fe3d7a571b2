"""Tests for cnnlib.plots.invariance: the sweep chart's PNG (the answer strip, the lines shown)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnnlib.plots import CLASS_COLOURS, shown_classes, sweep_picture

CLASSES = [str(d) for d in range(10)]


def probs_flipping(n: int = 21, at: int = 15) -> np.ndarray:
    """A 7 that turns into a 1 from value index `at` on; the other classes under 1 %: [n, 10]."""
    p = np.full((n, 10), 0.002)
    p[:at, 7], p[:at, 1] = 0.9, 0.084
    p[at:, 7], p[at:, 1] = 0.3, 0.684
    return p / p.sum(axis=1, keepdims=True)


def test_shown_classes_are_those_that_matter_strongest_first():
    p = probs_flipping()
    assert shown_classes(p) == [7, 1]
    p[3, 4] = 0.06  # one value where class 4 reaches 6 %
    assert shown_classes(p) == [7, 1, 4]
    assert shown_classes(np.full((3, 30), 1 / 30)) == [0]  # all under 5 %: the answer (the first) still shown


def test_the_picture_is_a_png_with_the_answer_strip_in_the_classes_colours():
    values = [float(v) for v in range(-10, 11)]
    png = sweep_picture(
        values, probs_flipping(), CLASSES, current=0.0, axis="Shift right (px)", width=760, height=330
    )
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert img.shape == (330, 760, 3)
    strip_y = 8 + 3  # inside the strip, above its label
    left, right = 66, 760 - 16
    x_of = lambda v: int(left + (v + 10) / 20 * (right - left))  # noqa: E731
    # the PNG has 64 colours: a class's colour may come back off by a shade
    assert np.abs(img[strip_y, x_of(-9)].astype(int) - CLASS_COLOURS[7]).max() <= 4
    assert np.abs(img[strip_y, x_of(8)].astype(int) - CLASS_COLOURS[1]).max() <= 4  # index 18 >= 15: flipped


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="probabilities"):
        sweep_picture([0.0, 1.0, 2.0], probs_flipping(n=4), CLASSES, None, "x")
    with pytest.raises(ValueError, match="probabilities"):
        sweep_picture([0.0, 1.0], probs_flipping(n=2)[:, :9], CLASSES, None, "x")
