"""The Shape calculator's state <-> its link (cnnlib.shapes.SHAPES_LINK).

One layer: the layer kind and the numbers in its text boxes (only those that differ from the page's
defaults, so a link stays short: `?layer=conv&k=5&s=1`). A stack: its input and its layers, packed.
The quiz is never in a link. A text box that holds something unreadable is left out of the link (the
page shows its message; the link keeps the default there).
"""

from __future__ import annotations

import streamlit as st

from cnnlib.shapes import ShapeError, kind_of, parse_int
from pages.ui.shapes.single import DEFAULTS, PADDING_MODES
from pages.ui.shapes.stack import DEFAULT_INPUT

ss = st.session_state
MODE_OF = {"one": 0, "stack": 1}
SIZE_DEFAULT, CIN_DEFAULT = 28, 3


def _text_pair(key: str) -> tuple[int, int] | None:
    try:
        h = parse_int(str(ss.get(f"{key}_h", "")), "size", 0)
        w = (
            parse_int(str(ss.get(f"{key}_w", ss.get(f"{key}_h", ""))), "size", 0)
            if not ss.get("sc_square", True)
            else h
        )
    except ShapeError:
        return None
    return h, w


def _put_pair(key: str, pair: tuple[int, int] | None, default: object) -> None:
    h, w = pair if pair is not None else (default, default)
    ss[f"{key}_h"], ss[f"{key}_w"] = str(h), str(w)


def apply_link(values: dict, modes: list[str]) -> None:
    """A link's state into the page's widgets (before they are drawn); a missing key is a default."""
    ss["sc_mode"] = modes[MODE_OF[values.get("mode", "one")]]
    if values.get("mode") == "stack":
        c, h, w = values.get("input") or DEFAULT_INPUT
        ss["sc_st_c"], ss["sc_st_h"], ss["sc_st_w"] = str(c), str(h), str(w)
        if values.get("stack") is not None:
            ss["sc_stack_layers"] = [dict(d) for d in values["stack"]]
        return
    kind = values.get("layer", "Conv2d")
    d, lk = DEFAULTS[kind], kind_of(kind)
    ss["sc_kind"] = kind
    pairs = [v for k in ("size", "k", "s", "d", "op") if (v := values.get(k)) is not None]
    if isinstance(values.get("p"), tuple):
        pairs.append(values["p"])
    ss["sc_square"] = all(a == b for a, b in pairs)
    _put_pair("sc_size", values.get("size"), SIZE_DEFAULT)
    _put_pair(f"sc_{kind}_k", values.get("k"), d["kernel"])
    _put_pair(f"sc_{kind}_s", values.get("s"), d["stride"])
    if lk.applies("dilation"):
        _put_pair(f"sc_{kind}_d", values.get("d"), d["dilation"])
    p = values.get("p")
    if lk.padding_words:
        ss["sc_pad_mode"] = PADDING_MODES[0] if not isinstance(p, str) else p
    _put_pair(f"sc_{kind}_p", p if isinstance(p, tuple) else None, d["padding"])
    if lk.applies("output_padding"):
        _put_pair("sc_op", values.get("op"), d["output_padding"])
    ss["sc_cin"] = str(values.get("cin") or CIN_DEFAULT)
    if lk.learns:
        ss[f"sc_{kind}_cout"] = str(values.get("cout") or d["out"])
    ss["sc_ceil"] = bool(values.get("ceil", False))
    ss["sc_bias"] = bool(values.get("bias", True))


def link_values(modes: list[str]) -> dict:
    """The page's state for its link (fields at the page's defaults left out)."""
    mode = ss.get("sc_mode", modes[0])
    if mode == modes[1]:
        values: dict = {"mode": "stack", "stack": list(ss.get("sc_stack_layers", []))}
        try:
            values["input"] = tuple(
                parse_int(str(ss.get(k, "")), "size", 1) for k in ("sc_st_c", "sc_st_h", "sc_st_w")
            )
        except ShapeError:
            pass
        return values
    kind = ss.get("sc_kind", "Conv2d")
    d, lk = DEFAULTS[kind], kind_of(kind)
    values = {"layer": kind}
    for key, ss_key, default in (
        ("size", "sc_size", SIZE_DEFAULT),
        ("k", f"sc_{kind}_k", d["kernel"]),
        ("s", f"sc_{kind}_s", d["stride"]),
        ("d", f"sc_{kind}_d", d.get("dilation")),
        ("op", "sc_op", d.get("output_padding")),
    ):
        if key in ("d", "op") and default is None:
            continue
        pair = _text_pair(ss_key)
        if pair is not None and pair != (default, default):
            values[key] = pair
    if lk.padding_words and ss.get("sc_pad_mode", PADDING_MODES[0]) != PADDING_MODES[0]:
        values["p"] = ss["sc_pad_mode"]
    else:
        pair = _text_pair(f"sc_{kind}_p")
        if pair is not None and pair != (d["padding"], d["padding"]):
            values["p"] = pair
    for key, ss_key, default in (("cin", "sc_cin", CIN_DEFAULT), ("cout", f"sc_{kind}_cout", d.get("out"))):
        if default is None:
            continue
        try:
            v = parse_int(str(ss.get(ss_key, default)), "channels", 1)
        except ShapeError:
            continue
        if v != default:
            values[key] = v
    if ss.get("sc_ceil"):
        values["ceil"] = True
    if not ss.get("sc_bias", True):
        values["bias"] = False
    return values
