"""Training page: choose data, model and hyperparameters, train live, then read what the model learned."""

from pages.ui.frame import frame

frame("training")

import streamlit as st

from cnnlib.training import TRAINING_LINK, overfitting_flag, prewarm
from pages.ui import glossary
from pages.ui.classes.links import link_notice, read_link, write_link
from pages.ui.classes.share import intro
from pages.ui.training import links as training_links
from pages.ui.training import live, shared
from pages.ui.training.compare import render_compare
from pages.ui.training.results import render_results
from pages.ui.training.setup import render_setup
from pages.ui.training.slow_motion import render_slow_motion

prewarm()  # the training processes' forkserver (imports torch once, ~2 s): ready before Train

INTRO = (
    "Training is a loop: show the network a **batch** of images, measure how wrong it is (the **loss**), "
    "and nudge every weight a little downhill (the **optimizer**, with a step size called the **learning "
    "rate**). Press **Train** and watch the loss fall and the accuracy climb, then open **Results** to see "
    "which images fool it and what its filters learned."
)

live.harvest()  # a run that finished while we were away: keep its curves and model
TABS = [
    ":material/monitoring: Train",
    live.RESULTS_TAB,
    ":material/slow_motion_video: One step in slow motion",
]
link = read_link(TRAINING_LINK)  # a shared link or a lesson step: its settings (never a run)
if link is not None:
    training_links.apply_link(link.values)
    st.session_state["train_settings_open"] = True  # show the settings the link brought
    if training_links.brings_more(link.values):
        st.session_state["tr_more_open"] = True
link_notice(TRAINING_LINK)

tab_train, tab_results, tab_slow = st.tabs(TABS, key="train_tab", on_change="rerun")


def explain() -> None:
    """Short explanations at the point of use, one at a time: the teacher picks the one to read."""
    notes = {
        "Optimizers: SGD, Adam, AdamW": "**SGD** steps straight downhill; with **momentum** it keeps some of its "
        "previous direction, like a rolling ball. **Adam** gives every weight its own step size from the history "
        "of its gradients: a good default. **AdamW** is Adam with weight decay done properly (decoupled).",
        "Learning rate": "The size of each step. Too small: the loss creeps down. Too large: it jumps around or "
        "blows up to NaN (try 1.0 with SGD!). Schedulers change it during training: **cosine** and **one-cycle** "
        "end with small careful steps. The right-hand chart shows it.",
        "Batch size and epochs": "A **batch** is how many images the model sees before one update: bigger "
        "batches give smoother but fewer steps. One **epoch** is one pass over all training images.",
        "Why training and validation loss part ways": "The model is graded on images it trains on (training "
        "loss) and on held-out images it never learns from (validation loss). When it starts to memorise the "
        "training set, training loss keeps falling while validation loss turns up: **overfitting**.",
        "Augmentation": "Random small rotations, shifts, flips and colour changes make every epoch look a bit "
        "different, so the model cannot memorise pixels and must learn the shapes. It fights overfitting.",
        "Dropout and batch norm": "**Dropout** switches off random neurons during training so no single one "
        "can be relied on. **Batch norm** rescales each channel over the batch, which keeps training stable and "
        "lets larger learning rates work. Add them on the Model builder page.",
        "Weight decay": "Pulls every weight a little towards zero at each step: simpler models that overfit "
        "less. Typical values are 1e-4 to 1e-2.",
        "Early stopping": "Watch the validation loss; when it has not improved for *patience* epochs, stop and "
        "keep the best weights seen. A cheap and effective guard against overfitting.",
        "Reading the charts": "The thin blue line is the loss of every batch: noisy, because each batch holds "
        "other images. The thick line smooths it. The dots are per epoch: a training epoch's average sits in "
        "the middle of the epoch (the weights changed during it), the validation loss at its end (measured "
        "after it). Earlier runs of this session are dotted, to compare settings.",
        "Validation split and seed": "The **validation split** holds some training images back: the model "
        "never learns from them, so their loss shows how it does on new images. The **seed** fixes every "
        "random choice (the first weights, the batch order): the same seed and settings give the same run.",
    }
    picked = st.pills(
        ":material/school: What the settings and the charts mean",
        list(notes),
        selection_mode="single",
        key="train_explain",
    )
    if picked:
        glossary.explain(notes[picked])


