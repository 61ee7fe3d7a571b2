"""Model builder: the layer editor (pick a layer, move/duplicate/remove it, edit its fields, add layers)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from cnnlib import spec as S
from pages.ui.builder import state as B
from pages.ui.glossary import explain_caption


def row_label(spec: S.ModelSpec, rows: list[S.LayerSummary], i: int, err: S.SpecError | None) -> str:
    """ "3 · Conv2d(4→8, 3x3, p=1)" (layer i, counted from 1) with a warning sign on the broken layer."""
    label = rows[i].label if i < len(rows) else S.layer_label(spec.layers[i])
    broken = err is not None and err.layer_index == i
    return f"{'✖ ' if broken else ''}{i + 1} · {label}"  # counted from 1, as on every page


def arriving_size(spec: S.ModelSpec, rows: list[S.LayerSummary], i: int) -> int | None:
    """What an "auto" field of layer i resolves to: the channels of an arriving feature map (Conv2d,
    BatchNorm2d) or the length of an arriving vector (Linear); None when unknown or the wrong kind."""
    if i < len(rows):
        shape: tuple[int, ...] | None = rows[i].input_shape
    elif i == len(rows):  # the broken layer: it receives the last good layer's output
        shape = rows[i - 1].output_shape if i > 0 else tuple(spec.input_shape)
    else:
        shape = None
    if shape is None or (spec.layers[i].type == "Linear") != (len(shape) == 1):
        return None
    return int(shape[0])


def _parse_pair(text: str) -> Any:
    """ "3" -> 3, "3, 5" or "3x5" -> [3, 5] (cnnlib validates the numbers)."""
    parts = [p.strip() for p in text.replace("x", ",").replace("×", ",").split(",") if p.strip()]
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f'Type one whole number or two like "3, 5", not "{text}".') from None
    if len(nums) not in (1, 2):
        raise ValueError(f'Type one whole number or two like "3, 5", not "{text}".')
    return nums[0] if len(nums) == 1 else nums


def _auto_int_widget(i: int, info: S.FieldInfo, value: Any, arriving: int | None, key: str) -> None:
    """An in_* field: an "auto" toggle, then the number when it is off (or what arrives when on)."""
    label, auto_key = info.name, f"{key}_auto"
    st.toggle(
        f"{label}: auto",
        value=value == S.AUTO,
        key=auto_key,
        help=info.help,
        on_change=B.set_field,
        args=(i, info.name, auto_key, lambda on: S.AUTO if on else (arriving or 1)),
    )
    if value != S.AUTO:
        st.number_input(
            label,
            min_value=1,
            max_value=S.MAX_PARAMS,  # what arrives may be a flattened big image
            value=int(value),
            step=1,
            key=key,
            on_change=B.set_field,
            args=(i, info.name, key),
        )
    elif arriving is not None:
        st.caption(f"{label} = {arriving} (what arrives)")


def _padding_widget(i: int, info: S.FieldInfo, value: Any, key: str) -> None:
    """A Conv2d padding of one number: a choice of small numbers, "same" and "valid"."""
    options: list[Any] = sorted({0, 1, 2, 3, 4, 5} | ({value} if isinstance(value, int) else set()))
    options += ["same", "valid"]
    st.selectbox(
        info.name,
        options,
        index=options.index(value),
        key=key,
        help=info.help,
        on_change=B.set_field,
        args=(i, info.name, key),
    )


def _pair_widget(i: int, info: S.FieldInfo, value: Any, key: str) -> None:
    """A size that may differ per axis: "height, width" text for a pair, else one number."""
    label, helptext, args = info.name, info.help, (i, info.name, key)
    if isinstance(value, list):
        st.text_input(
            f"{label} (height, width)",
            value=f"{value[0]}, {value[1]}",
            key=key,
            help=helptext,
            on_change=B.set_field,
            args=(*args, _parse_pair),
        )
        return
    shown = value
    if info.kind == "opt_pair" and value is None:
        shown = B.current().layers[i].params["kernel_size"]
        shown = shown if isinstance(shown, int) else shown[0]
    lowest = 0 if info.kind in ("nonneg_pair", "conv_padding") else 1
    st.number_input(
        label,
        min_value=lowest,
        max_value=S.MAX_INT_FIELD,
        value=int(shown),
        step=1,
        key=key,
        help=helptext,
        on_change=B.set_field,
        args=args,
    )
    if info.kind == "opt_pair" and value is None:
        st.caption("stride follows kernel_size")


def _float_widget(i: int, info: S.FieldInfo, value: Any, key: str) -> None:
    """A probability (0 to 1, two decimals) or any other float (three)."""
    lo, hi, step = (0.0, 1.0, 0.05) if info.kind == "prob" else (-1e6, 1e6, 0.01)
    st.number_input(
        info.name,
        min_value=lo,
        max_value=hi,
        value=float(value),
        step=step,
        format="%.2f" if info.kind == "prob" else "%.3f",  # a LeakyReLU slope of 0.001 shows as such
        key=key,
        help=info.help,
        on_change=B.set_field,
        args=(i, info.name, key),
    )


def _field_widget(i: int, info: S.FieldInfo, value: Any, arriving: int | None, v: int) -> None:
    """Field `info` of layer i: the widget its kind calls for, then its last refused value's message."""
    key = f"bf_{v}_{i}_{info.name}"
    args = (i, info.name, key)
    label, helptext = info.name, info.help
    if info.kind == "bool":
        st.checkbox(label, value=bool(value), key=key, help=helptext, on_change=B.set_field, args=args)
    elif info.kind == "auto_int":
        _auto_int_widget(i, info, value, arriving, key)
    elif info.kind == "conv_padding" and not isinstance(value, list):
        _padding_widget(i, info, value, key)
    elif info.kind in ("pair", "nonneg_pair", "opt_pair", "conv_padding"):
        _pair_widget(i, info, value, key)
    elif info.kind in ("prob", "float"):
        _float_widget(i, info, value, key)
    else:
        st.number_input(
            label,
            min_value=1,
            max_value=S.MAX_INT_FIELD,
            value=int(value),
            step=1,
            key=key,
            help=helptext,
            on_change=B.set_field,
            args=args,
        )
    fe = st.session_state.get(B.FIELD_ERR)
    if fe and fe[0] == i and fe[1] == info.name:
        st.error(fe[2], icon=":material/error:")


