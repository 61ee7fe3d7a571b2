"""The class's shared model in the pages: "Share this model with the class" on the Training page's
results, and the class's model as a choice on Draw & predict.

The store keeps the bytes (cnnlib.classroom: one model per class, at most MAX_MODEL_BYTES, a later
share replaces the earlier one); the model is read back with TrainedModel.from_bytes (weights_only)
and built once per (class, shared at) for the whole process, so a class of 30 does not rebuild it on
every rerun. A model that cannot be read gives a message, and the page keeps the bundled one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from cnnlib.classroom import ClassError, ClassModel, format_code
from cnnlib.inference import check_compatible, model_from_record
from cnnlib.trained import TrainedModel
from pages.ui.classes.classroom import fail, member, store

__all__ = ["ClassChoice", "class_choice", "share_button"]

ss = st.session_state
SHARE_KEY = "class_share_model"


def _member_key(m: dict) -> str | None:
    """What proves this session's part in the class: the teacher key or the student id."""
    if m.get("role") == "teacher":
        return m.get("key")
    if m.get("role") == "student":
        return m.get("sid")
    return None


def share_button(run: Any, info: dict) -> None:
    """In a class session, on a finished run's results: share its model with the class."""
    m, s = member(), store()
    if m is None or s is None or _member_key(m) is None:
        return
    shared = ss.setdefault("class_shared_models", {})
    if run.id in shared:
        st.caption(f":material/check: {shared[run.id]}")
        return
    compat = check_compatible(run.spec.to_dict() if run.spec is not None else {}, list(run.classes))
    if not compat.ok:  # the class tests it by drawing: a model that cannot read drawings is not offered
        st.caption(
            f"Draw & predict can't use this model, so it is not offered to the class: {compat.message}"
        )
        return
    if not st.button("Share this model with the class", key=SHARE_KEY, icon=":material/group_add:"):
        return
    trained = run.record()
    if trained is None:
        st.warning("This run has no finished model to share (it needs a test accuracy).")
        return
    bundle = run.bundle.title or run.bundle.name
    trained.name = f"{info.get('model') or run.name or 'A CNN'} on {bundle}"
    try:
        s.share_model(
            m["code"], str(_member_key(m)), trained.name, trained.to_bytes(), trained.test_accuracy, bundle
        )
    except ClassError as err:
        fail(err)
        return
    shared[run.id] = f"Shared: everyone in class {format_code(m['code'])} can draw for it on Draw & predict."
    st.success(shared[run.id], icon=":material/group_add:")


@dataclass(frozen=True)
class ClassChoice:
    """The class's model for Draw & predict: its menu entry, and the built model (or why not)."""

    label: str
    name: str
    record: dict | None  # TrainedModel.to_dict(), None when it could not be read
    model: Any  # nn.Module, None when it cannot draw
    refused: str | None  # why it cannot read drawings (its model is then None)
    note: str | None  # a caveat (e.g. classes other than the digits)


def _label(info: ClassModel) -> str:
    acc = "test accuracy unknown" if info.accuracy is None else f"test accuracy {info.accuracy:.1%}"
    return f"The class's model: {info.name} ({acc}, shared by {info.shared_by})"


@st.cache_resource(max_entries=32, show_spinner="Loading the class's model…")
def _built(code: str, created_at: float) -> tuple[dict | None, Any, str | None, str | None]:
    """The class's model shared at `created_at`, read and built once for every session:
    (record, model, why it cannot draw, a caveat)."""
    s = store()
    got = s.class_model(code, with_data=True) if s is not None else None
    if got is None or got.created_at != created_at:
        return None, None, "It was replaced or removed: pick it again.", None
    try:
        record = TrainedModel.from_bytes(got.data).to_dict()
        compat = check_compatible(record.get("spec") or {}, record.get("classes"))
        if not compat.ok:
            return record, None, compat.message, None
        model = model_from_record(record)
        compat = check_compatible(model, record.get("classes"))
    except Exception as err:  # noqa: BLE001 - a corrupt blob must not break the page
        detail = str(err).replace("\n", " ")[:160]
        return None, None, f"Its file could not be read ({detail}).", None
    if not compat.ok:
        return record, None, compat.message, None
    return record, model, None, compat.message


def class_choice() -> ClassChoice | None:
    """The class's shared model for this member (None outside a class or when nobody shared one)."""
    m, s = member(), store()
    if m is None or s is None or not m.get("code"):
        return None
    try:
        info = s.class_model(m["code"])
        if info is None:
            return None
        return ClassChoice(_label(info), info.name, *_built(m["code"], info.created_at))
    except ClassError:  # the class closed or the database is away: the page goes on without it
        return None
