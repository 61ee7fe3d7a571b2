"""Shape calculator, single-layer mode: settings on the left, shape, formula, parameters on the
right, and the sliding-window picture below. Every number comes from cnnlib.shapes."""

from __future__ import annotations

from typing import Any

import streamlit as st

from cnnlib.plots import MAX_PICTURE_CELLS, picture_fits, sliding_picture
from cnnlib.shapes import (
    LAYER_KINDS,
    LayerResult,
    LayerSettings,
    ShapeError,
    describe_indices,
    kind_of,
    poll_options,
    refused_formulas,
    single_layer,
)
from pages.ui.classes import strip
from pages.ui.figures import shared
from pages.ui.glossary import explain
from pages.ui.shapes import player as shapes_player
from pages.ui.shapes.inputs import FieldRows, Slots, int_field, pair_field, stepper

# Per layer type: default settings (text as typed); which settings apply: cnnlib.shapes.kind_of.
DEFAULTS: dict[str, dict[str, Any]] = {
    "Conv2d": {"kernel": 3, "stride": 2, "padding": 1, "dilation": 1, "out": 8},
    "MaxPool2d": {"kernel": 2, "stride": "", "padding": 0, "dilation": 1},
    "AvgPool2d": {"kernel": 2, "stride": "", "padding": 0},
    "ConvTranspose2d": {"kernel": 3, "stride": 2, "padding": 1, "dilation": 1, "output_padding": 1, "out": 8},
}
PADDING_MODES = ["a number", "same", "valid"]


def settings_panel(slots: Slots) -> tuple[str, LayerSettings | None]:
    """Draw the layer type and its fields; the type and its settings (None: a field is unreadable).

    The fields that change the sliding picture (key_shapes_inputs, issue 25: beside the picture on
    one screen) sit three to a row; the channels and bias, which change only the shape's C and the
    parameter count, sit in a row under them."""
    st.session_state.setdefault("sc_square", True)  # a link may set it before it is drawn
    with st.container(key="key_shapes_inputs"):
        top = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
        kind = top.selectbox("Layer", LAYER_KINDS, key="sc_kind")
        top.toggle("Square", key="sc_square", help="Same height and width: one field for both.")
        window = window_fields(kind, slots)
    cin, cout, bias = channel_fields(kind, slots)
    if slots.bad or window is None:
        return kind, None
    return kind, LayerSettings(kind=kind, in_channels=cin or 1, out_channels=cout or 1, bias=bias, **window)


def _pad_word(mode: str) -> str:
    """'a number' shown as 'number': it fits the narrow column beside the picture."""
    return mode.removeprefix("a ")


def window_fields(kind: str, slots: Slots) -> dict[str, Any] | None:
    """Size, kernel, stride, padding, dilation, output padding, ceil_mode: three to a row (square),
    else one (height, width) row each. None if a field is unreadable."""
    d = DEFAULTS[kind]
    lk = kind_of(kind)
    pool = lk.pool
    square = bool(st.session_state["sc_square"])
    # Square: three fields a row (the first wide enough for "a number"); else a (height, width) row each.
    grid = FieldRows(3, [4, 3, 3])

    def pair(label: str, key: str, default: int | str, field: str, **kw: Any) -> tuple:
        if not square:
            return pair_field(label, key, default, field, slots, square, **kw)
        with grid.cell():
            return pair_field(label, key, default, field, slots, square, slot=grid.slot, **kw)

    size = pair("Input size", "sc_size", 28, "size")
    kernel = pair("Kernel size", f"sc_{kind}_k", d["kernel"], "kernel")
    stride = pair(
        "Stride",
        f"sc_{kind}_s",
        d["stride"],
        "stride",
        allow_blank=pool,
        placeholder="= kernel" if pool else None,
        help="How far the window moves each step."
        + (" Blank: the kernel size (PyTorch's default)." if pool else ""),
    )
    padding: object = "same"
    mode = "a number"
    if lk.padding_words:
        with grid.cell():
            mode = st.selectbox("Padding type", PADDING_MODES, key="sc_pad_mode", format_func=_pad_word)
        if mode != "a number":  # "same" with stride 2: the message goes under the padding type
            slots.add("padding", grid.slot)
    if mode == "a number":
        padding = pair("Padding", f"sc_{kind}_p", d["padding"], "padding", help="Zeros added on each side."
                       + (' Padding type "same" keeps the size (stride 1 only); "valid" adds none.'
                          if lk.padding_words else ""))  # fmt: skip
    elif mode == "valid":
        padding = "valid"
    dilation = (1, 1)
    if lk.applies("dilation"):
        dilation = pair(
            "Dilation", f"sc_{kind}_d", d["dilation"], "dilation", help="Gap between kernel taps."
        )
    output_padding = (0, 0)
    if lk.applies("output_padding"):
        output_padding = pair("Out padding", "sc_op", d["output_padding"], "output_padding", minimum=0,
                              help="Output padding: extra rows and columns on one side of the output (less than the stride).")  # fmt: skip
    ceil_mode = False
    if lk.applies("ceil_mode"):
        with grid.cell() if square else st.container():
            ceil_mode = st.checkbox(
                "ceil_mode", key="sc_ceil", help="Round up: one more window may hang over the edge."
            )
    if slots.bad:
        return None
    return {
        "size": size,
        "kernel": kernel,
        "stride": None if pool and stride[0] is None else stride,
        "padding": padding,
        "dilation": dilation,
        "output_padding": output_padding,
        "ceil_mode": ceil_mode,
    }


