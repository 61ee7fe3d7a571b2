"""AppTest: the Shape calculator page through app.py: inputs, formula, bad input, stack, quiz."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.plotly_specs import plotly_specs
from tests.conftest import open_app, unlinked

PAGE = "pages/2_shape_calculator.py"
MODES = [":material/calculate: One layer", ":material/stacks: Stack of layers", ":material/quiz: Quiz"]


def _open(mode: int = 0) -> AppTest:
    at = open_app(PAGE)
    if mode:
        at.radio(key="sc_mode").set_value(MODES[mode]).run()
    assert not at.exception
    return at


def _set(at: AppTest, key: str, text: str) -> AppTest:
    at.text_input(key=key).input(text).run()
    assert not at.exception, at.exception
    return at


def _output(at: AppTest) -> str | None:
    found = [m.value for m in at.metric if m.label.startswith("Output")]
    return found[0] if found else None


def _latex(at: AppTest) -> str:
    return "\n".join(el.value for el in at.latex)


def _errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def test_default_layer_shows_shape_formula_params_and_picture():
    at = _open()
    assert _output(at) == "8 × 14 × 14"
    tex = _latex(at)
    assert r"\frac{28 + 2\cdot 1 - 1\cdot(3-1) - 1}{2}" in tex and "13 + 1 = 14" in tex
    assert "216 + 8 = 224" in tex  # 8·3·3·3 weights + 8 biases
    assert any("Every input pixel" in s.value for s in at.success)
    assert any("is made from the dark cells" in c for img in at.image for c in img.captions), "the picture"
    assert not plotly_specs(at)  # a PNG: the page loads no plotly.js


def test_changing_inputs_updates_output_and_substituted_formula():
    at = _open()
    _set(at, "sc_size_h", "32")
    _set(at, "sc_Conv2d_k_h", "5")
    _set(at, "sc_Conv2d_s_h", "1")
    _set(at, "sc_Conv2d_p_h", "0")
    assert _output(at) == "8 × 28 × 28"
    assert r"\frac{32 + 2\cdot 0 - 1\cdot(5-1) - 1}{1}" in _latex(at)
    _set(at, "sc_Conv2d_d_h", "2")  # dilation: the kernel spans 9
    assert _output(at) == "8 × 24 × 24" and r"2\cdot(5-1)" in _latex(at)
    _set(at, "sc_Conv2d_s_h", "4")
    _set(at, "sc_Conv2d_d_h", "1")
    assert _output(at) == "8 × 7 × 7"  # floor(27 / 4) + 1
    assert r"\lfloor 6.75 \rfloor" in _latex(at)
    assert "rows 29–31" in at.warning[0].value and "columns 29–31" in at.warning[0].value


def test_non_square_and_padding_words():
    at = _open()
    at.toggle(key="sc_square").set_value(False).run()
    _set(at, "sc_size_w", "20")
    _set(at, "sc_Conv2d_k_w", "5")
    assert _output(at) == "8 × 14 × 9"
    assert [m.value for m in at.markdown if m.value.startswith("**Height")] == ["**Height**"]
    assert r"\frac{20 + 2\cdot 1 - 1\cdot(5-1) - 1}{2}" in _latex(at)
    at.toggle(key="sc_square").set_value(True).run()
    _set(at, "sc_Conv2d_s_h", "1")
    at.selectbox(key="sc_pad_mode").set_value("same").run()
    assert _output(at) == "8 × 28 × 28" and "same" in _latex(at)
    at.selectbox(key="sc_pad_mode").set_value("valid").run()
    assert _output(at) == "8 × 26 × 26"


def test_pooling_and_transposed_conv():
    at = _open()
    at.selectbox(key="sc_kind").set_value("MaxPool2d").run()
    assert _output(at) == "3 × 14 × 14" and "Parameters: 0" in unlinked("".join(m.value for m in at.markdown))
    _set(at, "sc_size_h", "7")
    at.checkbox(key="sc_ceil").check().run()
    assert _output(at) == "3 × 4 × 4" and r"\lceil" in _latex(at)
    at.selectbox(key="sc_kind").set_value("ConvTranspose2d").run()
    assert _output(at) == "8 × 14 × 14"  # (7-1)·2 - 2 + 2 + 1 + 1
    assert r"(7-1)\cdot 2 - 2\cdot 1 + 1\cdot(3-1) + 1 + 1" in _latex(at)
    assert "3 \\cdot 3 \\cdot 3" in _latex(at)
    for key in ("sc_size_h", "sc_ConvTranspose2d_k_h", "sc_ConvTranspose2d_s_h", "sc_ConvTranspose2d_d_h"):
        _set(at, key, "100000")  # the largest numbers: a size, no picture, no hang
    assert _output(at) == "8 × 19999800000 × 19999800000"
    assert any("up to 40 cells" in i.value for i in at.info)


BAD = [
    ("sc_size_h", "0", "at least 1"),
    ("sc_size_h", "-4", "at least 1"),
    ("sc_size_h", "abc", "whole number"),
    ("sc_size_h", "3.5", "whole number"),
    ("sc_size_h", "", "Type a whole number"),
    ("sc_size_h", "10^12", "too large"),
    ("sc_size_h", "1000000000000", "too large"),
    ("sc_Conv2d_k_h", "0", "at least 1"),
    ("sc_Conv2d_k_h", "31", "padded input is only 30"),
    ("sc_Conv2d_s_h", "0", "never move"),
    ("sc_Conv2d_p_h", "-1", "negative"),
    ("sc_Conv2d_d_h", "20", "kernel spans 41"),
    ("sc_cin", "0", "at least 1"),
    ("sc_Conv2d_cout", "1e9", "too large"),
]


def _panel(at: AppTest, widget_key: str):
    """The column that holds the widget with this key (the settings beside the picture), or the page
    below them (the results: the output shape and its formula sit under the settings and picture)."""

    def holds(node) -> bool:
        return any(
            getattr(x, "key", None) == widget_key or (hasattr(x, "children") and holds(x))
            for x in node.children.values()
        )

    return next((c for c in at.columns if holds(c)), at.main)


def _stale(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption if c.value.startswith("Meanwhile"))


def test_bad_inputs_get_a_message_and_recover():
    at = _open()
    for key, text, words in BAD:
        _set(at, key, text)
        assert words in _errors(at), (key, text, _errors(at))
        # no traceback; the last layer that worked stays on show, marked as such
        assert _output(at) == "8 × 14 × 14" and "last Conv2d that worked (input 28, kernel 3" in _stale(at)
        default = {"sc_size_h": "28", "sc_Conv2d_k_h": "3", "sc_Conv2d_s_h": "2", "sc_Conv2d_p_h": "1"}
        _set(
            at,
            key,
            default.get(key, {"sc_Conv2d_d_h": "1", "sc_cin": "3", "sc_Conv2d_cout": "8"}.get(key, "")),
        )
        assert _output(at) == "8 × 14 × 14" and not _stale(at), (key, _errors(at))


def test_messages_sit_beside_their_field_and_the_refusal_shows_its_formula():
    at = _open()
    _set(at, "sc_Conv2d_k_h", "31")
    left, right = _panel(at, "sc_square"), _panel(at, "sc_predict")  # settings | results
    assert "padded input is only 30" in " ".join(e.value for e in left.error)
    assert "see the message marked in red on the left" in " ".join(e.value for e in right.error)
    refusal = [x.value for x in right.latex if "refuses" in x.value]
    assert (
        refusal
        and r"\frac{28 + 2\cdot 1 - 1\cdot(31-1) - 1}{2}" in refusal[0]
        and "= -1 + 1 = 0" in refusal[0]
    )
    _set(at, "sc_Conv2d_k_h", "3")
    at.toggle(key="sc_square").set_value(False).run()
    _set(at, "sc_size_w", "abc")
    assert any(e.value.startswith("Width: The input size must be a whole number") for e in at.error)


def test_unread_rows_and_columns_say_why():
    at = _open()
    _set(at, "sc_size_h", "9")
    _set(at, "sc_Conv2d_k_h", "2")
    _set(at, "sc_Conv2d_s_h", "3")
    _set(at, "sc_Conv2d_p_h", "0")
    warning = at.warning[0].value
    assert "rows 2, 5, 8 (3 rows)" in warning and "columns 2, 5, 8 (3 columns)" in warning
    assert "stride 3 is bigger than the window (2 pixels wide)" in warning
    assert "the last window ends at row 7" in warning


def test_refusals_specific_to_layer_types():
    at = _open()
    _set(at, "sc_Conv2d_s_h", "2")
    at.selectbox(key="sc_pad_mode").set_value("same").run()
    left = _panel(at, "sc_square")
    assert "stride 1" in " ".join(e.value for e in left.error) and "last Conv2d that worked" in _stale(at)
    at.selectbox(key="sc_kind").set_value("MaxPool2d").run()
    _set(at, "sc_MaxPool2d_p_h", "2")
    assert "at most half the kernel" in _errors(at) and "last MaxPool2d that worked" in _stale(at)
    at.selectbox(key="sc_kind").set_value("ConvTranspose2d").run()
    _set(at, "sc_op_h", "2")
    assert "smaller than the stride or the dilation" in _errors(at)


def test_stepper_moves_the_window_and_big_inputs_skip_the_picture():
    at = _open()
    assert at.slider(key="sc_step").value == 1
    at.button(key="sc_step_next").click().run()
    assert at.slider(key="sc_step").value == 2
    assert any("row 0, column 1" in c for img in at.image for c in img.captions)
    at.slider(key="sc_step").set_value(196).run()
    at.button(key="sc_step_next").click().run()
    assert at.slider(key="sc_step").value == 196  # stays at the last position
    _set(at, "sc_size_h", "100")
    assert not at.image and any("up to 40 cells" in i.value for i in at.info)


def test_predict_then_reveal():
    at = _open()
    at.toggle(key="sc_predict").set_value(True).run()
    assert _output(at) is None and any("What shape comes out" in m.value for m in at.subheader)
    at.button(key="sc_reveal").click().run()
    assert _output(at) == "8 × 14 × 14"
    _set(at, "sc_size_h", "abc")  # bad input: the toggle stays on, the revealed layer stays
    assert at.toggle(key="sc_predict").value and _output(at) == "8 × 14 × 14" and _stale(at)
    _set(at, "sc_size_h", "30")  # new numbers: hidden again
    assert _output(at) is None
    _set(at, "sc_size_h", "abc")  # and the unrevealed layer is not shown as "the last that worked"
    assert _output(at) is None and not _stale(at)


def test_stack_mode_shapes_presets_and_where_size_hits_zero():
    at = _open(1)
    rows = at.table[0].value  # the Digit CNN, every page's model: the input and its 15 layers
    assert len(rows) == 1 + 15 and list(rows["output [C, H, W]"])[-1] == "10"
    assert list(rows["output [C, H, W]"])[12] == "64 × 3 × 3" and list(rows["receptive field"])[12] == "22"
    _set(at, "sc_st_h", "3")  # 3 -> 3 -> pool 2×2: 1 -> 1 -> pool 2×2: 0
    assert "Layer 8 (MaxPool2d)" in _errors(at) and "output would have 0" in _errors(at)
    assert [m.value for m in at.metric][0] == "layer 8 fails"
    _set(at, "sc_st_h", "28")
    assert not at.error
    at.selectbox(key="sc_add_type").set_value("Conv2d").run()
    _set(at, "sc_add_k", "3")
    _set(at, "sc_add_p", "0")
    at.button(key="sc_add").click().run()
    assert "Layer 16 (Conv2d)" in _errors(at) and "put it before the Flatten" in _errors(at)
    at.selectbox(key="sc_rm_which").set_value(15).run()  # layer 16 (from 0: 15)
    at.button(key="sc_rm").click().run()
    assert not at.error and len(at.table[0].value) == 16
    _set(at, "sc_add_p", "abc")
    assert "whole number" in _errors(at) and "same or valid" in _errors(at)


def test_stack_table_lists_every_layer_and_the_remove_picker_names_them():
    """Issue 25: with a 6×6 input the table stopped at layer 6 (layers 7 and 8 missing, only the chart
    said "7 refused"); the Remove picker showed bare numbers and kept an old one after Start again."""
    at = _open(1)
    _set(at, "sc_st_h", "6")
    _set(at, "sc_st_w", "6")
    rows = at.table[0].value  # 6 -> 3 -> 1 -> pool 2×2 at layer 12: 0
    assert len(rows) == 1 + 15  # the input and every layer
    assert list(rows["layer"])[12:] == ["✖ 12 · MaxPool2d", "13 · Flatten", "14 · Dropout", "15 · Linear"]
    assert list(rows["output [C, H, W]"])[12:] == ["✖ refused"] + ["not reached"] * 3
    assert list(rows["settings"])[15] == "→ 10" and list(rows["params"])[15] == "—"
    assert "Layer 12 (MaxPool2d)" in _errors(at)
    pick = at.selectbox(key="sc_rm_which")
    assert pick.options[3] == "4 · MaxPool2d 2×2" and pick.options[0] == "1 · Conv2d 3×3 → 16 ch p=1"
    assert pick.value == 14  # the last layer
    pick.set_value(3).run()
    at.button(key="sc_rm").click().run()
    pick = at.selectbox(key="sc_rm_which")
    assert len(pick.options) == 14 and pick.value == 13 and pick.options[13] == "14 · Linear → 10"
    pick.set_value(1).run()
    at.button(key="sc_reset").click().run()  # Start again: 15 layers, the picker on the last, not on "2"
    pick = at.selectbox(key="sc_rm_which")
    assert len(pick.options) == 15 and pick.value == 14 and pick.options[pick.value].startswith("15 · Linear")


def test_stack_mode_bad_input_keeps_the_last_stack_and_says_which_field():
    at = _open(1)
    _set(at, "sc_st_w", "abc")
    assert any(e.value.startswith("Width: The input size must be a whole number") for e in at.error)
    assert "last input that worked: 1 × 28 × 28" in _stale(at)
    assert list(at.table[0].value["output [C, H, W]"])[12] == "64 × 3 × 3"  # the table stays
    _set(at, "sc_st_w", "10^12")
    assert "too large" in _errors(at) and at.table
    _set(at, "sc_st_w", "20")  # the Digit CNN's layers take what arrives: its Linear reads 64 × 3 × 2
    assert not at.error and list(at.table[0].value["output [C, H, W]"])[12:14] == ["64 × 3 × 2", "384"]
    _set(at, "sc_add_k", "0")
    assert "at least 1" in _errors(at) and at.button(key="sc_add").disabled


def test_stack_mode_loads_presets_and_the_session_model():
    at = _open(1)
    at.selectbox(key="sc_stack_source").set_value("SimpleCNN").run()
    at.button(key="sc_stack_load").click().run()
    assert not at.exception
    rows = at.table[0].value
    assert "4 × 28 × 28" in list(rows["output [C, H, W]"]) and list(rows["output [C, H, W]"])[-1] == "10"
    from cnnlib.spec import PRESETS

    spec = PRESETS["LeNet-5"].to_dict()
    at.session_state["model_spec"] = spec
    at.run()
    at.selectbox(key="sc_stack_source").set_value("My model (from the Model builder)").run()
    at.button(key="sc_stack_load").click().run()
    assert len(at.table[0].value) == len(spec["layers"]) + 1


def test_quiz_right_wrong_invalid_and_score():
    at = _open(2)
    q = at.session_state["sc_quiz_q"]
    _set(at, "sc_quiz_answer", f"  {q.answer} ")
    at.button(key="sc_quiz_check").click().run()
    assert at.success and "Correct" in at.success[0].value
    assert [m.value for m in at.metric][0] == "1 / 1 right"
    assert at.latex, "the worked formula is shown after"
    at.button(key="sc_quiz_next").click().run()
    q2 = at.session_state["sc_quiz_q"]
    assert at.text_input(key="sc_quiz_answer").value == ""
    _set(at, "sc_quiz_answer", "twelve")
    at.button(key="sc_quiz_check").click().run()
    assert "whole number" in at.warning[0].value and [m.value for m in at.metric][0] == "1 / 1 right"
    _set(at, "sc_quiz_answer", str(q2.answer + 1000))
    at.button(key="sc_quiz_check").click().run()
    assert "Not quite" in _errors(at) and f"PyTorch gives {q2.answer}" in _errors(at)
    assert [m.value for m in at.metric][0] == "1 / 2 right" and at.latex


@pytest.mark.parametrize("kinds", [["MaxPool2d"]])
def test_quiz_question_types(kinds):
    at = _open(2)
    at.multiselect(key="sc_quiz_kinds").set_value(kinds).run()
    at.button(key="sc_quiz_next").click().run()
    assert at.session_state["sc_quiz_q"].kind == "MaxPool2d"
