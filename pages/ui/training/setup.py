"""Training page, setup: dataset, model and hyperparameters, each checked where it is chosen.

`render_setup()` draws the controls and returns a `Setup`: the loaded dataset, the model spec
adapted to it and a validated TrainConfig, or the messages that say what to fix. Every check is
done by cnnlib (load_dataset, adapt_to_dataset, TrainConfig.validate); this module only draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from cnnlib.data import CLASS_DRAWINGS, DATASETS, DatasetBundle
from cnnlib.device import available_devices
from cnnlib.plots import gallery_figure
from cnnlib.spec import PRESETS, ModelSpec, SpecError, adapt_to_dataset, format_count, totals
from cnnlib.training import (
    DEFAULT_DEMO,
    DEMO_SPEC,
    ConfigError,
    TrainConfig,
    adaptation_notes,
    augment_preview,
    cpu_cores,
)
from pages.ui import handoff
from pages.ui.classes import dataset as class_dataset
from pages.ui.figures import chart
from pages.ui.glossary import explain_caption
from pages.ui.training.datasets import bundle_for
from pages.ui.training.kept import keep, kept
from pages.ui.training.texts import AUGMENTS, HELP, SCHEDULERS

BUILDER, DEMO = handoff.BUILDER_OPTION, handoff.DEFAULT_OPTION
OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD with momentum 0.9"}


@dataclass
class Setup:
    """What the Train button needs: everything None/empty-errors when the setup is complete."""

    dataset_name: str
    bundle: DatasetBundle | None = None
    model_name: str = ""
    spec: ModelSpec | None = None
    config: TrainConfig | None = None
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: what Train would train now."""
        parts = [
            self.bundle.title or self.dataset_name if self.bundle is not None else self.dataset_name,
            self.model_name,
        ]
        if self.config is not None:
            c = self.config
            parts.append(
                f"{OPTIMIZERS[c.optimizer].split()[0]} lr {c.lr:g}, batch {c.batch_size}, {c.epochs} epochs"
            )
            if c.train_size is not None or c.label_noise:
                parts.append(
                    ", ".join(
                        ([f"{c.train_size:,} training images"] if c.train_size is not None else [])
                        + ([f"{c.label_noise:.0%} labels shuffled"] if c.label_noise else [])
                    )
                )
        return " · ".join(p for p in parts if p)

    @property
    def ready(self) -> bool:
        return (
            self.bundle is not None and self.spec is not None and self.config is not None and not self.errors
        )


def run_threads() -> int | None:
    """torch threads for a run started here: 1 on a server of at most 2 cores, else the limiter's share.

    Measured on the 2-core dev box with the page open: a run with 2 threads (one per core) crawled at
    ~25 img/s because the web server and other sessions take CPU and OpenMP's 2 threads wait for each
    other at every op; with 1 thread it ran at ~900-1,100 img/s. The server keeps a core for itself.
    """
    return 1 if cpu_cores() <= 2 else None


def _select(where, label: str, options: list, key: str, default, **kw):
    cur = kept(key, default)
    index = options.index(cur) if cur in options else (options.index(default) if default in options else 0)
    return keep(key, where.selectbox(label, options, index=index, key=key, **kw))


def _number(where, label: str, key: str, default, **kw):
    return keep(key, where.number_input(label, value=kept(key, default), key=key, **kw))


def _slider(where, label: str, lo: float, hi: float, key: str, default: float, step: float, **kw):
    return keep(key, where.slider(label, lo, hi, kept(key, default), step, key=key, **kw))


def _model_choice() -> tuple[str, ModelSpec | None]:
    builder = st.session_state.get("model_spec")
    options = ([BUILDER] if builder else []) + [DEMO] + [p for p in PRESETS if p != DEMO]
    if builder:  # a model newly sent from the builder is selected once; the student may then pick another
        if handoff.select_if_new(builder):
            st.session_state.pop("tr_model", None)
    name = _select(
        st,
        "Model",
        options,
        "tr_model",
        options[0],
        help=f"{DEMO}: the model of every page (Draw & predict's digit reader): three conv blocks (16, 32 "
        "and 64 channels, each with BatchNorm and a max pool), Dropout and one Linear layer, about 98% on the "
        "MNIST sample. Build your own on the Model builder page: it appears here first. A model made for other "
        "images or another number of classes is adapted to the dataset.",
    )
    if name == BUILDER:
        try:
            return f"{st.session_state.get('model_spec_name') or 'your model'}", ModelSpec.from_dict(builder)
        except SpecError as err:
            st.error(f"The Model builder's model cannot be read: {err}")
            return name, None
    if name == DEMO:
        return DEMO, ModelSpec.from_dict(DEMO_SPEC)
    return name, PRESETS[name]