def channel_fields(kind: str, slots: Slots) -> tuple[int | None, int | None, bool]:
    """Input and output channels and bias, one row: they change C and the parameters, not the picture."""
    d = DEFAULTS[kind]
    lk = kind_of(kind)
    row = FieldRows(3)
    with row.cell():
        cin = int_field("Input channels", "sc_cin", 3, "in_channels", slots, minimum=1, slot=row.slot)
    cout: int | None = 0
    if lk.learns:
        with row.cell():
            cout = int_field("Output channels", f"sc_{kind}_cout", d["out"], "out_channels", slots, minimum=1,
                             slot=row.slot)  # fmt: skip
    st.session_state.setdefault("sc_bias", True)
    bias = True
    if lk.applies("bias"):
        with row.cell():
            bias = st.checkbox("bias", key="sc_bias")
    return cin, cout, bias


def _shape(shape: tuple[int, ...]) -> str:
    return " × ".join(str(v) for v in shape)


def results_panel(r: LayerResult) -> None:
    """Output shape, the formula with the numbers, the parameter count, unread pixels."""
    a = b = st.container(horizontal=True)  # one block for the row
    a.metric("Input  [C, H, W]", _shape(r.input_shape))
    b.metric("Output  [C, H, W]", _shape(r.output_shape))
    if r.square:
        st.markdown("**Height and width** (same numbers)")
        st.latex(r.latex_h)
    else:
        st.markdown("**Height**")
        st.latex(r.latex_h)
        st.markdown("**Width**")
        st.latex(r.latex_w)
    if r.params_latex:
        explain(f"**Parameters: {r.params:,}** (weights + biases)")
        st.latex(r.params_latex)
    else:
        explain("**Parameters: 0** — pooling has nothing to learn; each channel is pooled on its own.")
    if r.layer_kind.transposed:  # a transposed convolution reads every input pixel
        return
    if r.uncovered_rows or r.uncovered_cols:
        st.warning(_unread_text(r), icon=":material/content_cut:")
    else:
        st.success("Every input pixel is read by at least one window.", icon=":material/check_circle:")


def _unread_text(r: LayerResult) -> str:
    """Which input rows and columns no window reads, and why (from cnnlib.shapes.window.uncovered_reasons)."""
    head = "Never read by any window (counting from 0): "
    foot = " No kernel tap ever lands on them, so they can't affect the output."
    if r.square:  # the same numbers for both: say why once
        where = f"**{describe_indices(r.uncovered_rows, 'row')}** and **{describe_indices(r.uncovered_cols, 'column')}**"
        return f"{head}{where}, because {' and '.join(r.uncovered_why_rows)}.{foot}"
    parts = [
        f"**{describe_indices(indices, word)}**, because {' and '.join(why)}"
        for indices, word, why in (
            (r.uncovered_rows, "row", r.uncovered_why_rows),
            (r.uncovered_cols, "column", r.uncovered_why_cols),
        )
        if indices
    ]
    return f"{head}{'; '.join(parts)}.{foot}"


def picture(r: LayerResult, stale: bool = False, answer: bool = True) -> None:
    """The window sliding over the input, one output pixel at a time (stale: the last good layer;
    answer False: the window on the input only, while the class works out the output size)."""
    title = "Watch the window slide" + (" (the last layer that worked)" if stale else "")
    if r.rows is None or r.cols is None or not picture_fits(r.rows, r.cols):
        st.info(
            f"**{title}**: the picture draws grids up to {MAX_PICTURE_CELLS} cells a side (padding "
            "included). Make the input smaller (say 7×7) to watch the window slide.",
            icon=":material/zoom_in:",
        )
        return
    oh, ow = r.output_shape[1], r.output_shape[2]
    pos = stepper(oh * ow, "sc_step", f"{title}: output pixel (1 to {oh * ow}, row by row)") if answer else 0
    row, col = divmod(pos, ow)
    hi, wi = r.input_shape[1], r.input_shape[2]
    label = f"Input {hi}×{wi}"
    if r.layer_kind.transposed:
        label += " (stretched)"
    elif len(r.rows.cells) > hi or len(r.cols.cells) > wi:
        label += " + padding"
    png = shared(  # a picture (numpy/Pillow): nobody hovers it, and the page then loads no plotly.js
        sliding_picture,
        r.rows,
        r.cols,
        row,
        col,
        tuple(r.uncovered_rows),  # hashable: the cache's key is these arguments themselves
        tuple(r.uncovered_cols),
        label,
        r.layer_kind.transposed,
        760,
        answer,
    )
    caption = (
        f"Output pixel row {row}, column {col} is made from the dark cells. Dashed box: the window's span; "
        "with dilation > 1 its taps have gaps between them."
        if answer
        else "The window at its first place. How many places does it fit? The output shows when the answer "
        "is revealed."
    )
    st.image(png, caption=caption)  # one element with the picture


