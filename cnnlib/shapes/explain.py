"""One layer worked out, and the formula that shows why torch refuses a layer.

single_layer gathers everything the single-layer calculator shows for a LayerSettings (shapes,
formulas, parameters, unread pixels, the sliding picture) into a LayerResult; refused_formulas
shows the formula of a layer torch refuses because an output size comes out below 1. The
formulas' LaTeX comes from cnnlib.shapes.latex, the numbers from cnnlib.shapes.formulas, what
differs between kinds of layer from cnnlib.shapes.settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnnlib.shapes.checks import ShapeError, check_int
from cnnlib.shapes.latex import params_latex
from cnnlib.shapes.settings import LayerKind, LayerSettings, kind_of
from cnnlib.shapes.window import SlidingAxis, sliding_axis, unread_pixels

__all__ = ["refused_formulas", "LayerResult", "single_layer"]


MAX_DRAWN_CELLS = 400
"""single_layer builds the sliding picture's axes only up to this many cells a side."""


# ----------------------------------------------------------------------------------------------
# A refused layer's formula


def refused_formulas(settings: LayerSettings) -> list[tuple[str, str]]:
    """For a layer torch refuses because an output size comes out below 1: the formula that shows it.

    [(axis, latex)], axis "Height", "Width" or "Height and width"; [] when the settings cannot be
    put in the formula at all (stride 0, pool padding over half the kernel, text, ...) or every
    size is fine.
    """
    try:
        layer = settings.applied()
        lk = layer.layer_kind
        found: list[tuple[str, str | None]] = []
        for axis, one in zip(("Height", "Width"), layer.axes(), strict=True):
            try:
                lk.output_size(one)
                found.append((axis, None))
                continue
            except ShapeError as e:
                too_small = "would have" in str(e) or "doesn't fit" in str(e)
                if e.field not in ("kernel", "padding") or not too_small:
                    return []  # refused for another reason: the formula can't show it
            found.append((axis, lk.formula_latex(one)))
    except ShapeError:
        return []
    shown = [(axis, tex) for axis, tex in found if tex is not None]
    if len(shown) == 2 and shown[0][1] == shown[1][1]:
        return [("Height and width", shown[0][1])]
    return shown


# ----------------------------------------------------------------------------------------------
# Everything the single-layer calculator shows


@dataclass(frozen=True)
class LayerResult:
    """One layer worked out: shapes, formulas, parameters, unread pixels, the sliding picture."""

    kind: str
    input_shape: tuple[int, int, int]  # [C, H, W]
    output_shape: tuple[int, int, int]  # [C, H, W]
    params: int
    params_latex: str | None  # None for pooling (no parameters)
    latex_h: str
    latex_w: str
    uncovered_rows: list[int]
    uncovered_cols: list[int]
    rows: SlidingAxis | None  # None: too big to draw (over MAX_DRAWN_CELLS cells a side)
    cols: SlidingAxis | None
    uncovered_why_rows: list[str] = field(default_factory=list)  # uncovered_reasons, for rows
    uncovered_why_cols: list[str] = field(default_factory=list)

    @property
    def layer_kind(self) -> LayerKind:
        """What this kind of layer does (cnnlib.shapes.settings)."""
        return kind_of(self.kind)

    @property
    def square(self) -> bool:
        """Whether height and width share one formula (same numbers)."""
        return self.latex_h == self.latex_w


def single_layer(settings: LayerSettings, *, draw_limit: int | None = MAX_DRAWN_CELLS) -> LayerResult:
    """Work out one layer for the calculator; ShapeError (with .field) if torch would refuse it.

    Settings its kind has no use for are ignored (AvgPool2d's dilation, ...); a pool keeps its
    input's channels. draw_limit: the sliding picture's axes are built up to this many cells a
    side (None: no limit), else left out.
    """
    layer = settings.applied()
    lk = layer.layer_kind
    cin = check_int(layer.in_channels, "in_channels", 1)
    hw = lk.output_hw(layer)
    if lk.params is None:
        cout, params, p_latex = cin, 0, None
    else:
        cout = check_int(layer.out_channels, "out_channels", 1)
        params = lk.params(cin, cout, layer.kernel, layer.bias)
        p_latex = params_latex(cin, cout, layer.kernel, layer.bias)
    latex, uncovered, why = [], [], []
    axes: list[SlidingAxis | None] = []
    for one, word in zip(layer.axes(), ("row", "column"), strict=True):
        latex.append(lk.formula_latex(one))
        missed, reasons = unread_pixels(one, word)
        uncovered.append(missed)
        why.append(reasons)
        try:
            axes.append(sliding_axis(
                layer.kind, one.size, one.kernel, one.stride, one.padding, one.dilation,  # type: ignore[arg-type]
                one.output_padding, one.ceil_mode, limit=draw_limit,  # type: ignore[arg-type]
            ))  # fmt: skip
        except ShapeError:  # too big to draw; the sizes themselves were checked above
            axes.append(None)
    h, w = layer.axes()
    return LayerResult(
        kind=layer.kind,
        input_shape=(cin, int(h.size), int(w.size)),  # type: ignore[arg-type]
        output_shape=(cout, hw[0], hw[1]),
        params=params,
        params_latex=p_latex,
        latex_h=latex[0],
        latex_w=latex[1],
        uncovered_rows=uncovered[0],
        uncovered_cols=uncovered[1],
        rows=axes[0],
        cols=axes[1],
        uncovered_why_rows=why[0],
        uncovered_why_cols=why[1],
    )