def predict_then_reveal() -> None:
    box = st.popover(
        "Predict first",
        icon=":material/psychology_alt:",
        width="content",
        key="train_predict_open",
        on_change="rerun",
    )
    if not box.open:  # built only while open: a radio and its text fewer on every view
        return
    with box:
        glossary.explain("**Will this model overfit?**")
        st.radio(
            "Before you press Train, guess:",
            ["Yes, validation loss will rise", "No, both will keep falling", "I can't tell yet"],
            index=None,
            key="train_guess",
        )
        guess = st.session_state.get("train_guess")
        if not guess:
            return
        glossary.explain(
            "Now watch the orange **validation** curve against the blue **training** curve. With a few "
            "thousand images and no augmentation, a large model often overfits after a handful of epochs: "
            "the gap between the two curves grows. Small models, augmentation, dropout or weight decay keep "
            "them together."
        )
        run = st.session_state.get("train_results_run")
        snap = run.snapshot() if run is not None else None
        if snap is None or not snap.val_loss:
            glossary.explain_caption(
                "Train with a validation split: when the run ends, the app's own verdict appears here."
            )
            return
        verdict = overfitting_flag(snap.train_loss, snap.val_loss)
        st.markdown(f"**The app's verdict on {run.name}:** {verdict.message}")
        if guess.startswith("Yes") == verdict.overfitting and not guess.startswith("I can"):
            st.success("Your guess matches.", icon=":material/check_circle:")
        elif not guess.startswith("I can"):
            st.warning("Not this time: compare the two curves on the chart.", icon=":material/info:")


if tab_train.open is not False:
    with tab_train:
        run = live.current_run()
        # One screen (issue 25): Train first; before any run the settings follow it, once a run is shown
        # (from the press of Train on) its live curves do, and the settings fold away below them. The
        # slots are made in the order drawn and filled in the order the code needs.
        live_first = run is not None or bool(st.session_state.get("train_start"))
        row = st.container()  # Train / Stop, filled once the settings below are read
        slots = [st.container() for _ in range(4)]
        live_box, watch_box, settings_box, intro_box = (
            slots if live_first else [slots[i] for i in (3, 0, 2, 1)]
        )
        with watch_box:
            shared.watch()  # in a class: the teacher's shared run, live (nothing otherwise)
        with intro_box:
            intro(INTRO)
        with (
            settings_box,
            st.expander(
                "Settings: data, model, optimizer…",
                expanded=run is None,
                icon=":material/tune:",
                key="train_settings_open",
                on_change="rerun",
            ),
        ):
            setup = render_setup()
        st.session_state["train_setup_ok"] = setup.ready
        # One flex row (columns would send a block each); the message area is the one nested block.
        bar = row.container(horizontal=True, vertical_alignment="center", key="key_training_train")
        train_clicked = bar.button(
            "Train",
            key="train_start",
            type="primary",
            width=130,
            icon=":material/play_arrow:",
            on_click=live.fold_settings,
        )
        stop_clicked = bar.button("Stop", key="train_stop", width=130, icon=":material/stop:")
        with bar:
            predict_then_reveal()
            shared.share_toggle()  # the teacher's "share my run with the class" (nothing for others)
        c_msg = bar.container()
        with c_msg:
            if train_clicked:
                live.start(setup)
            elif stop_clicked:
                live.stop()
            else:
                glossary.explain_caption(
                    f"Next run: {setup.summary()}" if setup.ready else f"To fix: {setup.errors[0]}"
                )
        with live_box:
            live.live_view(setup.config.epochs if setup.config is not None else None)
        live.history_table()
        render_compare(setup)
        explain()

if tab_results.open:
    with tab_results:
        render_results()

if tab_slow.open:
    with tab_slow:
        render_slow_motion()

write_link(TRAINING_LINK, training_links.link_values())
