"""Shape calculator, stack mode: chain layers (or load a preset / the builder's model) and watch
the shape, receptive field and jump after each layer, and where a spatial size hits zero."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from cnnlib.plots import stack_picture
from cnnlib.shapes import (
    ShapeError,
    StackResult,
    layer_settings,
    layer_status,
    layer_title,
    parse_int,
    stack_shapes,
)
from cnnlib.spec import DEFAULT_PRESET, PRESETS, auto_inputs
from pages.ui.figures import shared
from pages.ui.memory import memory
from pages.ui.shapes.inputs import Slots, int_field

# The Digit CNN, every page's model, as the bundled digit model stores it (its layers take what arrives)
DEFAULT_INPUT: tuple[int, ...] = tuple(PRESETS[DEFAULT_PRESET].input_shape)
DEFAULT_LAYERS: list[dict] = auto_inputs(PRESETS[DEFAULT_PRESET]).to_dict()["layers"]
ADD_TYPES = ["Conv2d", "MaxPool2d", "AvgPool2d", "ConvTranspose2d", "ReLU", "BatchNorm2d"]
MY_MODEL = "My model (from the Model builder)"
MEMORY = "sc_stack_memory"  # this mode's own values (pages/ui/memory.py)
REFUSED_STYLE = "background-color: #fde2e2; color: #9b1c1c; font-weight: 700"
UNREACHED_STYLE = "color: #9ca3af"  # greyed: nothing arrives there


def _sources() -> dict[str, object]:
    """Models to start from: the session's model, then the presets (if those modules exist)."""
    out: dict[str, object] = {}
    if st.session_state.get("model_spec"):
        out[MY_MODEL] = st.session_state["model_spec"]
    try:
        from cnnlib.spec import PRESETS

        out.update(PRESETS)
    except Exception:  # presets not written yet, or broken: the stack still works by hand
        pass
    return out


def _as_dict(obj: object) -> dict:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    try:
        from cnnlib.spec import ModelSpec

        return ModelSpec.from_dict(obj).to_dict()
    except Exception:
        return dict(obj) if isinstance(obj, dict) else {}


def _load(name: str) -> None:
    d = _as_dict(_sources().get(name, {}))
    shape, layers = d.get("input_shape"), d.get("layers")
    if not (isinstance(shape, list | tuple) and len(shape) == 3 and isinstance(layers, list)):
        st.session_state["sc_stack_msg"] = f"Couldn't read {name!r} as a model."
        return
    st.session_state["sc_stack_layers"] = [dict(layer) for layer in layers]
    for key, value in zip(("sc_st_c", "sc_st_h", "sc_st_w"), shape, strict=True):
        st.session_state[key] = str(value)
    st.session_state["sc_stack_msg"] = f"Loaded {name}."


def _padding(text: str, words: bool, slot) -> int | str | None:
    """A padding typed as text (Conv2d also takes "same"/"valid"); a message in `slot` if unreadable."""
    if words and text.strip().lower() in ("same", "valid"):
        return text.strip().lower()
    try:
        return parse_int(text, "padding", 0)
    except ShapeError as e:
        slot.error(f"{e}{' You can also type same or valid.' if words else ''}", icon=":material/warning:")
        return None


