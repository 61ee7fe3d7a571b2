"""Training page, results: test accuracy, confusion matrix (with the misclassified images of a cell),
per-class precision/recall/F1, a predictions gallery, learned filters, feature maps, overfitting
and the weights download. Numbers come from cnnlib.training.evaluation; figures from cnnlib.plots.training.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from cnnlib.plots import (
    confusion_figure,
    feature_maps_figure,
    filters_figure,
    gallery_figure,
    per_class_figure,
)
from cnnlib.training import (
    MAX_EXPORT_BYTES,
    Evaluation,
    conv_feature_maps,
    evaluate,
    evaluation_from_probabilities,
    export_size,
    export_weights,
    first_layer_filters,
    notebook_zip,
    overfitting_flag,
)
from pages.ui.classes.board import post_button
from pages.ui.classes.class_model import share_button
from pages.ui.figures import chart, plain

GREEN, RED = "#1a7f37", "#cf222e"
STATIC = {"displayModeBar": False}
MAX_MEMO_FIGURES = 24  # per session: the latest run's figures (galleries of the cells a student picked)


def _memo(run, key: tuple, build):
    """A figure of this run, built once and kept in the session (the tabs draw the Results tab on every
    rerun of the page: rebuilding its Plotly figures took about 1.3 s of server CPU each time)."""
    memo = st.session_state.get("train_figs")
    if not memo or memo[0] != run.id:
        memo = (run.id, {})
        st.session_state["train_figs"] = memo
    figs: dict[Any, Any] = memo[1]
    if key not in figs:
        if len(figs) >= MAX_MEMO_FIGURES:
            figs.pop(next(iter(figs)))  # the oldest
        figs[key] = plain(build())
    return figs[key]


def _evaluation(run) -> Evaluation:
    """The run's test-set evaluation, computed once per run and kept in the session."""
    cache = st.session_state.get("train_eval")
    if cache and cache[0] == run.id:
        return cache[1]
    if run.test_probs is not None and len(run.test_probs) == len(run.bundle.test):
        ev = evaluation_from_probabilities(run.test_probs, run.bundle.test_labels, run.classes)
    else:
        ev = evaluate(run.model, run.bundle)
    st.session_state["train_eval"] = (run.id, ev)
    return ev


def _caption(ev: Evaluation, i: int, show_true: bool = True) -> tuple[str, str]:
    """The title of test image i: "✓ 7 · 98%" if right; "✗ 5 · 83%" and, below, "is 3" if wrong."""
    p, t = int(ev.predictions[i]), int(ev.labels[i])
    ok = p == t
    text = f"{'✓' if ok else '✗'} {ev.classes[p]} · {ev.probabilities[i, p]:.0%}"
    if not ok and show_true:
        text += f"<br>is {ev.classes[t]}"
    return text, GREEN if ok else RED


def _gallery(run, ev: Evaluation, idx: np.ndarray, key: str, cols: int = 8, show_true: bool = True) -> None:
    if len(idx) == 0:
        st.caption("No images here.")
        return

    def build():
        caps = [_caption(ev, int(i), show_true) for i in idx]
        imgs = run.bundle.test_images[idx].numpy()  # [n, C, H, W] uint8
        return gallery_figure(imgs, [c for c, _ in caps], [col for _, col in caps], cols=cols)

    chart(
        st,
        _memo(run, ("gallery", tuple(int(i) for i in idx), cols, show_true), build),
        key=key,
        config=STATIC,
    )


def _overview(run, ev: Evaluation) -> None:
    snap = run.snapshot()
    m = st.columns(4)
    m[0].metric(
        "Test accuracy",
        f"{ev.accuracy:.1%}",
        help=f"on {ev.num_examples:,} test images never seen in training",
    )
    m[1].metric("Mistakes", f"{int((ev.predictions != ev.labels).sum()):,} of {ev.num_examples:,}")
    m[2].metric("Epochs trained", f"{snap.epoch} / {snap.epochs}")
    m[3].metric("Training time", f"{snap.elapsed:.0f} s")
    verdict = overfitting_flag(snap.train_loss, snap.val_loss)
    if verdict.overfitting:
        st.warning(verdict.message, icon=":material/trending_down:")
    else:
        st.caption(f"Overfitting check: {verdict.message}")


