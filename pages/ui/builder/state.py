"""Model builder state: the spec being edited, its undo stack, and the edit actions (callbacks).

The spec lives in `st.session_state["builder_spec"]` as a dict that always parses (it may still
fail to run: then the page shows the SpecError). Every structural change bumps a version number
that is part of the editor widgets' keys, so they re-read their values from the new spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from cnnlib import spec as S
from cnnlib.spec import DEFAULT_PRESET, PRESETS
from pages.ui import handoff

SPEC, NAME, UNDO, VERSION, SELECTED = (
    "builder_spec",
    "builder_name",
    "builder_undo",
    "builder_v",
    "builder_sel",
)
NOTICE, FIELD_ERR = "builder_notice", "builder_field_err"
UPLOAD_NOTICE, HANDOFF_NOTICE = "builder_upload_notice", "builder_handoff_notice"
MAX_UNDO = 30


def init_state() -> None:
    """First visit: start from the session's model if there is one, else the default preset."""
    if SPEC in st.session_state:
        return
    session = st.session_state.get("model_spec")
    spec, name = PRESETS[DEFAULT_PRESET], DEFAULT_PRESET
    if session:
        try:
            spec, name = (
                S.ModelSpec.from_dict(session),
                st.session_state.get("model_spec_name") or "Session model",
            )
        except S.SpecError:
            pass
    st.session_state[SPEC] = spec.to_dict()
    st.session_state[NAME] = name
    st.session_state[UNDO] = []
    st.session_state[VERSION] = 0
    st.session_state[SELECTED] = 0


def current() -> S.ModelSpec:
    return S.ModelSpec.from_dict(st.session_state[SPEC])


def name() -> str:
    return st.session_state[NAME]


def version() -> int:
    return st.session_state[VERSION]


def notice(kind: str, text: str) -> None:
    """A message for the next run: kind is "success", "info", "warning" or "error"."""
    st.session_state[NOTICE] = (kind, text)


def _edited_name() -> str:
    n = st.session_state[NAME]
    return n if n.endswith("(edited)") else f"{n} (edited)"


def commit(spec: S.ModelSpec, new_name: str | None = None, bump: bool = True) -> None:
    """Make `spec` current, remembering the previous one for undo."""
    if spec.to_dict() == st.session_state[SPEC] and new_name is None:
        return
    st.session_state[UNDO] = (st.session_state[UNDO] + [(st.session_state[SPEC], st.session_state[NAME])])[
        -MAX_UNDO:
    ]
    st.session_state[SPEC] = spec.to_dict()
    st.session_state[NAME] = new_name or _edited_name()
    st.session_state[FIELD_ERR] = None
    n = len(spec.layers)
    st.session_state[SELECTED] = min(st.session_state.get(SELECTED, 0), max(n - 1, 0))
    err = S.check(spec)
    if err is not None and err.layer_index is not None:
        st.session_state[SELECTED] = err.layer_index  # open the broken layer in the editor
    if bump:
        st.session_state[VERSION] += 1


def _guard(action: Callable[[], None]) -> None:
    try:
        action()
    except S.SpecError as e:
        notice("error", e.message)


# ---- callbacks (on_click / on_change): they run before the page script


def undo() -> None:
    if not st.session_state[UNDO]:
        return
    spec, old_name = st.session_state[UNDO].pop()
    st.session_state[SPEC], st.session_state[NAME] = spec, old_name
    st.session_state[FIELD_ERR] = None
    st.session_state[VERSION] += 1
    n = len(spec["layers"])
    st.session_state[SELECTED] = min(st.session_state[SELECTED], max(n - 1, 0))
    notice("info", "Undone: back to the model before your last change.")


def load_preset(preset: str) -> None:
    st.session_state[SELECTED] = 0
    commit(PRESETS[preset], preset)
    notice("success", f"Loaded the preset {preset}.")


training_choice = handoff.training_choice  # which model Training will train, and why


def trained_model_names() -> list[str]:
    """Names of the models trained this session (what Draw & predict offers besides its own), newest last."""
    records = st.session_state.get("trained_models") or []
    return [str(r.get("name") or "a model") for r in records if isinstance(r, dict)]


