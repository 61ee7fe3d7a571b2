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


def settings_panel(kind: str, slots: Slots) -> LayerSettings | None:
    """Draw the fields for one layer type; its settings, or None if a field is unreadable."""
    d = DEFAULTS[kind]
    lk = kind_of(kind)
    pool = lk.pool
    st.session_state.setdefault("sc_square", True)  # a link may set it before it is drawn
    square = st.toggle("Square (same height and width)", key="sc_square")
    channels = FieldRows(2)
    with channels.cell():
        cin = int_field("Input channels", "sc_cin", 3, "in_channels", slots, minimum=1, slot=channels.slot)
    cout: int | None = 0
    if lk.learns:
        with channels.cell():
            cout = int_field("Output channels", f"sc_{kind}_cout", d["out"], "out_channels", slots, minimum=1,
                             slot=channels.slot)  # fmt: skip
    grid = FieldRows(2)  # square: two fields a row; else each field is a (height, width) row itself

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
        placeholder="blank = kernel size" if pool else None,
        help="How far the window moves each step."
        + (" Blank: the kernel size (PyTorch's default)." if pool else ""),
    )
    dilation = (1, 1)
    if lk.applies("dilation"):
        dilation = pair(
            "Dilation", f"sc_{kind}_d", d["dilation"], "dilation", help="Gap between kernel taps."
        )
    padding: object = "same"
    mode = "a number"
    if lk.padding_words:
        grid.new_row()
        mode = st.radio("Padding type", PADDING_MODES, horizontal=True, key="sc_pad_mode")
        if mode != "a number":  # "same" with stride 2: the message goes under the padding type
            slots.add("padding", st.container())
    if mode == "a number":
        padding = pair("Padding", f"sc_{kind}_p", d["padding"], "padding", help="Zeros added on each side.")
    elif mode == "valid":
        padding = "valid"
    output_padding = (0, 0)
    if lk.applies("output_padding"):
        output_padding = pair("Output padding", "sc_op", d["output_padding"], "output_padding", minimum=0)
    ceil_mode = st.checkbox("ceil_mode (round up)", key="sc_ceil") if lk.applies("ceil_mode") else False
    st.session_state.setdefault("sc_bias", True)
    bias = st.checkbox("bias", key="sc_bias") if lk.applies("bias") else True
    if slots.bad:
        return None
    return LayerSettings(
        kind=kind,
        size=size,
        kernel=kernel,
        stride=None if pool and stride[0] is None else stride,
        padding=padding,  # type: ignore[arg-type]
        dilation=dilation,
        output_padding=output_padding,
        ceil_mode=ceil_mode,
        in_channels=cin or 1,  # not None: slots.bad would have returned
        out_channels=cout or 1,
        bias=bias,
    )


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
    with left, st.container(key="key_shapes_inputs"):
        kind = st.radio("Layer", LAYER_KINDS, horizontal=True, key="sc_kind")
        settings = settings_panel(kind, slots)
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
