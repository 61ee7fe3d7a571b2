"""Training page, live: the Train/Stop buttons, the polling fragment and the session's run history.

The TrainingRun lives in `st.session_state["train_run"]`; it trains in its own thread, so the
student may leave the page and come back. A fragment polls `run.snapshot()` twice a second while a
run is queued or training (and not at all otherwise), and redraws the status, the progress bar
and the live chart in place (pages.ui.live_plotly). When the run ends, the fragment asks for one
full rerun: `harvest()` then stores the run's curves (for overlays) and the trained model (for
Draw & predict), and polling stops.
"""

from __future__ import annotations

import threading
import time
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any, TypeGuard

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from cnnlib.plots import curves_from_snapshot, empty_live_picture, live_figure_dict
from cnnlib.spec import SpecError
from cnnlib.training import ConfigError, QueueRefused, TrainConfig, TrainingRun, get_limiter
from pages.ui import figures
from pages.ui.classes.classroom import app_link
from pages.ui.classes.links import page_params
from pages.ui.classes.share import figure_height
from pages.ui.live_plotly import live_plotly
from pages.ui.training import shared
from pages.ui.training.setup import OPTIMIZERS, Setup

POLL_S = 0.5
CHART_H = 380
FIT_MIN_H = 260  # the live chart shrinks to fit the window's height (live_plotly's fit), never below this
CHART_CONFIG = {"displayModeBar": False}  # no toolbar over the legend; hover still works
RESULTS_TAB = ":material/bar_chart: Results"  # the label of the page's Results tab
MAX_HISTORY = 5  # earlier runs kept for overlays (curves only, no models)
MAX_TRAINED = 5  # trained models kept for Draw & predict
MAX_TRAINED_BYTES = 64_000_000  # ... and at most this many bytes of weights per session
SHORT_STATUS = {"stopped": "Stopped", "early-stopped": "Stopped early", "failed": "Failed"}


def _state() -> MutableMapping[Any, Any]:
    ss = st.session_state
    ss.setdefault("train_history", [])
    if not isinstance(ss.get("trained_models"), list):  # appended in place by the keep-alive thread
        ss["trained_models"] = list(ss.get("trained_models") or [])
    return ss


def current_run() -> TrainingRun | None:
    return st.session_state.get("train_run")


def is_active(run: TrainingRun | None) -> TypeGuard[TrainingRun]:
    return run is not None and run.status in ("ready", "queued", "running")


def _run_label(cfg: TrainConfig) -> str:
    """Short, for chart legends: "run 3 · SGD 0.05 · batch 64" (the table lists the rest)."""
    n = st.session_state.get("train_run_count", 0) + 1
    return f"run {n} · {OPTIMIZERS[cfg.optimizer].split()[0]} {cfg.lr:g} · batch {cfg.batch_size}"


def fold_settings() -> None:
    """Train's callback: fold the settings away so the live chart fits the screen (if they were fine)."""
    if st.session_state.get("train_setup_ok") and not is_active(current_run()):
        st.session_state["train_settings_open"] = False


def queue_owner() -> tuple[str | None, bool]:
    """Who a run belongs to in the training queue (one run queued or running each), and whether it
    goes first: in a class, the student id (every tab of that student) or the teacher's class;
    otherwise this browser session."""
    m = st.session_state.get("class")
    if isinstance(m, dict) and m.get("code"):
        if m.get("role") == "teacher":
            return f"teacher:{m['code']}", True
        if m.get("role") == "student" and m.get("sid"):
            return f"student:{m['code']}:{m['sid']}", False
    ctx = get_script_run_ctx()
    return (f"session:{ctx.session_id}" if ctx is not None else None), False


def _refused(err: QueueRefused) -> None:
    st.warning(err.message, icon=":material/hourglass_top:")


def start(setup: Setup) -> None:
    """The Train button: start a run unless one is active (here, or for this student in another
    tab), the queue is full, or the setup has errors."""
    run = current_run()
    if is_active(run):
        st.warning(
            "A run is already training (or waiting in the queue). Wait for it to finish, or press "
            "**Stop** first: nothing was changed.",
            icon=":material/hourglass_top:",
        )
        return
    bundle, config = setup.bundle, setup.config
    if not setup.ready or bundle is None or config is None:  # (ready: neither is None)
        st.error(
            f"Cannot train yet: {setup.errors[0] if setup.errors else 'the setup is incomplete.'}",
            icon=":material/warning:",
        )
        return
    owner, first = queue_owner()
    refused = get_limiter().refusal(owner, first)  # before any work is done for the run
    if refused is not None:
        _refused(refused)
        return
    try:
        new = TrainingRun(setup.spec, bundle, config, name=_run_label(config), owner=owner, priority=first)
    except (ConfigError, SpecError) as err:
        st.error(
            f"Cannot train this model: {getattr(err, 'message', None) or err}", icon=":material/view_in_ar:"
        )
        return
    try:
        new.start()
    except QueueRefused as err:  # another tab of this student's got there in between
        _refused(err)
        return
    ss = _state()
    ss["train_run_count"] = ss.get("train_run_count", 0) + 1
    ss["train_run"] = new
    ss["train_run_info"] = {
        "dataset": setup.dataset_name,
        "model": setup.model_name,
        "started": datetime.now().strftime("%H:%M:%S"),
        "link": app_link("training", page_params()),  # its settings, for the class board
    }
    new.heartbeat()
    _keep_alive(new, ss["train_run_info"], ss["trained_models"])


