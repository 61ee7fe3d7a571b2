"""Training page, "Compare: same run, but ...": two runs that differ in one thing, trained in turn.

Built only while its expander is open. The student picks the one change (dropout, batch norm,
weight decay, augmentation, fewer images, another optimizer, ...) and its value; "Run both" makes a
`cnnlib.training.ComparisonJob` from the Train tab's current setup (model, data, settings): run A
is that setup, run B the same but for the change. They train one after the other through the
same queue as any run (a student has one run at a time). While they train, a fragment redraws the
two runs' curves overlaid and the table every second and keeps the runs alive; closing the page
stops them (the runs' heartbeat).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from cnnlib.plots import comparison_figure, curves_from_snapshot
from cnnlib.spec import SpecError
from cnnlib.training import CHANGE_CHOICES, CHANGES, ComparisonJob, ConfigError, QueueRefused, get_limiter
from pages.ui.figures import chart
from pages.ui.training.live import queue_owner
from pages.ui.training.setup import Setup

STATE = "train_compare"  # the ComparisonJob of this session, once started
LABELS = {
    "dropout": "Dropout before the classifier (on, off, stronger)",
    "batchnorm": "Batch norm on (after every convolution)",
    "weight_decay": "Weight decay",
    "augment": "Augmentation",
    "train_size": "Fewer training images",
    "label_noise": "Shuffled labels (memorisation)",
    "optimizer": "Another optimizer",
    "lr": "Another learning rate",
    "epochs": "More or fewer epochs",
    "seed": "Another seed (how much is luck?)",
    "pretrained": "Start from the digit model (transfer learning)",
}
STATIC = {"displayModeBar": False}


def _value(change: str, where: Any) -> Any:
    """The widget for the changed setting's value (None for batch norm, which has none)."""
    key = f"tr_cmp_{change}"
    if change == "dropout":
        return where.slider(
            "p (share switched off; 0: no dropout)", 0.0, 0.9, float(CHANGES["dropout"]), 0.05, key=key
        )
    if change == "weight_decay":
        return where.number_input(
            "Weight decay", 0.0, 1.0, float(CHANGES["weight_decay"]), format="%g", key=key
        )
    if change == "augment":
        return tuple(
            where.multiselect(
                "Augmentations", list(CHANGE_CHOICES["augment"]), list(CHANGES["augment"]), key=key
            )
        )
    if change == "train_size":
        return int(
            where.number_input("Training images", 20, 100_000, int(CHANGES["train_size"]), 10, key=key)
        )
    if change == "label_noise":
        return where.slider(
            "Share of labels shuffled", 0.0, 1.0, float(CHANGES["label_noise"]), 0.05, key=key
        )
    if change == "optimizer":
        return where.selectbox("Optimizer", list(CHANGE_CHOICES["optimizer"]), key=key)
    if change == "lr":
        return where.number_input("Learning rate", 1e-6, 10.0, float(CHANGES["lr"]), format="%g", key=key)
    if change == "epochs":
        return int(where.number_input("Epochs", 1, 100, int(CHANGES["epochs"]), 1, key=key))
    if change == "pretrained":
        return where.selectbox(
            "Its trained layers",
            list(CHANGE_CHOICES["pretrained"]),
            key=key,
            help="Frozen: only the new head learns. Fine-tune: every layer goes on learning from the digit "
            "model's weights. Run A is the same architecture from scratch; colour or larger images are made "
            "grey and 28x28 for it.",
        )
    if change == "seed":
        return int(where.number_input("Seed", 0, 10_000, int(CHANGES["seed"]), 1, key=key))
    return None


def apply_link(value: tuple[str, Any] | None) -> None:
    """A link's comparison (`compare=weight_decay:0.001`): open the box with that change and value
    picked. It never starts the runs: the student presses Run both."""
    if value is None:
        return
    change, v = value
    st.session_state["tr_cmp_box"] = True
    st.session_state["tr_cmp_change"] = change
    if change != "batchnorm":
        st.session_state[f"tr_cmp_{change}"] = list(v) if change == "augment" else v


