"""cnnlib.shapes and its helpers (shapes_explain, shapes_window, shapes_stack) against PyTorch:
sizes, refusals, coverage, the sliding picture, receptive field.

The sweeps run torch's real functional layers on tiny CPU tensors ([1, 1, H, W]; sizes in the
thousands on long thin ones); each case checks both that the sizes agree and that ShapeError is
raised exactly where torch raises. About 12,000 random cases in all.
"""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnnlib.shapes import (
    MAX_VALUE,
    LayerSettings,
    ShapeError,
    check_int,
    conv2d_formula_latex,
    conv2d_output_hw,
    conv2d_output_size,
    conv2d_params,
    conv_transpose2d_formula_latex,
    conv_transpose2d_output_hw,
    conv_transpose2d_output_size,
    conv_transpose2d_params,
    describe_indices,
    parse_int,
    pool2d_formula_latex,
    pool2d_output_hw,
    pool2d_output_size,
    receptive_field_step,
    refused_formulas,
    single_layer,
    sliding_axis,
    stack_shapes,
    uncovered_reasons,
)
from cnnlib.shapes.formulas import pool_raw, receptive_field_stack
from cnnlib.shapes.window import uncovered_indices

N_CONV, N_POOL, N_TRANSPOSE, N_BIG, N_DEFAULT = 4000, 4000, 3000, 600, 300


