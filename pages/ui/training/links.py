"""Training page, its link: the setup's settings <-> the page's URL (cnnlib.training.TRAINING_LINK).

Every hyperparameter, the dataset and the model travel in the link; an uploaded dataset never does,
and a link never starts a run (the student presses Train). The widgets' kept values (kept.kept /
kept.keep) are the state both directions read and write.
"""

from __future__ import annotations

import streamlit as st

from cnnlib.data import CLASS_DRAWINGS
from cnnlib.spec import PRESETS, ModelSpec, SpecError
from cnnlib.training import DEMO_MODEL, TRAINING_LINK
from pages.ui import handoff
from pages.ui.training import compare
from pages.ui.training.kept import keep, kept
from pages.ui.training.setup import BUILDER, DEMO
from pages.ui.training.texts import AUGMENTS

# link key -> (widget key, what the widget holds)
LINKED = {
    "data": "tr_dataset",
    "opt": "tr_opt",
    "lr": "tr_lr",
    "batch": "tr_bs",
    "epochs": "tr_ep",
    "wd": "tr_wd",
    "sched": "tr_sched",
    "ls": "tr_smooth",
    "val": "tr_val",
    "images": "tr_train_size",
    "noise": "tr_noise",
    "patience": "tr_patience",
    "seed": "tr_seed",
    "device": "tr_device",
    "aug": "tr_augment",
}


def apply_link(values: dict) -> None:
    """A link's settings into the setup's widgets (before they are drawn; a missing key is the demo's
    default). A link never starts a run: the student presses Train."""
    v = {**TRAINING_LINK.defaults, **values}
    for link_key, widget in LINKED.items():
        value = list(v[link_key]) if link_key == "aug" else v[link_key]
        if link_key == "images":
            value = value or 0  # the link's "all" (None) is the widget's 0
        show(widget, keep(widget, value))
    model = v["model"]
    if model == DEMO_MODEL:
        keep("tr_model", DEMO)
    elif isinstance(model, ModelSpec):
        preset = next((n for n, p in PRESETS.items() if p.to_dict() == model.to_dict()), None)
        if preset:
            keep("tr_model", preset)
        else:  # a model built elsewhere: it becomes this session's model, as the builder's hand-off does
            st.session_state["model_spec"] = model.to_dict()
            st.session_state["model_spec_name"] = "Shared model"
            handoff.select_if_new(st.session_state["model_spec"])
            keep("tr_model", BUILDER)
    show("tr_model", kept("tr_model", None))
    compare.apply_link(v["compare"])


MORE = ("wd", "sched", "ls", "val", "images", "noise", "patience", "seed", "device", "aug")  # "More settings"


def brings_more(values: dict) -> bool:
    """Whether a link sets any of the folded "More settings" away from the demo's defaults (then the
    page opens them, so the class sees what the link changed)."""
    d = TRAINING_LINK.defaults
    return any(k in values and values[k] != d.get(k) and not (k == "aug" and not values[k]) for k in MORE)


def show(widget: str, value: object) -> None:
    """Put a link's value into a widget the browser may already show. Dropping the widget's state
    is not enough there: a keyed widget's identity is its key, so the browser kept showing (and
    sending back) its old value; lesson step 4 of "Your first CNN" trained with Adam 0.002 instead
    of SGD 5. A value set through the session state reaches the browser (the duplicate-default
    warning that comes with it is off in .streamlit/config.toml)."""
    if widget in st.session_state and value is not None:
        st.session_state[widget] = value
    else:
        st.session_state.pop(widget, None)  # not drawn yet: it takes its value from what was kept


def link_values() -> dict:
    """The setup's settings for the page's link (an uploaded dataset is never in a link)."""
    values = {k: kept(w, None) for k, w in LINKED.items()}
    values = {k: v for k, v in values.items() if v is not None}
    if "images" in values:
        values["images"] = int(values["images"]) or None  # the widget's 0 is the link's "all"
    if values.get("data") in ("upload", CLASS_DRAWINGS):  # neither lives in a link (issue 26: the class's)
        values.pop("data")
    if "aug" in values:
        values["aug"] = tuple(a for a in AUGMENTS if a in values["aug"])  # in the link's order
    choice = kept("tr_model", None)
    if choice == DEMO:
        values["model"] = DEMO_MODEL
    elif choice in PRESETS:
        values["model"] = PRESETS[choice]
    elif choice == BUILDER and st.session_state.get("model_spec"):
        try:
            values["model"] = ModelSpec.from_dict(st.session_state["model_spec"])
        except SpecError:
            pass
    if (comparison := compare.link_value()) is not None:
        values["compare"] = comparison
    return values