def _confusion(run, ev: Evaluation) -> None:
    st.subheader("Confusion matrix")
    event = chart(
        st,
        _memo(run, ("confusion",), lambda: confusion_figure(ev.confusion, ev.classes)),
        key="train_confusion",
        config={"displayModeBar": False},
        on_click=_no_callback,
    )
    with st.expander("How to read the confusion matrix, precision and recall"):
        st.markdown(
            "Each **row** is the true class, each **column** the model's answer: the diagonal counts the right "
            "answers, every other cell a kind of mistake (the colour is the share of the row). **Precision** of "
            "a class: of the images the model called *k*, the share that really are *k*. **Recall**: of the "
            "images that really are *k*, the share the model found. **F1** is their harmonic mean: high only if "
            "both are."
        )
    cells = ev.misclassified_cells()
    if not cells:
        st.success("No mistakes on the test set: every image is on the diagonal.")
    else:
        labels = [
            f"true {ev.classes[t]} → predicted {ev.classes[p]}  ({n} image{'s' if n > 1 else ''})"
            for t, p, n in cells
        ]
        _apply_click(event, ev, cells)
        choice = st.selectbox(
            "Click a cell of the matrix, or choose one here (most frequent mistakes first), to see its images",
            range(len(cells)),
            format_func=labels.__getitem__,
            key="train_cell",
        )
        t, p, _ = cells[choice]
        shown = ev.cell_indices(t, p)[:16]
        st.caption(
            f"{len(shown)} of the {int(ev.confusion[t, p])} test images of class {ev.classes[t]} that the model "
            f"called {ev.classes[p]}, with its probability for that wrong answer."
        )
        _gallery(run, ev, shown, key="train_cell_gallery", show_true=False)
    st.subheader("Precision · recall · F1 per class")
    mt = ev.metrics
    left, right = st.columns([2.2, 1], vertical_alignment="center")
    chart(
        left,
        _memo(run, ("per_class",), lambda: per_class_figure(mt.precision, mt.recall, mt.f1, ev.classes)),
        key="train_per_class",
        config=STATIC,
    )
    worst = int(np.argmin(mt.f1))
    right.metric("Hardest class", str(ev.classes[worst]), help="the lowest F1")
    right.markdown(
        f"F1 **{mt.f1[worst]:.1%}**  \nprecision {mt.precision[worst]:.1%}  \nrecall {mt.recall[worst]:.1%}"
    )


def _no_callback() -> None:
    """Clicks are read from the element's result in the same run (`_apply_click`)."""


def _apply_click(event, ev: Evaluation, cells: list[tuple[int, int, int]]) -> None:
    """A click on a confusion-matrix cell selects that cell in the selectbox (a click is a trigger value:
    there only in the run it starts, so a second click on the same cell picks it again)."""
    click = getattr(event, "click", None) if event is not None else None
    if not isinstance(click, dict):
        return
    x, y = str(click.get("x")), str(click.get("y"))
    names = [str(c) for c in ev.classes]
    if x in names and y in names:
        cell = (names.index(y), names.index(x))
        for j, (t, p, _n) in enumerate(cells):
            if (t, p) == cell:
                st.session_state["train_cell"] = j


def _predictions(run, ev: Evaluation) -> None:
    st.subheader("Predictions on test images")
    c1, c2 = st.columns([2, 2])
    which = c1.radio("Show", ["all", "right only", "wrong only"], horizontal=True, key="train_pred_filter")
    seed = c2.number_input("Sample (change for other images)", 0, 10_000, 0, key="train_pred_seed")
    ok = ev.predictions == ev.labels
    pool = {"all": ev.indices, "right only": ev.indices[ok], "wrong only": ev.indices[~ok]}[which]
    rng = np.random.default_rng(int(seed))
    idx = np.sort(rng.choice(pool, size=min(16, len(pool)), replace=False)) if len(pool) else pool
    _gallery(run, ev, idx, key="train_pred_gallery")
    st.caption(
        "Green ✓: right; red ✗: wrong, with the true class below. The percentage is the model's probability "
        "for its answer: a confident mistake (a high percentage in red) is worth a look."
    )