def _block_editor(i: int, layer: S.LayerSpec, row: S.LayerSummary | None, v: int) -> None:
    """A Residual block: its inner layers as JSON text (checked by cnnlib when it changes; a bad text
    keeps the model and says why), then each inner layer's output and the skip."""
    key = f"bf_{v}_{i}_layers"
    st.text_area(
        "Inner layers (JSON, one layer a line)",
        value=S.block_text(layer),
        key=key,
        height=180,
        max_chars=20_000,
        help='Layers like {"type": "Conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1}; no Flatten, '
        "Linear or block inside. Press Ctrl+Enter to apply.",
        on_change=B.set_field,
        args=(i, "layers", key, S.inner_layers_from_text),
    )
    fe = st.session_state.get(B.FIELD_ERR)
    if fe and fe[0] == i and fe[1] == "layers":
        st.error(fe[2], icon=":material/error:")
    if row is not None and row.inner:
        st.caption("  \n".join(S.block_lines(row)))
    explain_caption(f"**{layer.type}**: {S.LAYER_DOCS[layer.type]}")


def _select(key: str) -> None:
    st.session_state[B.SELECTED] = st.session_state[key]


def render_layer_editor(
    spec: S.ModelSpec, rows: list[S.LayerSummary], err: S.SpecError | None, doc: Any = None
) -> None:
    """Pick a layer, then move, duplicate, remove or edit it, or add one (one row of icon buttons and
    the Add popover; fields in 3 columns: the editor sits beside the summary table, one screen with it)."""
    v, n = B.version(), len(spec.layers)
    if n == 0:
        st.info("No layers yet: add one.")
        render_add_layer(spec, st.container())
        return
    sel = min(st.session_state.get(B.SELECTED, 0), n - 1)
    key = f"bsel_{v}"
    i = st.selectbox(
        "Layer to edit",
        list(range(n)),
        index=sel,
        key=key,
        on_change=_select,
        args=(key,),
        format_func=lambda j: row_label(spec, rows, j, err),
    )
    layer = spec.layers[i]
    row = st.container(horizontal=True, vertical_alignment="center", gap="xsmall")  # one line
    buttons = (
        ("b_up", ":material/arrow_upward:", i == 0, B.move_layer, (i, i - 1), "Move this layer one place earlier"),
        ("b_down", ":material/arrow_downward:", i == n - 1, B.move_layer, (i, i + 1), "Move this layer one place later"),
        ("b_dup", ":material/content_copy:", False, B.duplicate_layer, (i,), "Copy: insert a copy right after it"),
        ("b_del", ":material/delete:", False, B.remove_layer, (i,), "Remove this layer"),
    )  # fmt: skip
    for bkey, icon, disabled, action, args, helptext in buttons:
        row.button("", key=bkey, icon=icon, disabled=disabled, on_click=action, args=args, help=helptext)
    render_add_layer(spec, row)
    if layer.inner:  # a block: its inner layers as JSON text, and what each computes
        _block_editor(i, layer, rows[i] if i < len(rows) else None, v)
        return
    infos = S.FIELDS[layer.type]
    if infos:
        arriving = arriving_size(spec, rows, i)
        cols = st.columns(3)
        for j, info in enumerate(infos):
            with cols[j % 3]:
                _field_widget(i, info, layer.params[info.name], arriving, v)
    with doc if doc is not None else st.container():  # what the layer does: under the editor's row
        explain_caption(
            f"**{layer.type}**: {S.LAYER_DOCS[layer.type]}"
            + ("" if infos else " It has no settings to change.")
        )


def render_add_layer(spec: S.ModelSpec, where: Any) -> None:
    """An "Add a layer" popover in `where`, built only when open: a layer type, where it goes, Add."""
    box = where.popover("Add", icon=":material/add:", key="badd_box", on_change="rerun", help="Add a layer")
    if not box.open:
        return
    v, n = B.version(), len(spec.layers)
    sel = st.session_state.get(B.SELECTED, 0)
    with box:
        t = st.selectbox("Add a layer of type", S.LAYER_TYPES, key="badd_type")
        sel = max(0, min(sel, n - 1)) if n else 0
        pos_key = f"badd_pos_{v}_{sel}"  # a fresh picker when another layer is edited: around that one
        positions = S.insert_positions(n)
        st.selectbox(
            "at position",
            positions,
            index=positions.index(S.default_position(n, sel)),
            key=pos_key,
            format_func=lambda p: S.position_label(spec, p, sel),
        )
        st.button(
            f"Add {t}",
            key="badd_btn",
            icon=":material/add:",
            type="primary",
            on_click=B.add_layer,
            args=("badd_type", pos_key),
        )
        explain_caption(f"**{t}**: {S.LAYER_DOCS[t]}")