def link_value() -> tuple[str, Any] | None:
    """The comparison for the page's link while its box is open: (change, value), else None."""
    ss = st.session_state
    change = ss.get("tr_cmp_change")
    if not ss.get("tr_cmp_box") or change not in LABELS:
        return None
    if change == "batchnorm":
        return change, True
    value = ss.get(f"tr_cmp_{change}", CHANGES[change])
    return change, tuple(value) if change == "augment" else value


def _start(setup: Setup, change: str, value: Any) -> None:
    """ "Run both": build the job (errors in words, nothing started) and queue run A."""
    old = st.session_state.get(STATE)
    if old is not None and not old.done:
        st.warning("This comparison is still training: wait for it, or press **Stop both** first.")
        return
    if not setup.ready or setup.bundle is None or setup.config is None or setup.spec is None:
        st.error(
            f"Cannot compare yet: {setup.errors[0] if setup.errors else 'the setup on the Train tab is incomplete.'}"
        )
        return
    owner, first = queue_owner()
    refused = get_limiter().refusal(owner, first)
    if refused is not None:
        st.warning(refused.message, icon=":material/hourglass_top:")
        return
    try:
        job = ComparisonJob.create(
            setup.spec, setup.bundle, setup.config, change, value, owner=owner, priority=first
        )
        job.start()
    except (ConfigError, SpecError) as err:
        st.error(f"Cannot compare: {getattr(err, 'message', None) or err}", icon=":material/warning:")
        return
    except QueueRefused as err:
        st.warning(err.message, icon=":material/hourglass_top:")
        return
    st.session_state[STATE] = job


def _table(job: ComparisonJob) -> list[dict[str, Any]]:
    def pct(v: float | None) -> str:
        return "–" if v is None else f"{v:.1%}"

    return [
        {
            "run": r.run,
            "setting": r.setting,
            "status": r.status,
            "train acc": pct(r.train_acc),
            "validation acc": pct(r.val_acc),
            "test acc": pct(r.test_acc),
            "gap (train − val)": "–"
            if r.train_acc is None or r.val_acc is None
            else f"{r.train_acc - r.val_acc:+.1%}",
            "parameters": f"{r.params:,}"
            if r.trainable == r.params
            else f"{r.trainable:,} trainable + {r.params - r.trainable:,} frozen",
            "seconds": f"{r.seconds:.1f}",
        }
        for r in job.table()
    ]


def _view(job: ComparisonJob) -> None:
    job.heartbeat()
    a, b = (curves_from_snapshot(r.snapshot()) for r in job.runs)
    st.markdown(f"**{job.description[0].upper()}{job.description[1:]}.** Both runs start from the same seed.")
    chart(st, comparison_figure(a, b, job.labels), key="tr_cmp_chart", config=STATIC)
    st.dataframe(_table(job), hide_index=True, width="stretch")
    if job.done:
        st.caption(
            "Both runs are over. Change one thing and run both again, or read the gaps: a smaller gap "
            "between the solid (training) and dashed (validation) lines means less overfitting."
        )


@st.fragment(run_every=1.0)
def _live() -> None:
    job = st.session_state.get(STATE)
    if job is None:
        return
    _view(job)
    if job.done:
        st.rerun()  # the whole page: the buttons come back and this fragment stops ticking


def render_compare(setup: Setup) -> None:
    """The expander: pick one change, run both, watch them overlaid."""
    box = st.expander(
        "Compare: same run, but ...", icon=":material/compare:", key="tr_cmp_box", on_change="rerun"
    )
    if not box.open:
        return
    with box:
        st.caption(
            "Run A is the setup above; run B is the same but for one change. They train one after the other."
        )
        row = st.container(horizontal=True, vertical_alignment="bottom")
        change = row.selectbox(
            "Change one thing", list(LABELS), format_func=LABELS.__getitem__, key="tr_cmp_change"
        )
        value = _value(change, row)
        job = st.session_state.get(STATE)
        running = job is not None and not job.done
        if row.button("Run both", key="tr_cmp_start", type="primary", disabled=running):
            _start(setup, change, value)
            job = st.session_state.get(STATE)
            running = job is not None and not job.done
        if job is not None and running and row.button("Stop both", key="tr_cmp_stop"):
            job.stop()
        if job is None:
            return
        if running:
            _live()
        else:
            _view(job)
