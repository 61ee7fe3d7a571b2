"""The class's drawn dataset in the class views: the teacher's "Draw a dataset" control (in the class
panel), its counts and thumbnails on the Class board (live), and the class's drawings as the
Training page's "Our class's drawings".

The store (cnnlib.classroom: labels, caps, counts) and the bundle (cnnlib.data.class_drawings_bundle)
do the work; the students' "Add this drawing as" row is on Draw & predict (pages/ui/draw/dataset.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from cnnlib.classroom import PER_LABEL, PER_STUDENT_PER_LABEL, ClassError, ClassStore, DatasetInfo
from pages.ui.classes.classroom import STUDENT_EVERY_S, fail, member, store

if TYPE_CHECKING:
    from cnnlib.data import DatasetBundle

# cnnlib.data and cnnlib.plots import torch: they are imported inside the functions that need them, as
# the class panel (which imports this module) is drawn on the landing page, which must not import torch.

__all__ = ["TITLE", "board_section", "class_bundle", "has_drawings", "teacher_control"]

ss = st.session_state
TITLE = "Our class's drawings"
DEFAULT_LABELS = "circle, triangle, star"


def info(s: ClassStore | None, m: dict | None) -> DatasetInfo | None:
    """The class's dataset (None outside a class, without one, or if the store refuses)."""
    if s is None or m is None:
        return None
    try:
        return s.dataset_info(m["code"])
    except ClassError:
        return None


def teacher_control(s: ClassStore | None, m: dict) -> None:
    """The teacher's "Draw a dataset": labels, open (students add drawings), close, delete."""
    if s is None:
        return
    with st.expander("Draw a dataset", icon=":material/draw:", key="class_ds_open", on_change="rerun") as box:
        if not box.open:
            return
        now = info(s, m)
        labels = st.text_input(
            "Labels (2 to 5, separated by commas)",
            value=", ".join(now.labels) if now else DEFAULT_LABELS,
            key="class_ds_labels",
        )
        row = st.container(horizontal=True)
        if row.button("Open" if now is None or not now.open else "Update labels", key="class_ds_start"):
            try:
                opened = s.open_dataset(m["code"], m["key"], [w.strip() for w in labels.split(",")])
                st.toast(f"Students can now add drawings of: {', '.join(opened.labels)}.")
                now = opened
            except ClassError as err:
                fail(err)
        if now is not None and now.open and row.button("Stop taking drawings", key="class_ds_close"):
            _close(s, m, clear=False)
            now = info(s, m)
        if now is not None and row.button("Delete the drawings", key="class_ds_clear", type="tertiary"):
            _close(s, m, clear=True)
            now = None
        if now is not None:
            state = "taking drawings" if now.open else "closed (train on it on the Training page)"
            st.caption(f"{counts_line(now)}. {state.capitalize()}.")
        st.caption(
            f"Each student may add {PER_STUDENT_PER_LABEL} drawings per label, the class {PER_LABEL}. "
            "Drawings are deleted when the class ends."
        )


def _close(s: ClassStore, m: dict, clear: bool) -> None:
    try:
        s.close_dataset(m["code"], m["key"], clear=clear)
        st.toast("Drawings deleted." if clear else "No more drawings are taken.")
    except ClassError as err:
        fail(err)


def counts_line(now: DatasetInfo) -> str:
    """ "circle 12 · triangle 9 · star 4" """
    return " · ".join(f"{label} {now.counts[label]}" for label in now.labels)


@st.fragment(run_every=STUDENT_EVERY_S)
def board_section() -> None:
    """On the Class board: the dataset's counts per label and its newest drawings, live."""
    m, s = member(), store()
    now = info(s, m)
    if now is None or s is None or m is None:
        return
    st.subheader(f"{TITLE}: {now.total} so far")
    cols = st.container(horizontal=True, key="class_ds_counts")
    for label in now.labels:
        cols.metric(label, now.counts[label])
    if now.total:
        try:
            data = s.drawings(m["code"], per_label=10)
        except ClassError as err:
            fail(err)
            return
        from cnnlib.plots import class_drawings_png

        png = class_drawings_png(data.images, data.targets, now.labels, now.counts, per_row=10)
        st.image(png, caption="The newest drawings of each label", width="content")


def has_drawings() -> bool:
    """Whether this session is in a class whose dataset has drawings (the Training page lists it)."""
    now = info(store(), member())
    return bool(now and now.total)


def class_bundle() -> DatasetBundle | None:
    """The class's drawings as a DatasetBundle for the Training page (kept while they do not change);
    a clear message (how many more drawings of which labels) when there are too few."""
    from cnnlib.data import DatasetError, class_drawings_bundle

    m, s = member(), store()
    if m is None or s is None:
        st.error("Join the class again to train on its drawings.")
        return None
    try:
        data = s.drawings(m["code"])
    except ClassError as err:
        fail(err)
        return None
    key = (m["code"], data.labels, data.targets.tobytes(), hash(data.images.tobytes()))
    kept = ss.get("class_ds_bundle")
    if kept is not None and kept[0] == key:
        return kept[1]
    try:
        bundle = class_drawings_bundle(data.images, data.targets, data.labels)
    except DatasetError as err:
        st.error(str(err), icon=":material/draw:")
        return None
    ss["class_ds_bundle"] = (key, bundle)
    return bundle