def add_layer_panel() -> None:
    """Fields for one new layer and the Add button."""
    t = st.selectbox(
        "New layer",
        ADD_TYPES,
        key="sc_add_type",
        help='Its kernel, stride, padding (a number; Conv2d also "same" or "valid") and output channels.',
    )
    slots = Slots()
    layer: dict = {"type": t}
    if t in ("Conv2d", "MaxPool2d", "AvgPool2d", "ConvTranspose2d"):
        cols = st.columns(4, vertical_alignment="bottom")
        row = st.container()  # the fields' messages, under the row and as wide as it
        with cols[0]:
            layer["kernel_size"] = int_field(
                "Kernel", "sc_add_k", 3 if "Conv" in t else 2, "kernel", slots, slot=row
            )
        with cols[1]:
            pool = "Pool" in t
            layer["stride"] = int_field(
                "Stride",
                "sc_add_s",
                "" if pool else 1,
                "stride",
                slots,
                allow_blank=pool,
                placeholder="= kernel",
                slot=row,
            )
        with cols[2]:
            st.session_state.setdefault("sc_add_p", "1" if t == "Conv2d" else "0")
            text = st.text_input("Padding", key="sc_add_p")  # its words: in the layer type's help
            layer["padding"] = _padding(text, t == "Conv2d", row)
        with cols[3]:
            if "Conv" in t:
                layer["out_channels"] = int_field(
                    "Channels", "sc_add_out", 16, "out_channels", slots, slot=row
                )
            if t == "ConvTranspose2d":
                layer["output_padding"] = int_field(
                    "Out pad", "sc_add_op", 0, "output_padding", slots, 0, slot=row, help="Output padding"
                )
            if t == "MaxPool2d":
                layer["ceil_mode"] = st.checkbox("ceil_mode", key="sc_add_ceil")
    ready = not slots.bad and all(v is not None for k, v in layer.items() if k != "stride")
    if st.button("Add layer", icon=":material/add:", key="sc_add", disabled=not ready, type="primary"):
        set_layers(st.session_state["sc_stack_layers"] + [layer])
        st.rerun()


def _fmt(v: tuple[int, int] | None) -> str:
    if v is None:
        return "—"
    return f"{v[0]}" if v[0] == v[1] else f"{v[0]}×{v[1]}"


def table(res: StackResult, layers: list[dict]) -> pd.DataFrame:
    """One row per layer (and the input): shape, params, receptive field, jump. Every layer is
    listed: the one torch refuses marked, those after it (which nothing reaches) with dashes."""
    rows = [{"layer": "input", "settings": "", "output [C, H, W]": " × ".join(map(str, res.input_shape)),
             "params": "", "receptive field": "1", "jump": "1"}]  # fmt: skip
    for r in res.rows:  # "1 · Conv2d", not "1. Conv2d": st.table reads Markdown (a list)
        rows.append({"layer": f"{r.index + 1} · {r.type}", "settings": r.label,
                     "output [C, H, W]": " × ".join(map(str, r.output_shape)), "params": f"{r.params:,}",
                     "receptive field": _fmt(r.rf), "jump": _fmt(r.jump)})  # fmt: skip
    for i, status in enumerate(layer_status(res, len(layers))):
        if status == "ok":
            continue
        d = layers[i]
        rows.append({"layer": f"{'✖ ' if status == 'refused' else ''}{i + 1} · {d.get('type', '?')}",
                     "settings": layer_settings(d),
                     "output [C, H, W]": "✖ refused" if status == "refused" else "not reached",
                     "params": "—", "receptive field": "—", "jump": "—"})  # fmt: skip
    return pd.DataFrame(rows)


def styled(frame: pd.DataFrame, res: StackResult, layers: list[dict]):
    """The table with the refused layer's row in red and the rows after it greyed."""
    styles = [""] + [
        {"ok": "", "refused": REFUSED_STYLE, "not reached": UNREACHED_STYLE}[s]
        for s in layer_status(res, len(layers))
    ]
    return frame.style.apply(lambda col: styles[: len(col)], axis=0)


def set_layers(layers: list[dict]) -> None:
    """A new stack (the Remove picker then starts again on its last layer: `_remove_picker`)."""
    st.session_state["sc_stack_layers"] = layers


def _remove_picker(layers: list[dict]) -> None:
    """ "Layer to remove", each layer named ("3 · MaxPool2d 2×2"); on the last layer whenever the
    stack changed since the picker was last drawn (added, removed, loaded, started again, a link)."""
    mem = memory(MEMORY)
    made = json.dumps(layers, sort_keys=True, default=str)
    if mem.get("picker_for") != made or st.session_state.get("sc_rm_which", 0) >= len(layers):
        st.session_state["sc_rm_which"] = len(layers) - 1
        mem["picker_for"] = made