@pytest.fixture(autouse=True)
def _quiet_torch():
    """One thread; oneDNN off (its per-shape setup makes thousands of tiny calls slow; the
    native kernels apply the same size rules, see _torch_hw and test_default_backend_agrees)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "same" with even kernels, zero-element init, tf32 notes
        with torch.backends.mkldnn.flags(enabled=False):
            yield
    torch.set_num_threads(threads)


def _hw_or_none(out: torch.Tensor) -> tuple[int, int] | None:
    """An output's (H, W); None for an empty output.

    An empty output (a size of 0) counts as refused: torch's native kernels raise "Output size
    is too small" for it, but the oneDNN transposed-convolution path (and the meta device)
    return an empty tensor instead when a size comes out exactly 0. cnnlib refuses it always.
    """
    hw = tuple(out.shape[-2:])
    return None if 0 in hw else hw


# Each case is a dict of torch's arguments, pairs for (height, width); each "torch_*" runs the
# real layer and returns (H, W) or None where torch refuses; each "ours_*" the same from cnnlib.


def torch_conv(c: dict):
    x = torch.zeros(1, 1, *c["size"])  # [N, C, H, W]
    w = torch.zeros(1, 1, *c["kernel"])  # [C_out, C_in, kh, kw]
    try:
        return _hw_or_none(F.conv2d(x, w, None, c["stride"], c["padding"], c["dilation"]))
    except (RuntimeError, ValueError):
        return None


def ours_conv(c: dict):
    try:
        return conv2d_output_hw(c["size"], c["kernel"], c["stride"], c["padding"], c["dilation"])
    except ShapeError:
        return None


def torch_pool(c: dict, kind: str):
    x = torch.zeros(1, 1, *c["size"])  # [N, C, H, W]
    try:
        if kind == "max":
            out = F.max_pool2d(x, c["kernel"], c["stride"], c["padding"], c["dilation"], c["ceil_mode"])
        else:
            out = F.avg_pool2d(x, c["kernel"], c["stride"], c["padding"], c["ceil_mode"])
        return _hw_or_none(out)
    except (RuntimeError, ValueError):
        return None


def ours_pool(c: dict, kind: str):
    dilation = c["dilation"] if kind == "max" else 1
    try:
        return pool2d_output_hw(c["size"], c["kernel"], c["stride"], c["padding"], dilation, c["ceil_mode"])
    except ShapeError:
        return None


def torch_transpose(c: dict):
    x = torch.zeros(1, 1, *c["size"])  # [N, C_in, H, W]
    w = torch.zeros(1, 1, *c["kernel"])  # [C_in, C_out, kh, kw]
    try:
        out = F.conv_transpose2d(x, w, None, c["stride"], c["padding"], c["output_padding"], 1, c["dilation"])
        return _hw_or_none(out)
    except (RuntimeError, ValueError):
        return None


def ours_transpose(c: dict):
    try:
        return conv_transpose2d_output_hw(
            c["size"], c["kernel"], c["stride"], c["padding"], c["output_padding"], c["dilation"]
        )
    except ShapeError:
        return None


def as_pair(rng: random.Random, lo: int, hi: int, invalid: tuple[int, ...] = ()) -> tuple[int, int]:
    """Square half the time; now and then an invalid value torch must refuse."""
    a = rng.randint(lo, hi)
    if invalid and rng.random() < 0.04:
        a = rng.choice(invalid)
    return (a, a) if rng.random() < 0.5 else (a, rng.randint(lo, hi))


def _size(rng: random.Random, big: bool = False) -> int:
    return rng.randint(1, 4000) if big else rng.choice([rng.randint(1, 12), rng.randint(1, 40)])


def _conv_case(rng: random.Random, big: bool = False) -> dict:
    pick = rng.random()
    case = {
        "size": (_size(rng, big), _size(rng, big)),
        "kernel": as_pair(rng, 1, 7, (0,)),
        # strides up to 9: stride > kernel happens often
        "stride": as_pair(rng, 1, 3, (0, 5, 9)) if rng.random() < 0.8 else as_pair(rng, 4, 9),
        "dilation": as_pair(rng, 1, 3, (0,)) if rng.random() < 0.5 else (1, 1),
    }
    if pick < 0.12:
        case["padding"] = "same"
    elif pick < 0.18:
        case["padding"] = "valid"
    else:
        case["padding"] = as_pair(rng, 0, 4, (-1,))
    return case


def _pool_case(rng: random.Random, big: bool = False) -> dict:
    c = _conv_case(rng, big)
    # padding up to half the kernel, and now and then one more (refused)
    c["padding"] = tuple(rng.randint(0, kk // 2 + (1 if rng.random() < 0.1 else 0)) for kk in c["kernel"])
    if rng.random() < 0.03:
        c["padding"] = (-1, 0)
    if rng.random() < 0.25:
        c["stride"] = None
    c["ceil_mode"] = rng.random() < 0.5
    return c


def _transpose_case(rng: random.Random) -> dict:
    c = _conv_case(rng)
    if isinstance(c["padding"], str):
        c["padding"] = (rng.randint(0, 5), rng.randint(0, 5))
    c["output_padding"] = (rng.randint(0, 3), rng.randint(0, 3)) if rng.random() < 0.6 else (0, 0)
    if rng.random() < 0.02:
        c["output_padding"] = (-1, 0)
    return c


def test_conv2d_sweep_matches_torch():
    rng = random.Random(1)
    refused = ok = 0
    for _ in range(N_CONV):
        c = _conv_case(rng)
        expected = torch_conv(c)
        got = ours_conv(c)
        assert got == expected, c
        if expected is None:
            refused += 1
            continue
        ok += 1
        if c["size"][0] == c["size"][1] and c["kernel"][0] == c["kernel"][1]:  # the one-int function too
            p = c["padding"] if isinstance(c["padding"], str) else c["padding"][0]
            assert (
                conv2d_output_size(c["size"][0], c["kernel"][0], c["stride"][0], p, c["dilation"][0])
                == got[0]
            )
    assert refused > 300 and ok > 2000  # the sweep exercises both sides


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_sweep_matches_torch(kind):
    rng = random.Random(2 if kind == "max" else 3)
    refused = ceil_dropped = 0
    for _ in range(N_POOL // 2):
        c = _pool_case(rng)
        expected = torch_pool(c, kind)
        assert ours_pool(c, kind) == expected, c
        refused += expected is None
        if expected is not None and c["ceil_mode"]:
            s = c["stride"] or c["kernel"]
            dil = c["dilation"][0] if kind == "max" else 1
            ceil_dropped += pool_raw(c["size"][0], c["kernel"][0], s[0], c["padding"][0], dil, True)[2]
    assert refused > 200
    assert ceil_dropped > 5  # torch's "last window must start inside" rule was exercised


def test_conv_transpose2d_sweep_matches_torch():
    rng = random.Random(4)
    refused = 0
    for _ in range(N_TRANSPOSE):
        c = _transpose_case(rng)
        expected = torch_transpose(c)
        assert ours_transpose(c) == expected, c
        refused += expected is None
    assert refused > 200


def test_big_sizes_match_torch():
    """Sizes in the thousands, on long thin CPU tensors ([1, 1, H, w] with w <= 4) to stay fast.

    (The meta device is no oracle for refusals: its conv shape function accepts kernel 0,
    dilation 0 and negative padding that the real kernels refuse.)
    """
    rng = random.Random(5)
    for _ in range(N_BIG):
        c = _pool_case(rng, big=True)
        c["size"] = (c["size"][0], rng.randint(1, 4))
        assert ours_pool(c, "max") == torch_pool(c, "max"), c
        c = _conv_case(rng, big=True)
        c["size"] = (rng.randint(1, 4), c["size"][1])
        assert ours_conv(c) == torch_conv(c), c


def test_default_backend_agrees():
    """A smaller sweep with torch's default CPU backend (oneDNN on), as a student's model runs."""
    rng = random.Random(14)
    with torch.backends.mkldnn.flags(enabled=True):
        for _ in range(N_DEFAULT):
            c = _conv_case(rng)
            assert ours_conv(c) == torch_conv(c), c
            c = _transpose_case(rng)
            assert ours_transpose(c) == torch_transpose(c), c


def test_modules_agree_with_functional():
    """nn modules (what students write) give the same sizes, stride=None pools included."""
    x = torch.zeros(1, 3, 28, 28)
    assert tuple(nn.Conv2d(3, 8, 5, 2, 1)(x).shape) == (1, 8, conv2d_output_size(28, 5, 2, 1), 13)
    assert tuple(nn.Conv2d(3, 8, (3, 5), padding="same", dilation=2)(x).shape[-2:]) == (28, 28)
    assert nn.MaxPool2d(3, ceil_mode=True)(x).shape[-1] == pool2d_output_size(28, 3, ceil_mode=True) == 10
    assert nn.AvgPool2d(2)(x).shape[-1] == pool2d_output_size(28, 2) == 14
    assert (
        nn.ConvTranspose2d(3, 2, 3, 2, 1, 1)(x).shape[-1]
        == conv_transpose2d_output_size(28, 3, 2, 1, 1)
        == 56
    )


# ----------------------------------------------------------------------------------------------
# Refusals, in words


@pytest.mark.parametrize(
    "call, field, words",
    [
        (lambda: conv2d_output_size(0, 3), "size", "at least 1"),
        (lambda: conv2d_output_size(5, 0), "kernel", "at least 1"),
        (lambda: conv2d_output_size(5, 3, stride=0), "stride", "never move"),
        (lambda: conv2d_output_size(5, 3, padding=-1), "padding", "negative"),
        (lambda: conv2d_output_size(5, 3, dilation=0), "dilation", "at least 1"),
        (lambda: conv2d_output_size(5, 7), "kernel", "padded input is only 5"),
        (lambda: conv2d_output_size(5, 3, dilation=3), "kernel", "spans 7"),
        (lambda: conv2d_output_size(5, 3, stride=2, padding="same"), "padding", "stride 1"),
        (lambda: conv2d_output_size(5, 3, padding="full"), "padding", '"same" or "valid"'),
        (lambda: pool2d_output_size(5, 3, padding=2), "padding", "at most half"),
        (lambda: pool2d_output_size(2, 3), "kernel", "output would have 0"),
        (lambda: pool2d_output_size(5, 2, stride=0), "stride", "never move"),
        (lambda: conv_transpose2d_output_size(5, 3, 2, output_padding=2), "output_padding", "smaller than"),
        (lambda: conv_transpose2d_output_size(1, 1, 2, 1, 1), "padding", "output would have 0"),
        (lambda: conv_transpose2d_output_size(5, 3, padding="same"), "padding", "number"),
        (lambda: conv2d_output_size(10**12, 3), "size", "100,000"),
        (lambda: conv2d_output_size(MAX_VALUE + 1, 3), "size", "too large"),
        (lambda: conv2d_output_size(28.0, 3), "size", "whole number"),
        (lambda: conv2d_output_size(True, 3), "size", "whole number"),
        (lambda: conv2d_output_size("28", 3), "size", "whole number"),
        (lambda: pool2d_output_size(5, 2, ceil_mode="yes"), "ceil_mode", "True or False"),
        (lambda: conv2d_output_hw((5, 5), (3, 3), (1, 1, 1)), "stride", "pair"),
    ],
)
def test_refusals_have_reasons(call, field, words):
    with pytest.raises(ShapeError) as info:
        call()
    assert info.value.field == field
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)


def test_height_and_width_errors_say_which():
    with pytest.raises(ShapeError, match="^Width: "):
        conv2d_output_hw((9, 3), (3, 5))
    with pytest.raises(ShapeError, match="^Height: "):
        pool2d_output_hw((9, 9), (5, 2), padding=(3, 1))
    with pytest.raises(ShapeError) as info:  # square: no prefix
        conv2d_output_hw(3, 5)
    assert not str(info.value).startswith(("Height", "Width"))


def test_numpy_ints_are_fine_and_max_value_is_accepted():
    assert conv2d_output_size(np.int64(28), np.int32(3)) == 26
    assert conv2d_output_size(MAX_VALUE, 1) == MAX_VALUE
    assert check_int(0, "padding") == 0


@pytest.mark.parametrize(
    "text, value",
    [
        (" 28 ", 28),
        ("+3", 3),
        ("1,000", 1000),
        ("1_000", 1000),
        ("2^5", 32),
        ("2**5", 32),
        ("3.0", 3),
        ("1e3", 1000),
    ],
)
def test_parse_int_accepts(text, value):
    assert parse_int(text, "size") == value


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "Type a whole number"),
        ("   ", "Type a whole number"),
        ("abc", "whole number"),
        ("3.5", "whole number"),
        ("nan", "whole number"),
        ("inf", "whole number"),
        ("10^12", "too large"),
        ("10^1000", "too large"),
        ("1e12", "too large"),
        ("1000000000000", "too large"),
        ("0", "at least 1"),
        ("-5", "at least 1"),
        ("3 4", "whole number"),
    ],
)
def test_parse_int_refuses(text, words):
    with pytest.raises(ShapeError, match=words) as info:
        parse_int(text, "size")
    assert info.value.field == "size"


# ----------------------------------------------------------------------------------------------
# Formulas typeset with the numbers


def test_conv_latex_substitutes_numbers_step_by_step():
    tex = conv2d_formula_latex(28, 5, 2, 1)
    assert r"\frac{28 + 2\cdot 1 - 1\cdot(5-1) - 1}{2}" in tex
    assert r"\frac{25}{2}" in tex and r"\lfloor 12.5 \rfloor" in tex and "12 + 1 = 13" in tex
    assert tex.startswith(r"\begin{aligned}") and tex.endswith(r"\end{aligned}")


def test_latex_variants():
    same = conv2d_formula_latex(5, 4, 1, "same")
    assert "same" in same and r"1\ \text{before} + 2\ \text{after}" in same and "= 5" in same
    assert "." not in conv2d_formula_latex(28, 3, 1, 1)  # an exact division has no decimal step
    assert r"\lfloor 8.33\ldots \rfloor" in conv2d_formula_latex(28, 3, 3, 0)
    ceil = pool2d_formula_latex(7, 2, 5, 1, ceil_mode=True)
    assert r"\lceil" in ceil and "dropped" in ceil and ceil.endswith(r"&= 2\end{aligned}")
    assert pool2d_output_size(7, 2, 5, 1, ceil_mode=True) == 2
    t = conv_transpose2d_formula_latex(5, 3, 2, 1, 1)
    assert r"(5-1)\cdot 2 - 2\cdot 1 + 1\cdot(3-1) + 1 + 1" in t and "= 10" in t
    assert "below 1 pixel: PyTorch refuses" in pool2d_formula_latex(
        2, 3
    )  # shown, not raised, so students see why


def test_latex_results_match_the_size_functions():
    rng = random.Random(6)
    for _ in range(300):
        c = _pool_case(rng)
        n, k, d = c["size"][0], c["kernel"][0], c["dilation"][0]
        s = None if c["stride"] is None else c["stride"][0]
        try:
            out = pool2d_output_size(n, k, s, c["padding"][0], d, c["ceil_mode"])
        except ShapeError:
            continue
        assert pool2d_formula_latex(n, k, s, c["padding"][0], d, c["ceil_mode"]).endswith(
            f"= {out}\\end{{aligned}}"
        )


# ----------------------------------------------------------------------------------------------
# Parameters, unread pixels, the sliding picture


def test_params_match_torch():
    rng = random.Random(7)
    for _ in range(30):
        cin, cout, kh, kw, bias = (
            rng.randint(1, 9),
            rng.randint(1, 9),
            rng.randint(1, 5),
            rng.randint(1, 5),
            rng.random() < 0.5,
        )
        conv = nn.Conv2d(cin, cout, (kh, kw), bias=bias, device="meta")
        tconv = nn.ConvTranspose2d(cin, cout, (kh, kw), bias=bias, device="meta")
        assert conv2d_params(cin, cout, (kh, kw), bias) == sum(p.numel() for p in conv.parameters())
        assert conv_transpose2d_params(cin, cout, (kh, kw), bias) == sum(
            p.numel() for p in tconv.parameters()
        )


def _read_count_conv(n, k, s, p, d):
    """How often each input pixel is read, from torch: the gradient of sum(conv(x)) w.r.t. x."""
    x = torch.ones(1, 1, 1, n, requires_grad=True)  # [N, C, 1, W]
    F.conv2d(
        x, torch.ones(1, 1, 1, k), None, (1, s), (0, p) if isinstance(p, int) else p, (1, d)
    ).sum().backward()
    return x.grad[0, 0, 0]


def test_uncovered_matches_torch_gradient():
    rng = random.Random(8)
    seen = 0
    for _ in range(800):
        n, k, s, d = rng.randint(1, 30), rng.randint(1, 6), rng.randint(1, 6), rng.randint(1, 3)
        p = "same" if rng.random() < 0.1 else rng.randint(0, 3)
        if p == "same":
            s = 1
        try:
            ours = uncovered_indices(n, k, s, p, d)
        except ShapeError:
            continue
        grad = _read_count_conv(n, k, s, p, d)
        assert ours == torch.nonzero(grad == 0).flatten().tolist(), (n, k, s, p, d)
        seen += bool(ours)
    assert seen > 100


def test_uncovered_pool_matches_avg_pool_gradient_and_brute_force():
    rng = random.Random(9)
    for _ in range(600):
        n, k = rng.randint(1, 30), rng.randint(1, 6)
        s, p, d, ceil = rng.randint(1, 6), rng.randint(0, k // 2), rng.randint(1, 3), rng.random() < 0.5
        try:
            ours = uncovered_indices(n, k, s, p, d, ceil, pool=True)
            out = pool2d_output_size(n, k, s, p, d, ceil)
        except ShapeError:
            continue
        read = {o * s + j * d - p for o in range(out) for j in range(k)}
        assert ours == [i for i in range(n) if i not in read]
        if d == 1:
            x = torch.ones(1, 1, 1, n, requires_grad=True)  # [N, C, 1, W]
            F.avg_pool2d(x, (1, k), (1, s), (0, p), ceil).sum().backward()
            assert ours == torch.nonzero(x.grad[0, 0, 0] == 0).flatten().tolist()


def test_uncovered_reasons_name_the_tail_and_the_gaps_as_a_brute_force_count_finds_them():
    rng = random.Random(18)
    kinds = {"tail": 0, "gaps": 0}
    for _ in range(1500):
        n, k, s, d = rng.randint(1, 30), rng.randint(1, 6), rng.randint(1, 7), rng.randint(1, 3)
        pool = rng.random() < 0.4
        p, ceil = rng.randint(0, k // 2 if pool else 3), pool and rng.random() < 0.5
        try:
            missed = uncovered_indices(n, k, s, p, d, ceil, pool)
            out = pool2d_output_size(n, k, s, p, d, ceil) if pool else conv2d_output_size(n, k, s, p, d)
        except ShapeError:
            continue
        last = max(o * s + j * d - p for o in range(out) for j in range(k))  # the last input index read
        tail, gaps = [i for i in missed if i > last], [i for i in missed if i <= last]
        reasons = uncovered_reasons(n, k, s, p, d, ceil, pool, word="row")
        assert len(reasons) == bool(tail) + bool(gaps), (n, k, s, p, d, ceil, pool, reasons)
        if tail:
            assert f"the {len(tail)} row" in reasons[-1] and "rounds down" in reasons[-1]
            kinds["tail"] += 1
        if gaps:
            assert ("jumps over" if s > d * (k - 1) + 1 else "dilation") in reasons[0]
            kinds["gaps"] += 1
    assert kinds["tail"] > 100 and kinds["gaps"] > 100
    assert uncovered_reasons(28, 3, 1, 1) == []
    assert uncovered_reasons(9, 2, 3, word="column") == [
        "the stride 3 is bigger than the window (2 pixels wide), so it jumps over 1 column between windows",
        "the last window ends at column 7, so the 1 column after it is never reached (the division rounds down)",
    ]


def test_refused_formulas_show_the_output_below_one_and_nothing_else():
    [(axis, tex)] = refused_formulas(LayerSettings("Conv2d", 4, 5, 1, 1, 2))
    assert axis == "Height and width" and r"\frac{4 + 2\cdot 1 - 2\cdot(5-1) - 1}{1}" in tex
    assert "-3 + 1 = -2" in tex and "PyTorch refuses" in tex
    [(axis, tex)] = refused_formulas(LayerSettings("Conv2d", (4, 20), (7, 3), 1, 0))
    assert axis == "Height" and "= -3 + 1 = -2" in tex  # only the axis that fails
    [(axis, tex)] = refused_formulas(LayerSettings("MaxPool2d", 2, 3, None))
    assert r"\lfloor -0.33\ldots \rfloor" in tex and "= -1 + 1 = 0" in tex
    [(axis, tex)] = refused_formulas(LayerSettings("ConvTranspose2d", 1, 1, 2, 1, 1, 1))
    assert "= 0" in tex and "refuses" in tex
    assert refused_formulas(LayerSettings("Conv2d", 28, 3, 2, 1)) == []  # accepted: nothing to show
    # stride 0: the formula can't be written
    assert refused_formulas(LayerSettings("Conv2d", 28, 3, 0, 1)) == []
    assert refused_formulas(LayerSettings("MaxPool2d", 5, 3, None, 2)) == []  # padding over half the kernel
    assert refused_formulas(LayerSettings("Conv2d", 5, 3, 2, "same")) == []  # "same" with stride 2


def test_uncovered_is_fast_for_huge_inputs():
    assert len(uncovered_indices(MAX_VALUE, 50_000, 1, 0, 1)) == 0
    assert len(uncovered_indices(MAX_VALUE, 3, 2, 0, 2)) == MAX_VALUE // 2
    assert uncovered_indices(28, 5, 2) == [27]


def test_describe_indices():
    assert describe_indices([]) == "every row is read"
    assert describe_indices([27]) == "row 27"
    assert describe_indices([25, 26, 27], "column") == "columns 25–27"
    assert describe_indices(list(range(1, 100, 2))).endswith("… (50 rows)")


def test_sliding_axis_window_reads_what_torch_conv_reads():
    """The picture's taps, used as indices, reproduce torch's convolution exactly."""
    rng = random.Random(10)
    for _ in range(200):
        n, k, s, d = rng.randint(1, 12), rng.randint(1, 4), rng.randint(1, 3), rng.randint(1, 2)
        p = "same" if rng.random() < 0.2 else rng.randint(0, 2)
        if p == "same":
            s = 1
        try:
            ax = sliding_axis("Conv2d", n, k, s, p, d)
        except ShapeError:
            continue
        x = torch.randn(1, 1, 1, n, dtype=torch.float64)  # [N, C, 1, W]
        w = torch.randn(1, 1, 1, k, dtype=torch.float64)
        y = F.conv2d(x, w, None, (1, s), (0, p) if isinstance(p, int) else p, (1, d))[0, 0, 0]
        assert ax.out_size == y.numel()
        for o in range(ax.out_size):
            total = sum(
                float(x[0, 0, 0, ax.source[c]] * w[0, 0, 0, j])
                for j, c in enumerate(ax.taps(o))
                if ax.cells[c] == "input"
            )
            assert total == pytest.approx(float(y[o]))


def test_sliding_axis_pool_ceil_marks_cells_beyond_the_input():
    ax = sliding_axis("MaxPool2d", 5, 2, 2, 0, 1, ceil_mode=True)
    assert ax.out_size == 3 and ax.cells[-1] == "off" and ax.taps(2) == [4, 5]
    with pytest.raises(ShapeError):
        ax.taps(3)


def test_transposed_conv_picture_is_a_stride_one_conv_over_the_stretched_input():
    rng = random.Random(11)
    checked = 0
    for _ in range(300):
        n, k, s, d = rng.randint(1, 7), rng.randint(1, 4), rng.randint(1, 3), rng.randint(1, 2)
        p, op = rng.randint(0, 4), rng.randint(0, 2)
        try:
            ax = sliding_axis("ConvTranspose2d", n, k, s, p, d, op)
        except ShapeError:
            continue
        x = torch.randn(1, 1, 1, n, dtype=torch.float64)  # [N, C_in, 1, W]
        w = torch.randn(1, 1, 1, k, dtype=torch.float64)  # [C_in, C_out, 1, k]
        y = F.conv_transpose2d(x, w, None, (1, s), (0, p), (0, op), 1, (1, d))[0, 0, 0]
        assert ax.out_size == y.numel() == len(ax.cells) - d * (k - 1)
        flipped = w.flip(-1)[0, 0, 0]
        for o in range(ax.out_size):
            total = sum(
                float(x[0, 0, 0, ax.source[c]] * flipped[j])
                for j, c in enumerate(ax.taps(o))
                if ax.cells[c] == "input"
            )
            assert total == pytest.approx(float(y[o]))
        checked += 1
    assert checked > 150


def test_single_layer_everything():
    r = single_layer(LayerSettings("Conv2d", (28, 20), (5, 3), 2, 0, in_channels=3, out_channels=8))
    assert r.output_shape == (8, 12, 9)
    assert r.params == 8 * 3 * 5 * 3 + 8 and "= 368" in r.params_latex
    assert r.uncovered_rows == [27] and r.uncovered_cols == [19]
    assert not r.square and r.rows.out_size == 12 and r.cols.out_size == 9
    p = single_layer(LayerSettings("MaxPool2d", 7, 2, None, 0, ceil_mode=True, in_channels=4))
    assert p.output_shape == (4, 4, 4) and p.params == 0 and p.params_latex is None and p.square
    t = single_layer(
        LayerSettings("ConvTranspose2d", 4, 3, 2, 1, output_padding=1, in_channels=2, out_channels=5)
    )
    assert t.output_shape == (5, 8, 8) and t.params == 2 * 5 * 9 + 5
    a = single_layer(LayerSettings("AvgPool2d", 6, 3, 1, 1, dilation=4))  # AvgPool2d has no dilation: ignored
    assert a.output_shape == (1, 6, 6)
    with pytest.raises(ShapeError) as info:
        single_layer(LayerSettings("Conv2d", 28, 3, 1, 0, out_channels=0))
    assert info.value.field == "out_channels"
    with pytest.raises(ShapeError, match="Unknown layer"):
        single_layer(LayerSettings("Conv3d", 28, 3))


# ----------------------------------------------------------------------------------------------
# Receptive field and stacks


def test_receptive_field_matches_torch_gradient():
    """rf = extent of input pixels that reach one output unit; jump = shift between neighbours."""
    rng = random.Random(12)
    for _ in range(40):
        layers = [(rng.randint(1, 4), rng.randint(1, 2), rng.randint(1, 2)) for _ in range(rng.randint(1, 4))]
        modules = [nn.Conv2d(1, 1, (1, k), (1, s), 0, (1, d), bias=False) for k, s, d in layers]
        for m in modules:
            nn.init.ones_(m.weight)
        net = nn.Sequential(*modules).double()
        x = torch.ones(1, 1, 1, 200, dtype=torch.float64, requires_grad=True)  # [N, C, 1, W]
        y = net(x)
        if y.shape[-1] < 2:
            continue
        starts = []
        for o in (0, 1):
            (g,) = torch.autograd.grad(y[0, 0, 0, o], x, retain_graph=True)
            nz = torch.nonzero(g[0, 0, 0]).flatten()
            starts.append(int(nz[0]))
            rf = int(nz[-1] - nz[0] + 1)
        assert receptive_field_stack(layers)[-1] == (rf, starts[1] - starts[0])


def test_receptive_field_step_keeps_its_signature():
    assert receptive_field_step(1, 1, 3) == (3, 1)
    assert receptive_field_step(3, 1, kernel=2, stride=2) == (4, 2)
    assert receptive_field_step(4, 2, 3, 1, dilation=2) == (12, 2)


LAYER_TYPES = [
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "ConvTranspose2d",
    "ReLU",
    "BatchNorm2d",
    "AdaptiveAvgPool2d",
]


def _random_layer(rng: random.Random) -> dict:
    t = rng.choices(LAYER_TYPES, [5, 3, 2, 1, 2, 1, 1])[0]
    k = rng.randint(1, 5)
    if t == "Conv2d":
        pad = rng.choice([0, 1, 2, "same", "valid"])
        return {
            "type": t,
            "out_channels": rng.randint(1, 6),
            "kernel_size": k,
            "stride": 1 if pad == "same" else rng.randint(1, 3),
            "padding": pad,
            "dilation": rng.randint(1, 2),
        }
    if t == "ConvTranspose2d":
        return {
            "type": t,
            "out_channels": rng.randint(1, 4),
            "kernel_size": k,
            "stride": 2,
            "padding": rng.randint(0, 1),
            "output_padding": 1,
        }
    if t in ("MaxPool2d", "AvgPool2d"):
        return {
            "type": t,
            "kernel_size": k,
            "stride": rng.choice([None, 1, 2, 3]),
            "padding": rng.randint(0, k // 2),
            "ceil_mode": rng.random() < 0.3,
        }
    if t == "AdaptiveAvgPool2d":
        return {"type": t, "output_size": rng.choice([1, 2, 3])}
    return {"type": t}


def _torch_layer(d: dict, c: int) -> nn.Module:
    a = {k: v for k, v in d.items() if k != "type"}
    t = d["type"]
    if t in ("Conv2d", "ConvTranspose2d"):
        return getattr(nn, t)(c, **a)
    if t == "BatchNorm2d":
        return nn.BatchNorm2d(c)
    return getattr(nn, t)(**a)


def test_stack_shapes_match_torch_and_stop_where_torch_stops():
    rng = random.Random(13)
    failed = 0
    for _ in range(150):
        c, h, w = rng.randint(1, 3), rng.randint(4, 40), rng.randint(4, 40)
        layers = [_random_layer(rng) for _ in range(rng.randint(1, 7))] + [
            {"type": "Flatten"},
            {"type": "Linear", "out_features": 10},
        ]
        res = stack_shapes([c, h, w], layers)
        x = torch.zeros(2, c, h, w)  # [N, C, H, W]
        for i, d in enumerate(layers):
            try:
                m = _torch_layer(d, x.shape[1]) if d["type"] != "Linear" else nn.Linear(x.shape[1], 10)
                x = m(x)
            except (RuntimeError, ValueError):
                assert res.error is not None and res.error.layer_index == i, (layers, i, res.error)
                assert str(res.error).startswith(f"Layer {i + 1}")
                failed += 1
                break
            row = res.rows[i]
            assert row.output_shape == tuple(x.shape[1:]), (layers, i)
            assert row.params == sum(p.numel() for p in m.parameters())
        else:
            assert res.error is None
    assert failed > 10


def test_stack_receptive_field_and_errors():
    layers = [
        {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Conv2d", "out_channels": 16, "kernel_size": [3, 2], "dilation": 2},
    ]
    res = stack_shapes([1, 28, 28], layers)
    assert res.error is None
    assert [r.rf for r in res.rows] == [(3, 3), (3, 3), (4, 4), (8, 8), (10, 10), (26, 18)]
    assert [r.jump for r in res.rows] == [(1, 1), (1, 1), (2, 2), (2, 2), (4, 4), (4, 4)]
    assert res.rows[0].label == "3×3 → 8 ch p=1" and res.rows[-1].label == "3×2 → 16 ch d=2"
    assert res.rows[-1].output_shape == (16, 3, 5) and res.rows[-1].params == 16 * 16 * 6 + 16
    tiny = stack_shapes([1, 8, 8], [{"type": "MaxPool2d", "kernel_size": 2}] * 4)
    assert len(tiny.rows) == 3 and tiny.error.layer_index == 3 and "Layer 4 (MaxPool2d)" in str(tiny.error)
    bad = stack_shapes(
        [1, 8, 8], [{"type": "Flatten"}, {"type": "Conv2d", "out_channels": 2, "kernel_size": 3}]
    )
    assert "flat vector" in str(bad.error)
    assert "Flatten" in str(stack_shapes([1, 8, 8], [{"type": "Linear", "out_features": 3}]).error)
    assert "doesn't know" in str(stack_shapes([1, 8, 8], [{"type": "LSTM"}]).error)
    assert "expects 3" in str(
        stack_shapes(
            [1, 8, 8], [{"type": "Conv2d", "in_channels": 3, "out_channels": 2, "kernel_size": 3}]
        ).error
    )
    assert "output channels" in str(stack_shapes([1, 8, 8], [{"type": "Conv2d", "kernel_size": 3}]).error)
    with pytest.raises(ShapeError):
        stack_shapes([1, 8], [])


def test_single_layer_stays_small_for_huge_settings():
    """The largest accepted numbers neither blow up memory nor take long (no picture then)."""
    t = single_layer(
        LayerSettings(
            "ConvTranspose2d",
            MAX_VALUE,
            MAX_VALUE,
            MAX_VALUE,
            0,
            MAX_VALUE,
            MAX_VALUE - 1,
            False,
            MAX_VALUE,
            MAX_VALUE,
        )
    )
    assert t.output_shape[1] == (MAX_VALUE - 1) * MAX_VALUE + MAX_VALUE * (MAX_VALUE - 1) + MAX_VALUE - 1 + 1
    assert t.rows is None and t.cols is None
    c = single_layer(LayerSettings("Conv2d", MAX_VALUE, MAX_VALUE, 1, MAX_VALUE))
    assert c.output_shape[1] == 2 * MAX_VALUE + 1 and c.rows is None
    with pytest.raises(ShapeError, match="at most 10"):
        sliding_axis("Conv2d", 28, 3, limit=10)
    assert single_layer(LayerSettings("Conv2d", 28, 3)).rows.out_size == 26