def _settings_text(settings: LayerSettings) -> str:
    """The settings in a few words, e.g. "input 28, kernel 3, stride 2, padding 1"."""

    def v(x: object) -> str:
        a, b = x if isinstance(x, tuple) else (x, x)
        return f"{a}" if a == b else f"{a}×{b}"

    parts = [f"input {v(settings.size)}", f"kernel {v(settings.kernel)}"]
    parts.append("stride = kernel" if settings.stride is None else f"stride {v(settings.stride)}")
    pad = settings.padding
    parts.append(f'padding "{pad}"' if isinstance(pad, str) else f"padding {v(pad)}")
    if settings.dilation not in (1, (1, 1)):
        parts.append(f"dilation {v(settings.dilation)}")
    if settings.layer_kind.applies("output_padding"):
        parts.append(f"output padding {v(settings.output_padding)}")
    if settings.ceil_mode:
        parts.append("ceil_mode")
    return ", ".join(parts)


def _refusal(settings: LayerSettings, problem: ShapeError, slots: Slots) -> None:
    """Why PyTorch refuses: the message beside its field, and the formula if it shows the reason."""
    if slots.show(problem):
        st.error("PyTorch would refuse this layer: see the message marked in red on the left.",
                 icon=":material/block:")  # fmt: skip
    else:
        st.error(f"PyTorch would refuse this layer: {problem}", icon=":material/block:")
    for axis, tex in refused_formulas(settings):
        st.markdown(f"**{axis}**: the formula gives less than 1 pixel")
        st.latex(tex)


def _result(settings: LayerSettings | None) -> tuple[LayerResult | None, ShapeError | None]:
    if settings is None:
        return None, None
    try:
        return single_layer(settings), None
    except ShapeError as e:
        return None, e


def render() -> None:
    """Single-layer mode: the settings beside the sliding-window picture (one screen, issue 25), then
    the output shape, its formula and the player below. Bad settings get their message beside the
    field; the last layer that worked stays on show (marked as such) until they are fixed."""
    left, right = st.columns([2, 3], gap="medium")
    slots = Slots()
    with left:
        kind, settings = settings_panel(slots)
    good: dict = st.session_state.setdefault("sc_last_good", {})
    result, problem = _result(settings)
    if result is not None:
        good[kind] = (repr(settings), settings, result)
    last = good.get(kind)
    shown = result if result is not None else (last[2] if last else None)
    held = strip.poll_open_for_students()  # a student while the class is asked: no answer yet
    predict = bool(st.session_state.get("sc_predict"))
    hidden = held or (predict and shown is not None and st.session_state.get("sc_revealed") != good[kind][0])
    with right, st.container(key="key_shapes_picture"):
        if shown is not None:
            picture(shown, stale=result is None, answer=not hidden)
        else:
            st.caption("The picture comes back once the layer runs.")
    st.toggle("Predict first: hide the answer until I reveal it", key="sc_predict")
    if result is not None and hidden:
        _ask(kind, result, held)
        return
    if result is None:
        if problem is None:
            st.info("Fix the setting marked in red on the left to see the output.",
                    icon=":material/arrow_back:")  # fmt: skip
        else:
            _refusal(settings, problem, slots)  # type: ignore[arg-type]
        if last is None or hidden:
            return
        st.caption(f"Meanwhile, the last {kind} that worked ({_settings_text(last[1])}):")
        with st.container(border=True):
            results_panel(last[2])
    else:
        results_panel(result)
    shapes_player.render(shown, good[kind][1])  # type: ignore[arg-type]  # the settings that made `shown`


def _ask(kind: str, result: LayerResult, held: bool) -> None:
    """The question instead of the answer: the teacher's poll (a student waits), or predict-first."""
    st.subheader(":material/help: What shape comes out?", anchor=False)
    if held:
        st.info("Your teacher is asking the class: work it out with the formula, answer in "
                "the poll above; the output shows when the answer is revealed.",
                icon=":material/how_to_vote:")  # fmt: skip
        return
    st.markdown("Work it out with the formula (or guess!), then reveal.")
    h = result.output_shape[1]
    strip.ask(f"{kind}: what height comes out of a height of {result.input_shape[1]}?",
              poll_options(h, result.input_shape[1]), str(h), "shapes")  # fmt: skip
    if st.button("Reveal the answer", key="sc_reveal", type="primary"):
        st.session_state["sc_revealed"] = repr(st.session_state["sc_last_good"][kind][1])
        st.rerun()