def _edit_panel(layers: list[dict]) -> None:
    """Add a layer, remove one, start again: the controls that change the chart, beside it."""
    add_layer_panel()
    row = st.container(horizontal=True, vertical_alignment="bottom")  # one block for the row
    if layers:
        _remove_picker(layers)
        which = row.selectbox(
            "Layer to remove",
            range(len(layers)),
            format_func=lambda i: layer_title(i, layers[i]),
            key="sc_rm_which",
            width="stretch",
        )
        if row.button("", icon=":material/delete:", key="sc_rm", help="Remove this layer"):
            set_layers([d for i, d in enumerate(layers) if i != which])
            st.rerun()
    if row.button(
        "", icon=":material/restart_alt:", key="sc_reset", help="Start again: the page's first model"
    ):
        set_layers([dict(d) for d in DEFAULT_LAYERS])
        st.rerun()


def _input_shape(slots: Slots) -> list[int | None]:
    """The input's [C, H, W] fields in one row, their messages under it."""
    row = st.container(horizontal=True, vertical_alignment="bottom")  # one block, not a column each
    under = st.container()  # the fields' messages, under the row
    shape: list[int | None] = []
    for key, default, field in zip(("sc_st_c", "sc_st_h", "sc_st_w"), DEFAULT_INPUT, ("channels", "size", "size"), strict=True):  # fmt: skip
        label = ("Input channels", "Height", "Width")[len(shape)]
        with row, st.container(width=140):
            shape.append(int_field(label, key, default, field, slots, 1, slot=under, prefix=f"{label}: "))
    return shape


def render() -> None:
    """Stack mode: the chart beside the controls that change it (one screen, issue 25), then the
    model to start from, the input's shape, the totals and the table of every layer."""
    st.session_state.setdefault("sc_stack_layers", [dict(d) for d in DEFAULT_LAYERS])
    layers = st.session_state["sc_stack_layers"]
    slots = Slots()
    chart_box, edit_box = st.columns([3, 2], gap="medium")
    with edit_box, st.container(key="key_shapes_stack_edit", border=True):
        _edit_panel(layers)
    layers = st.session_state["sc_stack_layers"]
    sources = _sources()
    row = st.container(horizontal=True, vertical_alignment="bottom")
    if sources:
        name = row.selectbox("Start from a model", list(sources), key="sc_stack_source", width=320)
        row.button("Load", key="sc_stack_load", on_click=_load, args=(name,))
    if msg := st.session_state.pop("sc_stack_msg", None):
        st.toast(msg)
    shape = _input_shape(slots)
    if slots.bad:  # keep showing the stack, with the last input that worked
        shape = st.session_state.get("sc_stack_good_shape", list(DEFAULT_INPUT))
        st.caption(f"Meanwhile, the stack for the last input that worked: {' × '.join(map(str, shape))}.")
    else:
        st.session_state["sc_stack_good_shape"] = shape
    res = stack_shapes(shape, layers)  # type: ignore[arg-type]
    with chart_box, st.container(key="key_shapes_stack_chart"):
        png = shared(
            stack_picture, res, key=(tuple(shape), json.dumps(layers, sort_keys=True))
        )  # what made `res`
        st.image(png, caption="In input pixels: each layer's size (bars), receptive field and jump (lines).")
    if res.error is not None:
        st.error(str(res.error), icon=":material/block:")
    last = res.rows[-1] if res.rows else None
    m1 = m2 = m3 = st.container(horizontal=True)  # one block for the row
    if res.error is not None and res.error.layer_index is not None:
        m1.metric("Output shape", f"layer {res.error.layer_index + 1} fails")
    else:
        m1.metric("Output shape", " × ".join(map(str, last.output_shape)) if last else "—")
    m2.metric("Parameters", f"{sum(r.params for r in res.rows):,}")
    spatial = [r for r in res.rows if r.rf is not None]
    m3.metric("Receptive field (last spatial layer)", _fmt(spatial[-1].rf) if spatial else "1")
    st.table(styled(table(res, layers), res, layers), hide_index=True)
