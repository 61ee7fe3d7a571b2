"""The teacher's training run, shared with the class: the teacher publishes, every student watches.

In a class session the teacher can share the run they start (a toggle by the Train button). While
it trains, the teacher's live fragment publishes a small summary about once a second through the
class store (status, epoch, the smoothed loss and accuracy curves, the message); every student's
Training page shows it as the same live chart, so the class watches one training together without
thirty copies of it competing for the server's cores.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import streamlit as st

from cnnlib.classroom import ClassError
from cnnlib.plots import Curves, curves_from_snapshot, live_figure_dict
from pages.ui.classes import classroom
from pages.ui.live_plotly import live_plotly

PUBLISH_EVERY_S = 1.0
MAX_POINTS = 300
ss = st.session_state


def share_toggle() -> bool:
    """The teacher's "share my run" toggle (nothing for anyone else)."""
    if not classroom.is_teacher():
        return False
    return st.toggle("Share my run with the class", key="class_share_run", value=True,
                     help="Every student's Training page shows your run live.")  # fmt: skip


def _thin(values, n: int = MAX_POINTS) -> list:
    values = list(values)
    step = max(1, -(-len(values) // n))
    return values[::step]


def publish(snap) -> None:
    """Called on each live tick of the teacher's run: publish its summary, at most once a second."""
    if not (classroom.is_teacher() and ss.get("class_share_run", True)):
        return
    now = time.monotonic()
    if now - ss.get("class_shared_at", 0.0) < PUBLISH_EVERY_S and not snap.done:
        return
    ss["class_shared_at"] = now
    m, s = classroom.member(), classroom.store()
    if m is None or s is None:  # a teacher is always a member
        return
    progress = {
        "run": snap.run_id,
        "name": snap.name,
        "status": snap.status,
        "message": snap.message,
        "epoch": snap.epoch,
        "epochs": snap.epochs,
        "step": snap.step,
        "total": snap.total_steps,
        "steps_per_epoch": snap.steps_per_epoch,
        "batch_step": _thin(snap.batch_step),
        "batch_loss": _thin(snap.batch_loss),
        "batch_lr": _thin(snap.batch_lr),
        "train_acc": list(snap.train_acc),
        "val_acc": list(snap.val_acc),
        "train_loss": list(snap.train_loss),
        "val_loss": list(snap.val_loss),
        "test_accuracy": snap.test_accuracy,
    }
    try:
        s.share_run(m["code"], m["key"], progress)
    except ClassError as err:
        ss["class_notice"] = str(err)


def curves(progress: dict) -> Curves:
    """The shared summary as the live chart's curves (the same function the teacher's chart uses)."""
    fields = ("steps_per_epoch", "batch_step", "batch_loss", "batch_lr", "train_loss", "val_loss",
              "train_acc", "val_acc", "epochs", "status")  # fmt: skip
    snap = SimpleNamespace(
        **{k: progress.get(k) or ([] if k not in ("epochs", "status") else None) for k in fields}
    )
    snap.steps_per_epoch = snap.steps_per_epoch or 1
    return curves_from_snapshot(snap, f"teacher's run: {progress.get('name', '')}")


@st.fragment(run_every=2.0)
def watch() -> None:
    """A student's view of the teacher's shared run (nothing when there is none)."""
    m, s = classroom.member(), classroom.store()
    if m is None or m.get("role") not in ("student", "projector") or s is None:
        return
    try:
        progress = s.shared_run(m["code"])
    except ClassError as err:
        classroom.fail(err)
        return
    if not progress:
        return
    with st.container(border=True, key="class_shared_run"):
        st.markdown(
            f"**:material/co_present: Your teacher's run** · {progress.get('status', '')} · epoch "
            f"{progress.get('epoch', 0)} of {progress.get('epochs', '?')} · {progress.get('message', '')}"
        )
        live_plotly(live_figure_dict(curves(progress), (), height=320), key="class_shared_chart")
