"""AppTest: the Model builder page - edit layers, load presets and files, errors that teach, one-click fixes."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cnnlib import spec as S
from cnnlib.spec import PRESETS
from tests.conftest import open_app, unlinked

PAGE = "pages/3_model_builder.py"


def open_builder(model: str | None = None) -> AppTest:
    """The page with its "Add" popover open (it is built only when open); `model`: a preset's link
    word to start from instead of the default Digit CNN (tests of editing count SimpleCNN's layers)."""
    at = open_app(PAGE, params={"model": model}, landing=False) if model else open_app(PAGE)
    at.session_state["badd_box"] = True
    at.run()
    return at


def by_prefix(widgets, prefix: str):
    found = [w for w in widgets if w.key and w.key.startswith(prefix)]
    assert found, f"no widget with a key starting {prefix!r}"
    return found[0]


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest) -> pd.DataFrame:
    """The summary table as the page shows it (one Markdown table), its cells as plain text."""
    md = next(m.value for m in at.markdown if m.value.startswith("| # | layer |"))
    lines = md.splitlines()
    split = [_unmark(c) for c in re.split(r"(?<!\\)\|", lines[0])[1:-1]]
    rows = [[_unmark(c) for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines[2:]]
    df = pd.DataFrame(rows, columns=split)
    df["#"] = df["#"].astype(int)
    return df


def _unmark(cell: str) -> str:
    """A cell's text without its glossary link, colour and bold marks and Markdown escapes."""
    cell = unlinked(cell).strip()
    found = re.fullmatch(r":(\w+)(?:-background)?\[(.*)\]", cell)
    if found:
        cell = found.group(2)
    cell = re.sub(r"^\*\*(.*)\*\*$", r"\1", cell)
    return re.sub(r"\\(.)", r"\1", cell)


def row_colours(at: AppTest) -> list[str | None]:
    """Each summary row's highlight colour ("red": broken, "blue": being edited), None if plain."""
    md = next(m.value for m in at.markdown if m.value.startswith("| # | layer |"))
    return [
        (re.match(r"\| :(\w+)(?:-background)?\[", line) or [None, None])[1] for line in md.splitlines()[2:]
    ]


def layer_types(at: AppTest) -> list[str]:
    return [row["type"] for row in at.session_state["builder_spec"]["layers"]]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def by_suffix(widgets, suffix: str):
    found = [w for w in widgets if w.key and w.key.endswith(suffix)]
    assert found, f"no widget with a key ending {suffix!r}"
    return found[0]


CODE_TAB = ":material/code: PyTorch code"
JSON_TAB = ":material/save: Save / load JSON"


def open_tab(at: AppTest, label: str) -> AppTest:
    """Open a tab below the summary, as a click does: only the open tab is built."""
    at.session_state["b_tab"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def select_layer(at: AppTest, i: int) -> None:
    by_prefix(at.selectbox, "bsel_").set_value(i).run()


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    if not any((w.key or "").startswith("bupload_") for w in at.file_uploader):
        open_tab(at, JSON_TAB)
    by_prefix(at.file_uploader, "bupload_").set_value((name, data, "application/json")).run()
    assert not at.exception, at.exception
    return at


def test_opens_with_the_digit_cnn_summary():
    """The default is the Digit CNN, the bundled digit model's layers (issue 25: one model story)."""
    at = open_builder()
    assert at.title[0].value.endswith("Model builder")
    assert metric(at, "Parameters") == "29,290"
    df = table(at)
    assert len(df) == 15
    assert list(df["output shape"])[:4] == ["16 × 28 × 28"] * 3 + ["16 × 14 × 14"]
    assert df.iloc[8]["params"] == "18,496" and df.iloc[8]["% params"] == "63.1 %"  # the 32 -> 64 conv
    assert not at.error
    assert not at.code and not at.download_button and not at.file_uploader  # closed tabs: not built
    open_tab(at, CODE_TAB)
    assert "class Net(nn.Module)" in at.code[0].value
    assert [b.label for b in at.download_button] == ["Download net.py"]
    open_tab(at, JSON_TAB)
    assert json.loads(at.code[0].value) == S.PRESETS["Digit CNN"].to_dict()
    assert [b.label for b in at.download_button] == ["Download model_spec.json"]
    assert len(at.file_uploader) == 1


def test_load_each_preset():
    at = open_builder()
    for name, spec in PRESETS.items():
        at.selectbox(key="bpreset").set_value(name).run()
        click(at, "bload_preset")
        assert at.session_state["builder_spec"] == spec.to_dict()
        assert metric(at, "Parameters") == S.format_count(S.totals(spec).params)
        rows = S.summarize(spec)
        assert list(table(at)["output shape"]) == [S.format_shape(r.output_shape) for r in rows]
        assert not at.error, name


def test_add_remove_reorder_duplicate_and_undo():
    at = open_builder("simplecnn")
    start = layer_types(at)
    # add a Dropout before layer 9 (the last Linear)
    at.selectbox(key="badd_type").set_value("Dropout").run()
    by_prefix(at.selectbox, "badd_pos_").set_value(9).run()
    click(at, "badd_btn")
    assert layer_types(at) == start[:9] + ["Dropout"] + start[9:]
    assert len(table(at)) == 11 and metric(at, "Parameters") == "26,138"
    # move layer 0 (Conv2d) down: ReLU first, still runs
    select_layer(at, 0)
    click(at, "b_down")
    assert layer_types(at)[:2] == ["ReLU", "Conv2d"]
    assert table(at).iloc[0]["layer"] == "ReLU" and not at.error
    click(at, "b_up")  # it is still selected at its new place, 1
    assert layer_types(at)[:2] == ["Conv2d", "ReLU"]
    # duplicate the first conv: the copy expects 1 channel but receives 4 -> error with a fix
    select_layer(at, 0)
    click(at, "b_dup")
    assert layer_types(at)[:2] == ["Conv2d", "Conv2d"]
    assert "Conv2d (layer 2) expects 1 input channels but receives 4" in errors(at)  # counted from 1
    # remove it again
    select_layer(at, 1)
    click(at, "b_del")
    assert layer_types(at) == start[:9] + ["Dropout"] + start[9:] and not at.error
    # undo brings the duplicate back, twice more undoes the duplicate and the move up
    click(at, "bundo")
    assert layer_types(at)[:2] == ["Conv2d", "Conv2d"]
    click(at, "bundo")
    click(at, "bundo")
    assert layer_types(at)[:2] == ["ReLU", "Conv2d"]


def test_edit_field_then_one_click_fix():
    at = open_builder("simplecnn")
    select_layer(at, 3)
    by_suffix(at.number_input, "_3_out_channels").set_value(16).run()  # Conv2d(4→8) becomes Conv2d(4→16)
    assert at.session_state["builder_spec"]["layers"][3]["out_channels"] == 16
    msg = errors(at)
    assert "Linear (layer 8) expects 392 input features but receives 784 (16 x 7 x 7)" in msg
    assert "Layer 8 cannot run" in msg  # counted from 1, as the table and the Shape calculator
    assert table(at).iloc[7]["output shape"] == "✖ error" and table(at).iloc[7]["#"] == 8
    colours = row_colours(at)  # the broken layer in red (it opens in the editor)
    assert colours[7] == "red" and colours.count(None) == len(colours) - 1
    assert at.button(key="buse").disabled
    assert (
        at.button(key="bfix").label
        == "Set in_features of layer 8 to auto (it follows what arrives: 784 features now)"
    )
    click(at, "bfix")
    assert not at.error
    assert (
        at.session_state["builder_spec"]["layers"][7]["in_features"] == "auto"
    )  # issue 25: not a pinned 784
    colours = row_colours(at)  # fixed: the layer being edited in blue, nothing red
    assert colours[7] == "blue" and colours.count(None) == len(colours) - 1
    assert metric(at, "Parameters") == S.format_count(
        S.totals(S.ModelSpec.from_dict(at.session_state["builder_spec"])).params
    )


def test_one_click_fix_sets_auto_so_the_next_change_still_runs():
    """Issue 25: the fix pinned in_features to 784 (its own message said "or leave it on auto"), so one
    more conv change broke the model again."""
    at = open_builder("simplecnn")
    select_layer(at, 3)
    by_suffix(at.number_input, "_3_out_channels").set_value(16).run()
    assert "or to 784" in errors(at) and "back to auto" in errors(at)
    click(at, "bfix")
    assert not at.error and at.session_state["builder_spec"]["layers"][7]["in_features"] == "auto"
    select_layer(at, 3)
    by_suffix(at.number_input, "_3_out_channels").set_value(32).run()  # one more conv change
    assert not at.error, errors(at)
    assert table(at).iloc[7]["layer"].startswith("Linear(1568→")


def test_layers_count_from_one_and_add_goes_around_the_edited_layer():
    """Issue 25: layers were numbered from 0 here and from 1 in the Shape calculator, and "Add ... at
    position" offered "before layer 1" while layer 7 was being edited."""
    at = open_builder("simplecnn")
    assert list(table(at)["#"])[:3] == [1, 2, 3]
    pick = by_prefix(at.selectbox, "bsel_")
    assert pick.options[0].startswith("1 · Conv2d") and pick.options[6].startswith("7 · Flatten")
    select_layer(at, 6)  # the student edits layer 7
    where = by_prefix(at.selectbox, "badd_pos_")
    assert where.value == 7 and where.options[7] == "after layer 7 (Flatten), the one you edit"
    assert where.options[6] == "before layer 7 (Flatten), the one you edit"
    assert where.options[0] == "before layer 1 (Conv2d)" and where.options[-1].startswith(
        "at the end (after layer"
    )
    at.selectbox(key="badd_type").set_value("Dropout").run()
    click(at, "badd_btn")
    assert layer_types(at)[7] == "Dropout" and not at.error
    assert by_prefix(at.selectbox, "bsel_").value == 7  # the new layer 8 is now edited ...
    assert by_prefix(at.selectbox, "badd_pos_").value == 8  # ... and the next one goes after it
    select_layer(at, 1)
    assert by_prefix(at.selectbox, "badd_pos_").value == 2


def test_input_shape_and_classes():
    at = open_builder("simplecnn")  # counts SimpleCNN's layers
    by_prefix(at.number_input, "bcls_").set_value(4).run()
    assert table(at).iloc[9]["output shape"] == "4"
    by_prefix(at.number_input, "bin_h_").set_value(1).run()
    by_prefix(at.number_input, "bin_w_").set_value(1).run()
    msg = errors(at)
    assert "The input cannot run" in msg and "at least 2 x 2" in msg
    assert "Totals appear once every layer runs." in [c.value for c in at.caption]
    click(at, "bundo")
    click(at, "bundo")
    assert not at.error and at.session_state["builder_spec"]["input_shape"] == [1, 28, 28]


def _spec_json(layers, shape=(1, 28, 28)) -> bytes:
    return json.dumps({"input_shape": list(shape), "layers": layers}).encode()


C3 = {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}

# Files that cannot be read: the model stays as it was and the message names the layer.
UNREADABLE = [
    ("not json", b"{this is not json", "not valid JSON"),
    ("wrong shape", b'{"layers": []}', 'no "input_shape"'),
    ("a list", b"[1, 2]", "must be a JSON object"),
    (
        "unknown layer",
        _spec_json([C3, {"type": "Conv3d"}]),
        '(layer 2): Layer 2 has an unknown type "Conv3d"',  # counted from 1
    ),
    ("strings for numbers", _spec_json([{**C3, "out_channels": "8"}]), 'the text "8" (remove the quotes)'),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
    ("not utf-8", b'{"input_shape": [1, 28, 28], "layers": [{"type": "\xff"}]}', "not UTF-8 text"),
    ("empty file", b"", "not valid JSON"),
    ("deeply nested", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("huge number", _spec_json([{**C3, "out_channels": 10**30}]), "at most 1,000,000, got 1e+30"),
    (
        "5000 digits",
        b'{"input_shape": [1, 28, 28], "layers": [{"type": "Linear", "out_features": ' + b"9" * 5000 + b"}]}",
        "thousands of digits",
    ),
    ("negative", _spec_json([{**C3, "padding": -1}]), "padding must be at least 0, got -1"),
    ("json string", b'"SimpleCNN"', "must be a JSON object"),
]


@pytest.mark.parametrize("name,data,words", UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_unreadable_upload_keeps_the_model(name, data, words):
    at = open_builder()
    before = at.session_state["builder_spec"]
    upload(at, "bad.json", data)
    msg = errors(at)
    assert "Could not load bad.json" in msg and words in msg and "Your model is unchanged" in msg
    assert at.session_state["builder_spec"] == before
    assert metric(at, "Parameters") == "29,290" and len(table(at)) == 15


# Files that load but cannot run: the broken layer is named, highlighted, and fixable where possible.
UNRUNNABLE = [
    (
        "linear before flatten",
        _spec_json([C3, {"type": "ReLU"}, {"type": "Linear", "out_features": 10}]),
        2,
        "insert a Flatten before it",
        "Insert a Flatten before layer 3",
    ),
    (
        "batchnorm after flatten",
        _spec_json([C3, {"type": "Flatten"}, {"type": "BatchNorm2d"}]),
        2,
        "needs a feature map [C, H, W]",
        "Move layer 3 before the Flatten (layer 2)",
    ),
    (
        "too big",
        _spec_json([C3, {"type": "Flatten"}, {"type": "Linear", "out_features": 100_000}]),
        2,
        "over the cap of 50,000,000",
        None,
    ),
    (
        "too much memory",
        _spec_json([{**C3, "out_channels": 4096}], (3, 512, 512)),
        0,
        "over the cap of 1 GB",
        None,
    ),
    ("input 1x1", _spec_json([C3], (1, 1, 1)), None, "at least 2 x 2", "Set the input to 1 x 28 x 28"),
    (
        "pool window too big",
        _spec_json([C3, {"type": "MaxPool2d", "kernel_size": 2, "padding": 3}]),
        1,
        "more than half the 2x2 window",
        "Set padding of layer 2 to 1",
    ),
    (
        "kernel bigger than the map",
        _spec_json([{"type": "Conv2d", "out_channels": 2, "kernel_size": 7}], (1, 5, 5)),
        0,
        "too small for its 7x7 kernel",
        "Set padding of layer 1 to 3",
    ),
]


@pytest.mark.parametrize("name,data,index,words,fix", UNRUNNABLE, ids=[u[0] for u in UNRUNNABLE])
def test_unrunnable_upload_names_the_layer(name, data, index, words, fix):
    at = open_builder()
    upload(at, "mine.json", data)
    assert at.session_state["builder_spec"] == S.ModelSpec.from_json(data).to_dict()
    msg = errors(at)
    where = "The input" if index is None else f"Layer {index + 1}"  # counted from 1
    assert f"{where} cannot run" in msg and words in msg
    if index is not None:
        df = table(at)
        assert df.iloc[index]["output shape"] == "✖ error"
        assert by_prefix(at.selectbox, "bsel_").value == index  # the broken layer opens in the editor
    if fix:
        assert at.button(key="bfix").label == fix
        click(at, "bfix")
        assert not at.error
    else:
        assert not [b for b in at.button if b.key == "bfix"]
    # the rest of the page keeps working: undo (the fix, then the upload) returns to the model before
    click(at, "bundo")
    if fix:
        assert f"{where} cannot run" in errors(at)
        click(at, "bundo")
    assert not at.error and metric(at, "Parameters") == "29,290"


def test_use_for_training_and_session_model():
    at = open_builder()
    at.selectbox(key="bpreset").set_value("LeNet-5").run()
    click(at, "bload_preset")
    click(at, "buse")
    assert at.session_state["model_spec"] == PRESETS["LeNet-5"].to_dict()
    assert at.session_state["model_spec_name"] == "LeNet-5"
    assert any("will train **LeNet-5**: this model." in m.value for m in at.markdown)
    at.selectbox(key="bpreset").set_value("TinyCNN").run()
    click(at, "bload_preset")
    assert any("sent earlier (not this version)" in m.value for m in at.markdown)
    click(at, "bload_session")
    assert at.session_state["builder_spec"] == PRESETS["LeNet-5"].to_dict()


def test_bad_field_value_shows_message_next_to_control():
    at = open_builder()
    spec = S.set_layer_field(PRESETS["SimpleCNN"], 0, "kernel_size", [3, 5])
    upload(at, "pair.json", spec.to_json().encode())
    select_layer(at, 0)
    box = by_prefix(at.text_input, "bf_")
    assert box.value == "3, 5"
    box.set_value("3, y").run()
    assert 'Type one whole number or two like "3, 5"' in errors(at)
    assert at.session_state["builder_spec"]["layers"][0]["kernel_size"] == [3, 5]
    by_prefix(at.text_input, "bf_").set_value("3, 3").run()
    assert at.session_state["builder_spec"]["layers"][0]["kernel_size"] == 3 and not at.error


def test_predict_then_reveal():
    at = open_builder("simplecnn")  # counts SimpleCNN's layers
    assert not [w for w in at.number_input if (w.key or "").startswith("bquiz_")]  # built when opened
    at.session_state["b_quiz_box"] = True  # as a click on the folded question does
    at.run()
    by_prefix(at.number_input, "bquiz_").set_value(36).run()
    click(at, "bquiz_reveal")
    assert any("PyTorch counts **40**" in i.value for i in at.info)
    by_prefix(at.number_input, "bquiz_").set_value(40).run()
    assert any(
        "Exactly right: 1 in × 4 out × 3 × 3 kernel = 36 weights + 4 biases = 40" in s.value
        for s in at.success
    )


@pytest.mark.parametrize("layer_type", S.LAYER_TYPES)
def test_add_each_layer_type_then_edit_it(layer_type):
    """Every type can be added (at the end here) and opens in the editor with its own fields."""
    at = open_builder("simplecnn")  # counts SimpleCNN's layers
    n = len(layer_types(at))
    base = "Linear" if layer_type == "Linear" else None  # a Linear goes after the Flatten, before layer 7
    at.selectbox(key="badd_type").set_value(layer_type).run()
    by_prefix(at.selectbox, "badd_pos_").set_value(n if base is None else 7).run()
    click(at, "badd_btn")
    types = layer_types(at)
    where = n if base is None else 7
    assert len(types) == n + 1 and types[where] == layer_type
    assert len(table(at)) == n + 1 and table(at).iloc[where]["#"] == where + 1  # counted from 1
    assert by_prefix(at.selectbox, "bsel_").value == where  # the new layer opens in the editor
    widgets = [*at.number_input, *at.selectbox, *at.checkbox, *at.toggle, *at.text_input, *at.text_area]
    fields = {w.key.rsplit(f"_{where}_", 1)[1] for w in widgets if w.key and w.key.startswith("bf_")}
    assert {f.name for f in S.FIELDS[layer_type]} <= {f.removesuffix("_auto") for f in fields}
    if at.error:  # after the final Linear image layers cannot run; a Linear(→10) starves the next one
        assert f"Layer {where + 1 if base is None else where + 2} cannot run" in errors(at)
        assert at.button(key="bfix").label
    click(at, "bundo")
    assert len(layer_types(at)) == n


def _captured_downloads(monkeypatch) -> dict:
    """What the download buttons serve, by file name (AppTest keeps it in a mock media store)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    served: dict = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, data, mimetype, kind, filename=None):
        served[filename] = data
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return served


def test_json_download_reuploads_to_the_same_model(monkeypatch):
    served = _captured_downloads(monkeypatch)
    at = open_builder()
    at.selectbox(key="bpreset").set_value("BatchNorm + Dropout CNN").run()
    click(at, "bload_preset")
    spec = PRESETS["BatchNorm + Dropout CNN"]
    open_tab(at, CODE_TAB)
    assert at.code[0].value == S.to_pytorch_code(spec).rstrip("\n")  # st.code drops the last newline
    open_tab(at, JSON_TAB)
    assert at.code[0].value == spec.to_json()
    saved = served["model_spec.json"]
    saved = saved.encode() if isinstance(saved, str) else saved
    assert S.ModelSpec.from_json(saved) == spec
    code = served["net.py"]
    assert (code.decode() if isinstance(code, bytes) else code) == S.to_pytorch_code(spec)
    # edit it, then load the saved file: the preset comes back, and undo returns to the edit
    by_prefix(at.number_input, "bcls_").set_value(7).run()
    upload(at, "model_spec.json", saved)
    assert at.session_state["builder_spec"] == spec.to_dict() and B_name(at) == "model_spec"
    assert metric(at, "Parameters") == "619,268"
    click(at, "bundo")
    assert S.num_classes(S.ModelSpec.from_dict(at.session_state["builder_spec"])) == 7
    # the same file again (after undo) loads again; a broken file twice says so twice
    upload(at, "model_spec.json", saved)
    assert at.session_state["builder_spec"] == spec.to_dict()
    for _ in range(2):
        upload(at, "junk.json", b"{junk")
        assert "Could not load junk.json" in errors(at)
        at.run()
        assert "Could not load junk.json" not in errors(at)  # said once, next to the uploader
        by_prefix(at.file_uploader, "bupload_").set_value(None).run()


def B_name(at: AppTest) -> str:
    return at.session_state["builder_name"]


def test_broken_linear_shows_no_misleading_auto_value():
    at = open_builder()
    upload(at, "x.json", _spec_json([C3, {"type": "ReLU"}, {"type": "Linear", "out_features": 10}]))
    assert by_prefix(at.selectbox, "bsel_").value == 2
    captions = " ".join(c.value for c in at.caption)
    assert "in_features = 8" not in captions  # 8 channels arrive, not 8 features
    click(at, "bfix")  # insert the Flatten: now 8 x 28 x 28 = 6272 features arrive
    select_layer(at, 3)
    assert "in_features = 6272 (what arrives)" in " ".join(c.value for c in at.caption)


def test_handoff_says_what_training_and_draw_use():
    from pages.ui import handoff

    at = open_builder()
    md = " ".join(m.value for m in at.markdown)
    assert "will train **Digit CNN** (its default)" in md
    assert "starts with the Digit CNN, pretrained" in md
    click(at, "bload_session")
    assert "Training offers the Digit CNN" in " ".join(i.value for i in at.info)
    # the student picked a preset on Training: the builder says so
    at.session_state[handoff.PICKED_KEY] = "LeNet-5"
    at.run()
    assert "will train **LeNet-5** (picked there)" in " ".join(m.value for m in at.markdown)
    # sending selects this model on Training again, even when the same model was sent before
    at.session_state[handoff.SEEN_KEY] = handoff.spec_signature(PRESETS["Digit CNN"].to_dict())
    click(at, "buse")
    assert handoff.SEEN_KEY not in at.session_state
    assert "will train **Digit CNN**: this model." in " ".join(m.value for m in at.markdown)
    assert any("Sent: the Training page will train Digit CNN" in s.value for s in at.success)
    at.session_state["trained_models"] = [
        {"name": "SimpleCNN on MNIST (97.0%)"},
        {"name": "LeNet-5 on MNIST"},
    ]
    at.run()
    assert "2 models trained this session (newest: LeNet-5 on MNIST) are in its Model list" in " ".join(
        m.value for m in at.markdown
    )


def test_handoff_round_trip_through_the_training_page():
    """The builder's account of what Training trains agrees with the Training page itself."""
    at = open_builder()
    at.selectbox(key="bpreset").set_value("LeNet-5").run()
    click(at, "bload_preset")
    click(at, "buse")
    at.switch_page("pages/4_training.py").run()
    assert not at.exception
    assert at.selectbox(key="tr_model").value == "Your model (from the Model builder)"
    at.selectbox(key="tr_model").set_value("SimpleCNN").run()  # the student picks a preset there
    at.switch_page(PAGE).run()
    assert "will train **SimpleCNN** (picked there)" in " ".join(m.value for m in at.markdown)
    click(at, "buse")  # sending the same model again selects it again
    at.switch_page("pages/4_training.py").run()
    assert at.selectbox(key="tr_model").value == "Your model (from the Model builder)"
    at.switch_page(PAGE).run()
    assert "will train **LeNet-5**: this model." in " ".join(m.value for m in at.markdown)


def test_summary_cells_are_escaped_markdown():
    """Text in the summary table cannot break the table or turn into colour, maths or links."""
    from pages.ui.builder.views import summary_markdown

    spec = S.ModelSpec.from_dict({"input_shape": [1, 8, 8], "layers": [{"type": "Flatten"}]})
    rows, err = S.summarize_partial(spec)
    md = summary_markdown(spec, rows, err)
    assert md.count("\n") == 2 and md.splitlines()[1].startswith("| ---: |")
    from pages.ui.builder import views

    assert views._cell("a|b $x$ :red[c] *d*", None) == r"a\|b \$x\$ \:red\[c\] \*d\*"
    assert views._cell("✖ error", "red") == ":red[**✖ error**]"
    assert views._cell("4 × 28 × 28", "blue") == ":blue-background[4 × 28 × 28]"
