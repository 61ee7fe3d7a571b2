"""Training page, setup: dataset, model and hyperparameters, each checked where it is chosen.

`render_setup()` draws the controls and returns a `Setup`: the loaded dataset, the model spec
adapted to it and a validated TrainConfig, or the messages that say what to fix. Every check is
done by cnnlib (load_dataset, adapt_to_dataset, TrainConfig.validate); this module only draws.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from cnnlib.data import DATASETS, MAX_IMAGE_SIDE, MIN_IMAGE_SIDE, DatasetBundle, DatasetError, load_dataset
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
from pages.ui.figures import chart
from pages.ui.glossary import explain_caption
from pages.ui.resources import get_dataset
from pages.ui.runtime import uploads_release
from pages.ui.runtime.session_alive import session_gone_check
from pages.ui.training.texts import AUGMENTS, HELP, SCHEDULERS

BUILDER, DEMO = handoff.BUILDER_OPTION, handoff.DEFAULT_OPTION
OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD with momentum 0.9"}
DOWNLOAD_RETRY_S = 60  # a failed download is not retried on every rerun


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


def _load_download(name: str) -> DatasetBundle | None:
    """A torchvision dataset, fetched only after the student asks; failures remembered for a minute."""
    failures = st.session_state.setdefault("tr_download_failures", {})
    asked = st.session_state.setdefault("tr_download_asked", set())
    info = DATASETS[name]
    if name not in asked:
        st.caption(f":material/download: {info.description} It needs an internet connection the first time.")
        if st.button(f"Load {info.title}", key=f"tr_fetch_{name}"):
            asked.add(name)
            failures.pop(name, None)
        else:
            return None
    failed = failures.get(name)
    if not failed or time.monotonic() - failed[1] >= DOWNLOAD_RETRY_S:
        try:
            return get_dataset(name)
        except DatasetError as err:
            failed = failures[name] = (str(err), time.monotonic())
    st.error(failed[0], icon=":material/wifi_off:")
    if st.button("Try the download again", key=f"tr_retry_{name}"):
        failures.pop(name, None)
        st.rerun()
    return None


def _load_upload() -> DatasetBundle | None:
    """A zip of class folders, resized to the chosen size; kept in this session only."""
    c1, c2, c3 = st.columns([3, 1, 1])
    up = c1.file_uploader(
        "Zip of class folders (cats/…, dogs/…)",
        type=["zip"],
        key="tr_zip",
        help=uploads_release.budget_help(),
    )
    side = keep(
        "tr_zip_size",
        c2.number_input(
            "Image size (px)",
            MIN_IMAGE_SIDE,
            MAX_IMAGE_SIDE,
            kept("tr_zip_size", 32),
            step=4,
            key="tr_zip_size",
        ),
    )
    gray = keep("tr_zip_gray", c3.checkbox("Grayscale", kept("tr_zip_gray", False), key="tr_zip_gray"))
    cache = st.session_state.get("tr_upload_cache")
    if up is None:
        st.caption(DATASETS["upload"].description)
        if cache and cache["bundle"] is not None:
            st.caption("Using the zip you uploaded earlier; upload another to replace it.")
            return cache["bundle"]
        return None
    # One decode per upload and setting: keyed by the upload's file_id (no hash of 20 MB per rerun).
    ident = (up.file_id, int(side), bool(gray))
    if not cache or cache["ident"] != ident:
        st.session_state.pop("tr_upload_cache", None)  # the old bundle goes before the new is decoded
        try:
            with st.spinner("Reading your images…"):
                bundle, error = (
                    load_dataset(
                        "upload",
                        data=up.getvalue(),
                        image_size=int(side),
                        grayscale=bool(gray),
                        should_stop=session_gone_check(),
                    ),
                    None,
                )
        except DatasetError as err:
            bundle, error = None, str(err)
        cache = {"ident": ident, "bundle": bundle, "error": error}
        st.session_state["tr_upload_cache"] = cache
    if cache["error"]:
        st.error(cache["error"], icon=":material/folder_zip:")
    return cache["bundle"]


def run_threads() -> int | None:
    """torch threads for a run started here: 1 on a server of at most 2 cores, else the limiter's share.

    Measured on the 2-core dev box with the page open: a run with 2 threads (one per core) crawled at
    ~25 img/s because the web server and other sessions take CPU and OpenMP's 2 threads wait for each
    other at every op; with 1 thread it ran at ~900-1,100 img/s. The server keeps a core for itself.
    """
    return 1 if cpu_cores() <= 2 else None


def kept(key: str, default):
    """The value a setting had when the student last saw it (widget state is dropped off-page)."""
    return st.session_state.get("_" + key, default)


def keep(key: str, value):
    st.session_state["_" + key] = value
    return value


def _select(where, label: str, options: list, key: str, default, **kw):
    cur = kept(key, default)
    index = options.index(cur) if cur in options else (options.index(default) if default in options else 0)
    return keep(key, where.selectbox(label, options, index=index, key=key, **kw))


def _number(where, label: str, key: str, default, **kw):
    return keep(key, where.number_input(label, value=kept(key, default), key=key, **kw))


def _slider(where, label: str, lo: float, hi: float, key: str, default: float, step: float, **kw):
    return keep(key, where.slider(label, lo, hi, kept(key, default), step, key=key, **kw))


def _bundle_for(name: str) -> DatasetBundle | None:
    if name == "upload":
        return _load_upload()
    if not DATASETS[name].offline:
        return _load_download(name)
    try:
        return get_dataset(name)
    except DatasetError as err:
        st.error(str(err))
        return None


def _model_choice() -> tuple[str, ModelSpec | None]:
    builder = st.session_state.get("model_spec")
    options = ([BUILDER] if builder else []) + [DEMO] + list(PRESETS)
    if builder:  # a model newly sent from the builder is selected once; the student may then pick another
        if handoff.select_if_new(builder):
            st.session_state.pop("tr_model", None)
    name = _select(
        st,
        "Model",
        options,
        "tr_model",
        options[0],
        help="Demo CNN: two conv blocks (16 and 32 channels) and two Linear layers, about 98% on the MNIST "
        "sample. Build your own on the Model builder page: it appears here first. A model made for other "
        "images or another number of classes is adapted to the dataset.",
    )
    if name == BUILDER:
        try:
            return f"{st.session_state.get('model_spec_name') or 'your model'}", ModelSpec.from_dict(builder)
        except SpecError as err:
            st.error(f"The Model builder's model cannot be read: {err}")
            return name, None
    if name == DEMO:
        return "Demo CNN", ModelSpec.from_dict(DEMO_SPEC)
    return name, PRESETS[name]


def _adapt(spec: ModelSpec, bundle: DatasetBundle) -> ModelSpec | None:
    try:
        adapted = adapt_to_dataset(spec, bundle.input_shape, bundle.num_classes)
    except SpecError as err:
        st.error(
            f"{err} Choose another model, or change it on the Model builder page.",
            icon=":material/view_in_ar:",
        )
        return None
    c, h, w = bundle.input_shape
    t = totals(adapted)
    explain_caption(
        f"Input {c}×{h}×{w} → {bundle.num_classes} class scores · {format_count(t.params)} parameters"
    )
    changes = adaptation_notes(spec, adapted)
    if changes:
        st.info(f"Adapted to this dataset: {'; '.join(changes)}.", icon=":material/build:")
    return adapted


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


def _more_settings(bundle: DatasetBundle | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The "More settings" box as TrainConfig fields, and the slot its errors go in (one for all)."""
    with st.container(border=False):
        st.markdown("**More settings**")
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
    c_data, c_model = st.columns(2)
    name = _select(
        c_data,
        "Dataset",
        list(DATASETS),
        "tr_dataset",
        "mnist-sample",
        format_func=lambda n: DATASETS[n].title,
    )
    with c_model:
        model_name, spec = _model_choice()
    main, slots = _main_settings()
    bundle = _bundle_for(name)
    setup = Setup(name, bundle, model_name)
    if bundle is not None:
        st.caption(" · ".join(f"**{k}:** {v}" for k, v in list(bundle.describe().items())[:4]))
        for note in bundle.notes:
            st.info(note)
    if bundle is not None and spec is not None:
        setup.spec = _adapt(spec, bundle)
    more, more_slots = _more_settings(bundle)
    cfg = TrainConfig(**main, **more, num_threads=run_threads())
    _check(setup, cfg, {**slots, **more_slots})
    return setup
