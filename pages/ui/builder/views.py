"""Model builder views: start-from controls, hand-off, totals, summary table, diagram, code, quiz."""

from __future__ import annotations

import re

import streamlit as st

from cnnlib import spec as S
from cnnlib.plots import spec_picture
from cnnlib.spec import DEFAULT_PRESET, PRESET_NOTES, PRESETS
from pages.ui.builder import state as B
from pages.ui.figures import shared
from pages.ui.glossary import explain, explain_caption

SUMMARY_COLUMNS = ("#", "layer", "output shape", "params", "% params", "MACs", "receptive field")
SUMMARY_ALIGN = ("---:", ":---", ":---", "---:", "---:", "---:", ":---")
# The summary table and the editor on one screen (issue 25): tighter cells, one line per row.
COMPACT_CSS = """<style>
.st-key-key_builder_summary table { font-size: 0.8rem; }
.st-key-key_builder_summary th, .st-key-key_builder_summary td { padding: 0 0.4rem !important;
  white-space: nowrap; line-height: 1.3; }
.st-key-key_builder_summary [data-testid="stMarkdownContainer"] { overflow-x: auto; }
.st-key-key_builder_editor [data-testid="stCaptionContainer"] { line-height: 1.3; }
</style>"""
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~:])")  # `:` too: ":red[...]" is a colour directive


def render_notice() -> None:
    """The last action's message (shown once, next to the controls that caused it)."""
    note = st.session_state.pop(B.NOTICE, None)
    if note:
        kind, text = note
        icons = {
            "success": ":material/check_circle:",
            "info": ":material/info:",
            "warning": ":material/warning:",
            "error": ":material/error:",
        }
        getattr(st, kind)(text, icon=icons[kind])


def render_start_from() -> None:
    """Load a preset or the session's model; undo the last change."""
    # One flex row, not columns: a column is a block of its own, sent and handled on every view.
    row = st.container(horizontal=True, vertical_alignment="bottom")
    names = list(PRESETS)
    preset = row.selectbox(
        "Start from a preset",
        names,
        index=names.index(DEFAULT_PRESET),
        key="bpreset",
        help="The seed tutorials' models first, then LeNet-5 and a small VGG",
        width=260,
    )
    row.button("Load preset", key="bload_preset", on_click=lambda: B.load_preset(st.session_state["bpreset"]))
    row.button("Load model sent to training", key="bload_session", on_click=B.load_session_model)
    row.button(
        "Undo",
        icon=":material/undo:",
        key="bundo",
        disabled=not st.session_state[B.UNDO],
        on_click=B.undo,
    )
    explain_caption(
        f"**{preset}**: {PRESET_NOTES[preset]} A JSON file loads from the *Save / load JSON* tab below."
    )


def render_upload() -> None:
    """Load a spec from a JSON file; a broken file changes nothing and says what is wrong, here."""
    key = f"bupload_{B.version()}"
    st.file_uploader(
        "Load a model spec (.json)",
        type=["json"],
        key=key,
        on_change=B.load_upload,
        args=(key,),
        help="A file saved with the download button above",
    )
    note = st.session_state.pop(B.UPLOAD_NOTICE, None)
    if note:
        st.error(note, icon=":material/error:")


def render_handoff(spec: S.ModelSpec, err: S.SpecError | None) -> None:
    """Which model Training and Draw & predict will use, and the button that sends this one."""
    sent = st.session_state.get("model_spec")
    train_name, why = B.training_choice()
    if why == "sent" and sent == spec.to_dict():
        line = f"**Training** will train **{train_name}**: this model."
    elif why == "sent":
        line = (
            f"**Training** will train **{train_name}**, sent earlier (not this version): press the "
            "button to send this one instead."
        )
    else:
        line = (
            f"**Training** will train **{train_name}** ({'picked there' if why == 'picked' else 'its default'}) "
            "until you send a model from here."
        )
    trained = B.trained_model_names()
    draw = f"**Draw & predict** starts with the {DEFAULT_PRESET}, pretrained; " + (
        f"{len(trained)} model{'s' if len(trained) > 1 else ''} trained this session "
        f"(newest: {trained[-1]}) {'are' if len(trained) > 1 else 'is'} in its Model list."
        if trained
        else "a model you train on 28 × 28 digits joins its Model list."
    )
    st.markdown(f":material/rocket_launch: {line}  \n{draw}")  # one element for both lines
    st.button(
        "Use this model for training",
        icon=":material/rocket_launch:",
        key="buse",
        type="primary",
        disabled=err is not None,
        on_click=B.use_for_training,
        help="Fix the broken layer first"
        if err is not None
        else "Training fits it to the dataset you pick there (input shape and number of classes)",
    )
    sent_note = st.session_state.pop(B.HANDOFF_NOTICE, None)
    if sent_note:  # said here, next to the button, not at the top of the page
        st.success(sent_note, icon=":material/check_circle:")