def _inside(run, ev: Evaluation) -> None:
    st.subheader("What the first layer learned")
    w = first_layer_filters(run.model)
    if w is None:
        st.info("This model has no Conv2d layer, so there are no filters to show.")
    else:
        fig = _memo(run, ("filters",), lambda: filters_figure(w))
        chart(st, fig, key="train_filters", config=STATIC)
        shown = " (the first 32 shown)" if w.shape[0] > 32 else ""
        st.caption(
            f"{w.shape[0]} filters of {w.shape[2]}×{w.shape[3]}{shown}, each scaled to its own range: "
            + (
                "colour = what it reacts to."
                if w.shape[1] == 3
                else "red = positive weights, blue = negative. Many look like edge or blob detectors."
            )
        )
        with st.expander("What is a learned filter?"):
            st.markdown(
                "Each tile is one kernel of the first convolution layer: the small grid of weights it slides "
                "over the image. Nobody set these numbers: they started random and training nudged them, batch "
                "by batch, into whatever patterns help tell the classes apart. A tile with red on one side and "
                "blue on the other responds to an edge in that direction."
            )
    st.subheader("Feature maps of one test image")
    n = ev.num_examples
    c1, c2 = st.columns([1, 4])
    i = int(c1.number_input(f"Test image (0–{n - 1})", 0, max(0, n - 1), 0, key="train_fm_index"))
    with c1:
        _gallery(run, ev, np.array([i]), key="train_fm_image", cols=1)

    def build_maps():
        try:
            maps = conv_feature_maps(run.model, run.bundle.test_images[i], run.bundle.mean, run.bundle.std)
        except ValueError as err:  # priced before it runs: too big for the shared server
            return str(err)
        return feature_maps_figure(maps) if maps else None

    fig = _memo(run, ("feature_maps", i), build_maps)
    with c2:
        if isinstance(fig, str):
            st.info(f"No feature maps for this model: {fig}")
        elif fig is not None:
            chart(st, fig, key="train_fm", config=STATIC)
        else:
            st.info("This model has no Conv2d layer, so there are no feature maps.")
    with st.expander("What do the feature maps show?"):
        st.markdown(
            "One row per convolution layer, after its activation: each tile is one channel, bright where that "
            "layer's kernel found its pattern in this image. The first layer sees edges and strokes at full "
            "size; after pooling, deeper layers see combinations of them on smaller maps. Try a misclassified "
            "image and compare."
        )


def _download(run, ev: Evaluation) -> None:
    info = st.session_state.get("train_run_info", {})
    name = f"cnn_{run.bundle.name}_{run.id}.pt"

    def data() -> bytes:
        return export_weights(
            run.spec.to_dict(),
            run.model.state_dict(),
            run.classes,
            run.bundle.mean,
            run.bundle.std,
            run.bundle.name,
        )

    row = st.container(horizontal=True)
    row.download_button(
        ":material/download: Download the trained weights + spec (.pt)",
        data=data,
        file_name=name,
        mime="application/octet-stream",
        key="train_download",
        on_click="ignore",
    )
    _notebook(row, run)
    st.caption(
        f"`torch.load(f, weights_only=True)` gives {{'spec', 'state_dict', 'classes', 'mean', 'std'}}; "
        f"rebuild with `build_model(ModelSpec.from_dict(spec))`. The model ({info.get('model', '')}) is "
        "also ready on the **Draw & predict** page."
    )


def _notebook(row: Any, run) -> None:
    """ "Download as notebook": the run in plain PyTorch with its data (built only when clicked)."""
    if run.spec is None:
        return
    if export_size(run.bundle) > MAX_EXPORT_BYTES:
        row.caption(f"This dataset is over {MAX_EXPORT_BYTES // 2**20} MB: too big for a notebook's zip.")
        return
    snap = run.snapshot()

    def data() -> bytes:
        title = f"{run.name or 'A CNN'} on {run.bundle.name}"
        return notebook_zip(run.spec, run.bundle, run.config, title=title, reported=snap.test_accuracy)

    row.download_button(
        ":material/code: Download as notebook (.zip)",
        data=data,
        file_name=f"cnn_{run.bundle.name}_{run.id}_notebook.zip",
        mime="application/zip",
        key="train_notebook",
        on_click="ignore",
        help="A Jupyter notebook that repeats this run with plain PyTorch (same model, data, split, seed "
        "and settings) and its data: unzip, open experiment.ipynb, run all.",
    )


def _post(run) -> None:
    """In a class session: the buttons that post this run to the class board and share its model."""
    snap = run.snapshot()
    info = st.session_state.get("train_run_info") or {}
    if snap.test_accuracy is None:
        return
    post_button(
        {
            "run_id": run.id,
            "accuracy": float(snap.test_accuracy),
            "params": int(run.num_params),
            "model": str(info.get("model") or run.name)[:200],
            "link": info.get("link", ""),
            "seconds": float(snap.elapsed),
            "dataset": str(info.get("dataset", ""))[:40],
        }
    )
    share_button(run, info)


def render_results() -> None:
    """The Results tab: everything about the latest run that trained at least one batch."""
    run = st.session_state.get("train_results_run")
    if run is None:
        st.info(
            "No results yet: train a model on the **Train** tab, then come back here.",
            icon=":material/bar_chart:",
        )
        return
    current = st.session_state.get("train_run")
    if current is not None and current is not run and not current.done:
        st.info(
            "A new run is training; these are the results of the previous one.",
            icon=":material/hourglass_top:",
        )
    ev = _evaluation(run)
    _overview(run, ev)
    _post(run)
    _confusion(run, ev)
    _predictions(run, ev)
    _inside(run, ev)
    _download(run, ev)
