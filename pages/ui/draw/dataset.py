"""Draw & predict in a class drawing a dataset: under the canvas, "Add this drawing as: [labels]"
and how many of each label this student has added (the store keeps the caps: cnnlib.classroom).

The drawing added is the one the network sees: the preprocessed 28x28 picture, as uint8
(cnnlib.data.drawing_pixels). One drawing is added once: the buttons wait for a new drawing.
"""

from __future__ import annotations

import streamlit as st

from cnnlib.classroom import PER_STUDENT_PER_LABEL, ClassError, DatasetInfo
from cnnlib.data import drawing_pixels
from cnnlib.inference import Preprocessed
from pages.ui.classes.classroom import member, store

__all__ = ["add_row"]

ss = st.session_state
ADDED = "draw_ds_added"  # (signature, label) of the drawing last added
REFUSED = "draw_ds_refused"  # the store's refusal of the last click, shown once


def add_row(where: st.delta_generator.DeltaGenerator, pre: Preprocessed | None) -> None:
    """The student's "Add this drawing as" buttons and counts, in `where` (under the canvas)."""
    m, s = member(), store()
    if m is None or s is None or m.get("role") != "student":
        return
    try:
        now = s.dataset_info(m["code"], m["sid"])
    except ClassError:
        return  # the class strip says what is wrong with the class
    if now is None or not now.open:
        return
    signature = pre.signature if pre is not None and not pre.empty else None
    pixels = b""
    if pre is not None and signature is not None:
        pixels = drawing_pixels(pre.steps[-1][1]).tobytes()  # [28, 28] uint8: what the network sees
    done = signature is not None and ss.get(ADDED, (None,))[0] == signature
    with where.container(key="draw_ds_row"):
        row = st.container(horizontal=True, vertical_alignment="center", gap="small")
        row.markdown("**Add this drawing as:**")
        for i, label in enumerate(now.labels):
            full = now.mine.get(label, 0) >= PER_STUDENT_PER_LABEL
            row.button(label, key=f"draw_ds_add_{i}", disabled=signature is None or done or full,
                       on_click=_add, args=(m["code"], m["sid"], label, pixels, signature))  # fmt: skip
        refused = ss.pop(REFUSED, None)
        if refused:
            st.error(refused, icon=":material/draw:")
        st.caption(_mine_line(now, done))


def _add(code: str, sid: str, label: str, pixels: bytes, signature: str) -> None:
    """The button's callback (before the rerun draws the row: its counts and buttons are current)."""
    s = store()
    if s is None:
        return
    try:
        s.add_drawing(code, sid, label, pixels)
    except ClassError as err:
        ss[REFUSED] = str(err)
        return
    ss[ADDED] = (signature, label)


def _mine_line(now: DatasetInfo, done: bool) -> str:
    mine = " · ".join(f"{label} {now.mine.get(label, 0)}/{PER_STUDENT_PER_LABEL}" for label in now.labels)
    first = f"Added as {ss[ADDED][1]}: clear the canvas and draw the next one. " if done else ""
    return f"{first}Your drawings: {mine}."