def _keep_alive(run: TrainingRun, info: dict, models: list, every_s: float = 1.0) -> None:
    """While the run trains: heartbeat it as long as this browser session is connected (whatever page
    or tab it shows), and the moment it ends, add its model to `models` (the session's
    trained_models list, appended in place) so Draw & predict has it even if the student is there.

    The run stops itself (and frees its slot) when heartbeats stop: the student closed the tab.
    """
    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return
    session_id, runtime = ctx.session_id, Runtime.instance()

    def beat() -> None:
        last = 0.0
        while not run.done:
            if time.monotonic() - last >= 5.0 and runtime.is_active_session(session_id):
                run.heartbeat()
                last = time.monotonic()
            time.sleep(every_s)
        _add_model(run, info, models)

    threading.Thread(target=beat, name=f"heartbeat-{run.id}", daemon=True).start()


def _add_model(run: TrainingRun, info: dict, models: list) -> None:
    """Once per run (from the page or the keep-alive thread, whichever claims it first): append its
    trained model to `models`, in place, in the dict form of a TrainedModel."""
    if not run.claim_record():
        return
    trained = run.record()
    if trained is None:
        return
    trained.name = (
        f"{info.get('model', 'model')} on {run.bundle.title or run.bundle.name} "
        f"({trained.test_accuracy:.1%}, {info.get('started', '')})"
    )
    models.append(trained.to_dict())
    del models[:-MAX_TRAINED]
    while len(models) > 1 and sum(_record_bytes(r) for r in models) > MAX_TRAINED_BYTES:
        del models[0]  # big models: keep the session small (the newest always stays)


def _record_bytes(record: dict) -> int:
    """Bytes of a stored record's weights (a TrainedModel's dict form)."""
    return sum(t.numel() * t.element_size() for t in record.get("state_dict", {}).values())


def stop() -> None:
    """The Stop button: stop the run (or leave the queue); harmless when nothing runs."""
    run = current_run()
    if is_active(run) and run.stop():
        st.toast("Stopping… the model keeps the weights it has now.", icon=":material/stop_circle:")
    else:
        st.info("Nothing is training right now, so there is nothing to stop.", icon="ℹ️")


def harvest() -> None:
    """Once per finished run: keep its curves for overlays and its model for Draw & predict."""
    ss = _state()
    run = current_run()
    if run is None or not run.done or ss.get("train_harvested") == run.id:
        return
    ss["train_harvested"] = run.id
    snap = run.snapshot()
    info = ss.get("train_run_info", {})
    ss["train_history"] = (
        ss["train_history"]
        + [
            {
                "run_id": run.id,
                "curves": curves_from_snapshot(snap),
                "status": snap.status,
                "dataset": info.get("dataset", run.bundle.name),
                "model": info.get("model", ""),
                "optimizer": run.config.optimizer,
                "lr": run.config.lr,
                "batch": run.config.batch_size,
                "epochs": f"{snap.epoch}/{snap.epochs}",
                "val_acc": snap.val_acc[-1] if snap.val_acc else None,
                "test_acc": snap.test_accuracy,
                "seconds": snap.elapsed,
            }
        ]
    )[-MAX_HISTORY:]
    if snap.step > 0 and snap.test_accuracy is not None and run.spec is not None:
        ss["train_results_run"] = run
    _add_model(run, info, ss["trained_models"])