def _adapt(spec: ModelSpec, bundle: DatasetBundle) -> tuple[ModelSpec | None, str]:
    """The model adapted to the dataset, and its line for the setup's caption ("" when it does not fit)."""
    try:
        adapted = adapt_to_dataset(spec, bundle.input_shape, bundle.num_classes)
    except SpecError as err:
        st.error(
            f"{err} Choose another model, or change it on the Model builder page.",
            icon=":material/view_in_ar:",
        )
        return None, ""
    c, h, w = bundle.input_shape
    t = totals(adapted)
    changes = adaptation_notes(spec, adapted)
    if changes:
        st.info(f"Adapted to this dataset: {'; '.join(changes)}.", icon=":material/build:")
    return (
        adapted,
        f"Input {c}×{h}×{w} → {bundle.num_classes} class scores · {format_count(t.params)} parameters",
    )


def _augment_preview(bundle: DatasetBundle, augment: list[str]) -> None:
    if not augment:
        explain_caption("No augmentation: every epoch shows the same images.")
        return
    seed = st.session_state.get("tr_aug_seed", 0)
    prev = augment_preview(bundle, augment, n=8, seed=seed)
    imgs = list(prev.original.transpose(0, 3, 1, 2)) + list(prev.augmented.transpose(0, 3, 1, 2))
    titles = [f"{lab}" for lab in prev.labels] + ["augmented"] * len(prev.labels)
    chart(
        st,
        gallery_figure(imgs, titles, cols=8, size=64),
        key="tr_aug_fig",
        config={"displayModeBar": False, "staticPlot": True},
    )
    if st.button(":material/casino: New random examples", key="tr_aug_new"):
        st.session_state["tr_aug_seed"] = seed + 1
        st.rerun()


def _field_error(slot, err: ConfigError | None, name: str) -> None:
    if err is not None and err.field == name:
        slot.error(err.message, icon=":material/warning:")


def _main_settings() -> tuple[dict[str, Any], dict[str, Any]]:
    """Optimizer, learning rate, batch size, epochs (one row) as TrainConfig fields; their error slots."""
    d = DEFAULT_DEMO
    c_opt = c_lr = c_bs = c_ep = st.container(horizontal=True)  # one block per row, not one per column
    opt = _select(
        c_opt,
        "Optimizer",
        list(OPTIMIZERS),
        "tr_opt",
        d.optimizer,
        format_func=OPTIMIZERS.get,
        help=HELP["optimizer"],
    )
    lr = _number(c_lr, "Learning rate", "tr_lr", d.lr, step=1e-4, format="%g", help=HELP["lr"])
    bs = _number(c_bs, "Batch size", "tr_bs", d.batch_size, step=16, help=HELP["batch_size"])
    ep = _number(c_ep, "Epochs", "tr_ep", d.epochs, step=1, help=HELP["epochs"])
    row_slot = st.empty()  # a field's error goes under its row (one placeholder per row: each is sent)
    values = {"optimizer": opt, "lr": float(lr), "batch_size": int(bs), "epochs": int(ep)}
    return values, dict.fromkeys(("lr", "batch_size", "epochs"), row_slot)


def _tuning_settings() -> dict[str, Any]:
    """Weight decay, LR scheduler, label smoothing and validation split: one row."""
    d = DEFAULT_DEMO
    a = b = c = e = st.container(horizontal=True)
    wd = _number(
        a, "Weight decay", "tr_wd", d.weight_decay, step=1e-4, format="%g", help=HELP["weight_decay"]
    )
    sched = _select(
        b,
        "LR scheduler",
        list(SCHEDULERS),
        "tr_sched",
        d.scheduler,
        format_func=SCHEDULERS.get,
        help=HELP["scheduler"],
    )
    smooth = _slider(
        c, "Label smoothing", 0.0, 0.3, "tr_smooth", d.label_smoothing, 0.05, help=HELP["label_smoothing"]
    )
    val = _slider(e, "Validation split", 0.0, 0.5, "tr_val", d.val_fraction, 0.05, help=HELP["val_fraction"])
    return {
        "weight_decay": float(wd),
        "scheduler": sched,
        "label_smoothing": float(smooth),
        "val_fraction": float(val),
    }