def render_totals(spec: S.ModelSpec, rows: list[S.LayerSummary], err: S.SpecError | None) -> None:
    if err is not None:
        st.caption("Totals appear once every layer runs.")
        return
    t = S.totals(spec, rows)
    c = st.container(horizontal=True)  # one block for the row (columns cost a block each)
    c.metric("Parameters", S.format_count(t.params), help="Numbers the network learns")
    c.metric("Trainable", S.format_count(t.trainable_params))
    c.metric("Model size", f"{t.size_mb:.2f} MB", help="Parameters and BatchNorm statistics, float32")
    c.metric(
        "Activations / image",
        S.format_bytes(t.activation_bytes),
        help="Memory for the input and every layer's output for one image (float32)",
    )


def summary_rows(spec: S.ModelSpec, rows: list[S.LayerSummary], err: S.SpecError | None) -> list[dict]:
    """The table's rows as text: the layers that ran, the broken layer, then the layers not reached."""
    recs = [
        {
            **r,
            "#": str(r["#"]),
            "params": f"{r['params']:,}",
            "% params": ""
            if err is not None
            else f"{r['% params']:.1f} %",  # a share of a partial total misleads
            "MACs": S.format_count(r["MACs"]),
        }
        for r in S.summary_records(rows)
    ]
    for i in range(len(rows), len(spec.layers)):
        broken = err is not None and err.layer_index == i
        recs.append(
            {
                "#": str(i + 1),
                "layer": S.layer_label(spec.layers[i]),
                "output shape": "✖ error" if broken else "—",
                "params": "—",
                "% params": "",
                "MACs": "—",
                "receptive field": "",
            }
        )
    return recs


def _cell(text: object, colour: str | None) -> str:
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
    if not text or colour is None:
        return text
    return f":{colour}[**{text}**]" if colour == "red" else f":{colour}-background[{text}]"


def summary_markdown(
    spec: S.ModelSpec, rows: list[S.LayerSummary], err: S.SpecError | None, selected: int = -1
) -> str:
    """The summary as one Markdown table (one cheap element that reads well on a projector): the broken
    layer's row in bold red, the layer being edited on blue."""
    bad = err.layer_index if err is not None else None
    lines = ["| " + " | ".join(SUMMARY_COLUMNS) + " |", "| " + " | ".join(SUMMARY_ALIGN) + " |"]
    for rec in summary_rows(spec, rows, err):
        i = int(rec["#"]) - 1  # the table counts from 1
        colour = "red" if i == bad else "blue" if i == selected else None
        lines.append("| " + " | ".join(_cell(rec[c], colour) for c in SUMMARY_COLUMNS) + " |")
    return "\n".join(lines)


def render_summary(spec: S.ModelSpec, rows: list[S.LayerSummary], err: S.SpecError | None) -> None:
    """The summary table (compact: one screen with the editor), what its shapes mean under it."""
    if not spec.layers:
        st.info("No layers: the output is the input image itself.")
        return
    c, h, w = spec.input_shape
    with st.container(key="bsummary"):  # a column's name or a layer's type: its first mention linked
        explain(summary_markdown(spec, rows, err, st.session_state.get(B.SELECTED, -1)))
    explain_caption(
        f"Input: {c} × {h} × {w} (channels × height × width). Shapes leave out the batch dimension N."
    )