def load_session_model() -> None:
    d = st.session_state.get("model_spec")
    if not d:
        notice(
            "info",
            f"No model sent to training yet: Training offers the {handoff.DEFAULT_OPTION} and the presets.",
        )
        return
    _guard(
        lambda: commit(S.ModelSpec.from_dict(d), st.session_state.get("model_spec_name") or "Session model")
    )


def load_upload(key: str) -> None:
    """Read an uploaded JSON spec; a broken file changes nothing and says what is wrong."""
    up = st.session_state.get(key)
    if up is None:  # the file was removed from the uploader
        return
    try:
        spec = S.ModelSpec.from_json(up.getvalue())
    except S.SpecError as e:
        where = f" (layer {e.layer_index + 1})" if e.layer_index is not None else ""
        st.session_state[UPLOAD_NOTICE] = (
            f"Could not load {up.name}{where}: {e.message} Your model is unchanged."
        )
        return
    label = up.name.rsplit(".", 1)[0][:40] or "Uploaded model"
    st.session_state[SELECTED] = 0
    commit(spec, label)
    notice("success", f"Loaded {up.name}.")


def add_layer(type_key: str, pos_key: str) -> None:
    layer_type = st.session_state[type_key]
    index = st.session_state[pos_key]

    def go() -> None:
        commit(S.add_layer(current(), layer_type, index))
        st.session_state[SELECTED] = index

    _guard(go)


def remove_layer(i: int) -> None:
    _guard(lambda: commit(S.remove_layer(current(), i)))


def move_layer(i: int, to: int) -> None:
    def go() -> None:
        commit(S.move_layer(current(), i, to))
        st.session_state[SELECTED] = max(0, min(to, len(current().layers) - 1))

    _guard(go)


def duplicate_layer(i: int) -> None:
    def go() -> None:
        commit(S.duplicate_layer(current(), i))
        st.session_state[SELECTED] = i + 1

    _guard(go)


def apply_fix(fix: dict[str, Any]) -> None:
    def go() -> None:
        commit(S.apply_fix(current(), fix))
        notice("success", f"Fixed: {fix.get('label', 'applied the fix')}. Undo brings the old version back.")

    _guard(go)


def set_field(i: int, field: str, key: str, convert: Callable[[Any], Any] | None = None) -> None:
    """A field widget changed: validate through cnnlib; on a bad value keep the spec, show why."""
    raw = st.session_state[key]
    try:
        value = convert(raw) if convert else raw
        commit(S.set_layer_field(current(), i, field, value))
    except (S.SpecError, ValueError) as e:
        st.session_state[FIELD_ERR] = (i, field, getattr(e, "message", str(e)))


def set_input(key_c: str, key_h: str, key_w: str) -> None:
    shape = [st.session_state[key_c], st.session_state[key_h], st.session_state[key_w]]
    _guard(lambda: commit(S.set_input_shape(current(), shape)))


def set_classes(key: str) -> None:
    _guard(lambda: commit(S.set_num_classes(current(), st.session_state[key])))


def use_for_training() -> None:
    spec = current()
    err = S.check(spec)
    if err is not None:
        notice("error", f"Fix the model first: {err.message}")
        return
    st.session_state["model_spec"] = spec.to_dict()
    st.session_state["model_spec_name"] = name()
    handoff.mark_sent()  # Training selects it on its next run, even if sent before
    st.session_state[HANDOFF_NOTICE] = (
        f"Sent: the Training page will train {name()} (fitted to the dataset you choose there)."
    )


def apply_link(values: dict) -> None:
    """A link's model (cnnlib.spec.BUILDER_LINK) becomes the model being edited; undo goes back."""
    spec = values.get("model", S.BUILDER_LINK.field("model").default)
    preset = next((n for n, p in PRESETS.items() if p.to_dict() == spec.to_dict()), None)
    st.session_state[SELECTED] = 0
    commit(spec, preset or "Shared model")
    notice("info", f"Opened from a link: {preset or 'a model someone shared'}. Undo goes back to yours.")