def _fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = max(0.0, seconds)
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _progress(snap) -> None:
    """The progress bar (with the run's message), the way to the results, and any alert."""
    show_button = snap.done and snap.step > 0 and snap.test_accuracy is not None
    bar, side = st.columns([5, 1.4], vertical_alignment="bottom") if show_button else (st.container(), None)
    # A stopped or failed run's message is long and shown in the box below: the bar just says what happened.
    head = SHORT_STATUS.get(snap.status, snap.message)
    bar.progress(
        snap.progress, text=f"{head}  ·  batch {snap.step:,} of {snap.total_steps:,} · {snap.device}"
    )
    if side is not None and side.button(
        "See the results",
        key="train_to_results",
        icon=":material/bar_chart:",
        on_click=_open_results,
        type="primary",
        width="stretch",
    ):
        st.rerun()  # the whole page, so the tabs switch
    if snap.status == "queued":
        pos = snap.queue_position
        wait = f", about {_fmt_s(snap.queue_wait)}" if snap.queue_wait is not None else ""
        st.info(
            f"The server is busy training other students' models. You are **number {pos or '?'}** in the "
            f"queue{wait}. Your run starts by itself; press **Stop** to leave the queue.",
            icon=":material/hourglass_top:",
        )
    elif snap.status == "failed":
        st.error(snap.message, icon=":material/error:")
    elif snap.status in ("stopped", "early-stopped"):
        st.warning(snap.message, icon=":material/stop_circle:")


def _open_results() -> None:
    st.session_state["train_tab"] = RESULTS_TAB


def _metrics(snap) -> None:
    """Big numbers under the chart: epoch, loss, accuracy, speed, time."""
    m = st.container(horizontal=True)  # one block for the row (columns cost a block each)
    m.metric("Epoch", f"{snap.epoch} / {snap.epochs}")
    last_loss = snap.batch_loss[-1] if snap.batch_loss else None
    m.metric("Training loss", f"{last_loss:.3f}" if last_loss is not None else "–")
    acc = snap.val_acc[-1] if snap.val_acc else (snap.train_acc[-1] if snap.train_acc else None)
    m.metric(
        "Validation accuracy" if snap.val_acc else "Training accuracy",
        f"{acc:.1%}" if acc is not None else "–",
    )
    m.metric("Speed (images/s)", f"{snap.examples_per_sec:,.0f}" if snap.examples_per_sec else "–")
    m.metric(
        "Time left" if snap.active else "Time taken",
        _fmt_s(snap.eta) if snap.active else _fmt_s(snap.elapsed),
    )


def _earlier(exclude: str | None) -> list:
    return [h["curves"] for h in _state()["train_history"] if h["run_id"] != exclude]


def live_view(planned_epochs: int | None = None) -> None:
    """The polling fragment: the live chart, then status and progress. Polls only while a run is active.

    `planned_epochs` (the setup's) spans the empty chart's x axes before the first run.
    """
    run_every = POLL_S if is_active(current_run()) else None

    @st.fragment(run_every=run_every)
    def _live() -> None:
        run = current_run()
        if run is None and not _earlier(None):  # nothing to hover yet: a picture, no plotly.js
            height = figure_height(CHART_H)
            # 900 px: about a laptop's main column, so its labels stay 15 px there (a projector scales it up)
            st.image(figures.shared(empty_live_picture, planned_epochs or 1, 900, height), width="stretch")
            return
        if run is None:
            live_plotly(
                live_figure_dict(None, _earlier(None), height=figure_height(CHART_H), epochs=planned_epochs),
                key="train_live_chart",
                config=CHART_CONFIG,
            )
            return
        run.heartbeat()
        snap = run.snapshot()
        shared.publish(snap)  # the teacher's run, shared with the class (nothing otherwise)
        stamp = time.time()
        with st.container(key="key_training_live_chart"):  # issue 25's one-screen marker: the live curves
            live_plotly(
                live_figure_dict(
                    curves_from_snapshot(snap, "this run"), _earlier(run.id), height=figure_height(CHART_H)
                ),
                key="train_live_chart",
                stamp=stamp,
                scroll_id=run.id if snap.active else None,
                config=CHART_CONFIG,
                fit=FIT_MIN_H,
            )
        _progress(snap)  # under the curves (issue 25: the curves right below Train, on one screen)
        _metrics(snap)
        if snap.done and st.session_state.get("train_harvested") != run.id:
            st.rerun()  # one full run: harvest, switch polling off, show the results

    _live()


def history_table() -> None:
    """Earlier runs of this session, to compare settings."""
    hist = _state()["train_history"]
    if not hist:
        return
    with st.expander(f"Runs this session ({len(hist)}, dotted on the charts)"):
        rows = [
            {
                "run": h["curves"].name,
                "model": h["model"],
                "dataset": h["dataset"],
                "status": h["status"],
                "epochs": h["epochs"],
                "val acc": f"{h['val_acc']:.1%}" if h["val_acc"] is not None else "–",
                "test acc": f"{h['test_acc']:.1%}" if h["test_acc"] is not None else "–",
                "time": _fmt_s(h["seconds"]),
            }
            for h in hist
        ]
        st.dataframe(rows, hide_index=True, width="stretch")
        if st.button("Clear the history", key="train_clear_history"):
            st.session_state["train_history"] = []
            st.rerun()