def render_input_row(spec: S.ModelSpec) -> None:
    """The input's channels, height and width, the number of classes and the model's name: one row."""
    v = B.version()
    row = st.container(horizontal=True, vertical_alignment="bottom")  # one block (columns: one each)
    keys = (f"bin_c_{v}", f"bin_h_{v}", f"bin_w_{v}")
    labels = ("Input channels", "Height", "Width")
    limits = (S.MAX_INPUT_CHANNELS, S.MAX_INPUT_SIDE, S.MAX_INPUT_SIDE)
    helps = ("1 for grey images (MNIST), 3 for colour (CIFAR-10)", None, None)
    for key, label, limit, value, helptext in zip(keys, labels, limits, spec.input_shape, helps, strict=True):
        row.number_input(label, min_value=1, max_value=max(limit, value), value=value, step=1, key=key,
                         on_change=B.set_input, args=keys, help=helptext, width=150)  # fmt: skip
    n_classes = S.num_classes(spec)
    row.number_input(
        "Classes",
        min_value=1,
        max_value=max(1000, n_classes or 0),
        value=n_classes or 10,
        step=1,
        key=f"bcls_{v}",
        disabled=n_classes is None,
        on_change=B.set_classes,
        args=(f"bcls_{v}",),
        help="out_features of the last Linear layer: one score per class"
        if n_classes
        else "Add a Linear layer at the end to output class scores",
        width=150,
    )
    row.markdown(f"### {B.name()}")


def render_error(err: S.SpecError | None) -> None:
    if err is None:
        return
    where = "The input" if err.layer_index is None else f"Layer {err.layer_index + 1}"
    st.error(f"**{where} cannot run.** {err.message}", icon=":material/warning:")
    if err.fix:
        st.button(
            err.fix["label"],
            key="bfix",
            icon=":material/build:",
            type="primary",
            on_click=B.apply_fix,
            args=(err.fix,),
        )


def render_diagram(spec: S.ModelSpec) -> None:
    """The network as blocks: a PNG (no plotly.js), shared by every session that shows the same spec."""
    png = shared(spec_picture, spec.to_json(indent=None))  # a short key: cheap to hash on every view
    st.image(
        png,
        caption="Block height follows the feature map's height, its depth the width, its thickness the "
        "number of channels. Each block's layers and parameters are in the summary table above.",
    )


def render_code(spec: S.ModelSpec, err: S.SpecError | None) -> None:
    if err is not None:
        st.info("Fix the broken layer to get runnable code.")
        return
    code = S.to_pytorch_code(spec)
    st.download_button(
        "Download net.py",
        code,
        icon=":material/download:",
        file_name="net.py",
        mime="text/x-python",
        key="bdl_code",
    )
    st.code(code, language="python")


def render_json(spec: S.ModelSpec) -> None:
    text = spec.to_json()
    st.download_button(
        "Download model_spec.json",
        text,
        icon=":material/download:",
        file_name="model_spec.json",
        mime="application/json",
        key="bdl_json",
    )
    render_upload()
    st.code(text, language="json", wrap_lines=True)


def quiz_layer(spec: S.ModelSpec, rows: list[S.LayerSummary]) -> int | None:
    """The layer to ask about: the selected one if it has parameters, else the first Conv2d."""
    sel = st.session_state.get(B.SELECTED, 0)
    if sel < len(rows) and rows[sel].type in ("Conv2d", "Linear"):
        return sel
    return next((r.index for r in rows if r.type == "Conv2d"), None)


def render_quiz(spec: S.ModelSpec, rows: list[S.LayerSummary]) -> None:
    """Predict, then reveal: how many parameters will this layer have?"""
    i = quiz_layer(spec, rows)
    if i is None:
        has_conv = any(layer.type == "Conv2d" for layer in spec.layers)
        st.caption(
            "The question comes back once the model runs up to its first Conv2d."
            if has_conv
            else "Add a Conv2d layer to get a question."
        )
        return
    r = rows[i]
    explain(
        f"Layer **{i + 1}** is **{r.label}** and receives a **{S.format_shape(r.input_shape)}** input. "
        "How many parameters (weights + biases) will it have?"
    )
    key = f"bquiz_{B.version()}_{i}"
    row = st.container(horizontal=True, vertical_alignment="bottom")
    guess = row.number_input("Your prediction", min_value=0, value=0, step=1, key=key, width=260)
    if row.button("Reveal", key="bquiz_reveal"):
        st.session_state["bquiz_shown"] = key
    if st.session_state.get("bquiz_shown") == key:
        answer = S.explain_params(spec, i)
        if guess == r.params:
            st.success(f"Exactly right: {answer}.", icon=":material/check_circle:")
        else:
            st.info(
                f"PyTorch counts **{r.params:,}** (you said {guess:,}): {answer}.", icon=":material/search:"
            )
