"""One layer's settings (LayerSettings) and what each kind of layer does with them (LayerKind).

The single-layer calculator, the quiz, the sliding picture and the refused-layer formulas all
take a LayerSettings: the kind ("Conv2d", "MaxPool2d", "AvgPool2d" or "ConvTranspose2d"), the
sizes (an int or an (h, w) pair each) and the channels. What differs between kinds lives in one
place, KINDS: a LayerKind per kind says which settings apply, whether it learns weights, whether
it pools or is transposed, and which formulas give its output size and their LaTeX.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cnnlib.shapes.checks import ShapeError, as_pair
from cnnlib.shapes.formulas import (
    IntPair,
    conv2d_output_hw,
    conv2d_output_size,
    conv2d_params,
    conv_transpose2d_output_hw,
    conv_transpose2d_output_size,
    conv_transpose2d_params,
    pool2d_output_hw,
    pool2d_output_size,
)
from cnnlib.shapes.latex import conv2d_formula_latex, conv_transpose2d_formula_latex, pool2d_formula_latex

__all__ = ["LayerSettings", "LayerKind", "LAYER_KINDS", "kind_of", "layer_output_hw"]


OPTIONAL_DEFAULTS: dict[str, Any] = {"dilation": 1, "output_padding": 0, "ceil_mode": False}
"""The settings only some kinds take, at the value that means "not used"."""


@dataclass(frozen=True)
class LayerSettings:
    """One layer's settings, as its PyTorch constructor names them (size: the input's).

    size, kernel, stride, padding, dilation, output_padding: an int or an (h, w) pair each;
    stride None: a pool's default (the kernel size); padding also "same" or "valid" (Conv2d).
    The settings of one axis (see axes()) hold plain ints.
    """

    kind: str
    size: IntPair
    kernel: IntPair
    stride: IntPair | None = 1
    padding: IntPair | str = 0
    dilation: IntPair = 1
    output_padding: IntPair = 0
    ceil_mode: bool = False
    in_channels: int = 1
    out_channels: int = 1
    bias: bool = True

    @property
    def layer_kind(self) -> LayerKind:
        """What this kind of layer does (ShapeError for an unknown kind)."""
        return kind_of(self.kind)

    def applied(self) -> LayerSettings:
        """The settings as the layer takes them: those its kind has no use for at their "not used"
        value (AvgPool2d's dilation is 1, a Conv2d's ceil_mode False). ShapeError for an unknown
        kind."""
        lk = self.layer_kind
        return replace(self, **{f: v for f, v in OPTIONAL_DEFAULTS.items() if not lk.applies(f)})

    def axes(self) -> tuple[LayerSettings, LayerSettings]:
        """(height, width): each axis's settings, every (h, w) pair split into its halves.

        ShapeError when a pair has another length than 2.
        """
        pads = (
            (self.padding, self.padding)
            if isinstance(self.padding, str)
            else as_pair(self.padding, "padding")
        )
        strides = as_pair(self.stride, "stride") if self.stride is not None else (None, None)
        per_axis = zip(
            as_pair(self.size, "size"),
            as_pair(self.kernel, "kernel"),
            strides,
            pads,
            as_pair(self.dilation, "dilation"),
            as_pair(self.output_padding, "output_padding"),
            strict=True,
        )
        h, w = (
            replace(self, size=n, kernel=k, stride=s, padding=p, dilation=d, output_padding=op)
            for n, k, s, p, d, op in per_axis
        )
        return h, w


# ----------------------------------------------------------------------------------------------
# The kinds


@dataclass(frozen=True)
class LayerKind:
    """What one kind of layer does with a LayerSettings.

    fields: the optional settings it takes ("dilation", "output_padding", "ceil_mode",
    "out_channels", "bias"); output_hw: its output (height, width) for the settings;
    output_size / formula_latex: one axis's output size and its worked formula (the settings of
    one axis, see LayerSettings.axes); params: its parameter count from (in_channels,
    out_channels, kernel, bias), None when it has nothing to learn (a pool keeps the channels).
    pooling: "max" or "avg" for a pool (stride None = the kernel, ceil_mode), else None.
    """

    name: str
    label: str
    fields: frozenset[str]
    output_hw: Callable[[LayerSettings], tuple[int, int]]
    output_size: Callable[[LayerSettings], int]
    formula_latex: Callable[[LayerSettings], str]
    params: Callable[[int, int, IntPair, bool], int] | None = None
    pooling: str | None = None
    transposed: bool = False
    padding_words: bool = False  # padding may also be "same" or "valid"

    def applies(self, field: str) -> bool:
        """Whether this kind takes the optional setting `field` (e.g. "dilation")."""
        return field in self.fields

    @property
    def pool(self) -> bool:
        """A pooling layer: stride None means the kernel size, ceil_mode applies, nothing to learn."""
        return self.pooling is not None

    @property
    def learns(self) -> bool:
        """It has weights (and output channels of its own)."""
        return self.params is not None


def _conv_hw(s: LayerSettings) -> tuple[int, int]:
    return conv2d_output_hw(s.size, s.kernel, s.stride, s.padding, s.dilation)  # type: ignore[arg-type]


def _conv_size(s: LayerSettings) -> int:
    return conv2d_output_size(s.size, s.kernel, s.stride, s.padding, s.dilation)  # type: ignore[arg-type]


def _conv_latex(s: LayerSettings) -> str:
    return conv2d_formula_latex(s.size, s.kernel, s.stride, s.padding, s.dilation)  # type: ignore[arg-type]


def _pool_hw(s: LayerSettings) -> tuple[int, int]:
    return pool2d_output_hw(s.size, s.kernel, s.stride, s.padding, s.dilation, s.ceil_mode)  # type: ignore[arg-type]


def _pool_size(s: LayerSettings) -> int:
    return pool2d_output_size(s.size, s.kernel, s.stride, s.padding, s.dilation, s.ceil_mode)  # type: ignore[arg-type]


def _pool_latex(s: LayerSettings) -> str:
    return pool2d_formula_latex(s.size, s.kernel, s.stride, s.padding, s.dilation, s.ceil_mode)  # type: ignore[arg-type]


def _transpose_hw(s: LayerSettings) -> tuple[int, int]:
    return conv_transpose2d_output_hw(s.size, s.kernel, s.stride, s.padding, s.output_padding, s.dilation)  # type: ignore[arg-type]


def _transpose_size(s: LayerSettings) -> int:
    return conv_transpose2d_output_size(s.size, s.kernel, s.stride, s.padding, s.output_padding, s.dilation)  # type: ignore[arg-type]


def _transpose_latex(s: LayerSettings) -> str:
    return conv_transpose2d_formula_latex(s.size, s.kernel, s.stride, s.padding, s.output_padding, s.dilation)  # type: ignore[arg-type]


KINDS: dict[str, LayerKind] = {
    k.name: k
    for k in (
        LayerKind(
            "Conv2d", "convolution", frozenset({"dilation", "out_channels", "bias"}),
            _conv_hw, _conv_size, _conv_latex, params=conv2d_params, padding_words=True,
        ),
        LayerKind(
            "MaxPool2d", "max pooling", frozenset({"dilation", "ceil_mode"}),
            _pool_hw, _pool_size, _pool_latex, pooling="max",
        ),
        LayerKind(
            "AvgPool2d", "average pooling", frozenset({"ceil_mode"}),
            _pool_hw, _pool_size, _pool_latex, pooling="avg",
        ),
        LayerKind(
            "ConvTranspose2d", "transposed convolution",
            frozenset({"dilation", "output_padding", "out_channels", "bias"}),
            _transpose_hw, _transpose_size, _transpose_latex, params=conv_transpose2d_params, transposed=True,
        ),
    )
}  # fmt: skip
"""The layer kinds of the single-layer calculator and the quiz, by PyTorch class name."""

LAYER_KINDS = tuple(KINDS)
"""The layer types of the single-layer calculator."""


def kind_of(name: str) -> LayerKind:
    """The LayerKind named `name` ("Conv2d", ...); ShapeError for any other name."""
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise ShapeError(f"Unknown layer type {name!r}: use one of {', '.join(LAYER_KINDS)}.") from None


def layer_output_hw(kind: str, size: IntPair, **settings: Any) -> tuple[int, int]:
    """Output (height, width) of a layer given by its type name and torch's argument names.

    kind: "Conv2d", "MaxPool2d", "AvgPool2d" or "ConvTranspose2d"; settings: kernel_size,
    stride, padding, dilation, output_padding, ceil_mode (as the layer's constructor takes them).
    """
    lk = kind_of(kind)
    k = settings.get("kernel_size")
    if k is None:
        raise ShapeError(f"{kind} needs a kernel_size.", "kernel")
    layer = LayerSettings(
        kind,
        size,
        k,
        stride=settings.get("stride", None if lk.pool else 1),
        padding=settings.get("padding", 0),
        dilation=settings.get("dilation", 1),
        output_padding=settings.get("output_padding", 0),
        ceil_mode=bool(settings.get("ceil_mode", False)),
    )
    return lk.output_hw(layer.applied())