def _run_settings() -> dict[str, Any]:
    """Early stopping, seed and device (one row); training images and shuffled labels (the next)."""
    d = DEFAULT_DEMO
    a = b = c = st.container(horizontal=True)
    patience = _number(
        a, "Early stopping (0 = off)", "tr_patience", d.patience, min_value=0, step=1, help=HELP["patience"]
    )
    seed = _number(b, "Seed", "tr_seed", d.seed, min_value=0, step=1, help=HELP["seed"])
    device = _select(c, "Device", ["auto", *available_devices()], "tr_device", "auto", help=HELP["device"])
    a = b = st.container(horizontal=True)
    train_size = _number(
        a, "Training images (0 = all)", "tr_train_size", 0, min_value=0, step=50, help=HELP["train_size"]
    )
    noise = _slider(b, "Shuffled labels", 0.0, 1.0, "tr_noise", d.label_noise, 0.05, help=HELP["label_noise"])
    return {
        "train_size": int(train_size) or None,  # 0: all of them
        "label_noise": float(noise),
        "patience": int(patience),
        "seed": int(seed),
        "device": device,
    }


MORE_LABEL = "More settings: regularisation, schedule, seed, augmentation"


def more_kept() -> dict[str, Any]:
    """The "More settings" as TrainConfig fields while the box is folded (none of its widgets drawn):
    the values the student (or a link) last gave them, else the demo's defaults."""
    d = DEFAULT_DEMO
    device = kept("tr_device", "auto")
    return {
        "weight_decay": float(kept("tr_wd", d.weight_decay)),
        "scheduler": kept("tr_sched", d.scheduler),
        "label_smoothing": float(kept("tr_smooth", d.label_smoothing)),
        "val_fraction": float(kept("tr_val", d.val_fraction)),
        "train_size": int(kept("tr_train_size", 0) or 0) or None,  # 0: all of them
        "label_noise": float(kept("tr_noise", d.label_noise)),
        "patience": int(kept("tr_patience", d.patience)),
        "seed": int(kept("tr_seed", d.seed)),
        "device": device if device in ("auto", *available_devices()) else "auto",
        "augment": tuple(kept("tr_augment", []) or ()),
    }


def _more_settings(bundle: DatasetBundle | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The "More settings" box as TrainConfig fields, and the slot its errors go in (one for all).

    Folded by default and built only while open (13 elements and the slider's code fewer on every
    first view); folded, its values are the kept ones (`more_kept`)."""
    box = st.expander(MORE_LABEL, icon=":material/tune:", key="tr_more_open", on_change="rerun")
    if not box.open:
        return more_kept(), {}
    with box:
        values = {**_tuning_settings(), **_run_settings()}
        augment = keep(
            "tr_augment",
            st.pills(
                "Augmentation",
                list(AUGMENTS),
                selection_mode="multi",
                default=kept("tr_augment", []),
                format_func=AUGMENTS.__getitem__,
                key="tr_augment",
                help=HELP["augment"],
            )
            or [],
        )
        more_slot = st.empty()
        if bundle is not None:
            _augment_preview(bundle, augment)
    fields = ("weight_decay", "patience", "val_fraction", "device", "augment", "train_size", "label_noise")
    return {**values, "augment": tuple(augment)}, dict.fromkeys(fields, more_slot)


def _check(setup: Setup, cfg: TrainConfig, slots: dict[str, Any]) -> None:
    """Validate `cfg` into `setup`: its error under its field's row (else above all); what is missing."""
    bundle = setup.bundle
    try:
        setup.config = cfg.validate(len(bundle.train) if bundle is not None else None)
    except ConfigError as err:
        setup.errors.append(err.message)
        for key, slot in slots.items():
            _field_error(slot, err, key)  # a ConfigError names one field: one slot gets written
        if err.field not in slots:
            st.error(err.message, icon=":material/warning:")
    if bundle is None:
        setup.errors.append("Choose a dataset that loads first.")
    elif setup.spec is None:
        setup.errors.append("Choose a model that fits the dataset first.")


def render_setup() -> Setup:
    """Draw the setup controls; return the Setup (with its errors shown next to the controls)."""
    c_data = c_model = st.container(horizontal=True)  # one block for the row (columns cost one each)
    name = _select(
        c_data,
        "Dataset",
        list(DATASETS) + ([CLASS_DRAWINGS] if class_dataset.has_drawings() else []),
        "tr_dataset",
        "mnist-sample",
        format_func=lambda n: DATASETS[n].title if n in DATASETS else class_dataset.TITLE,
    )
    with c_model:
        model_name, spec = _model_choice()
    main, slots = _main_settings()
    bundle = bundle_for(name)
    setup = Setup(name, bundle, model_name)
    if bundle is not None:
        about = " · ".join(f"**{k}:** {v}" for k, v in list(bundle.describe().items())[:4])
        for note in bundle.notes:
            st.info(note)
        if spec is not None:
            setup.spec, shape = _adapt(spec, bundle)
            about += f"  \n{shape}" if shape else ""
        explain_caption(about)  # the data and what the model makes of it: one element
    more, more_slots = _more_settings(bundle)
    cfg = TrainConfig(**main, **more, num_threads=run_threads())
    _check(setup, cfg, {**slots, **more_slots})
    return setup
