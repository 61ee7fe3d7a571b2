"""AppTest: every page keeps its state in the URL. Setting the widgets writes the query params; a new
session opened with those params shows the same values; hostile params give the defaults plus one
message naming what was ignored, and never an exception."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnnlib.share import pack
from cnnlib.spec import PRESETS, set_layer_field, spec_to_token
from tests.conftest import open_app

KERNELS, SHAPES, BUILDER, TRAINING, DRAW = (
    "pages/1_kernels.py",
    "pages/2_shape_calculator.py",
    "pages/3_model_builder.py",
    "pages/4_training.py",
    "pages/5_draw_and_predict.py",
)


def open_page(page: str, params: dict | None = None) -> AppTest:
    return open_app(page, params=params, landing=False)


def reopen(at: AppTest, page: str) -> AppTest:
    """A fresh session (another student, a reload) opened on the address `at` shows now."""
    return open_page(page, dict(at.query_params))


def message(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


def test_kernels_state_round_trips_through_the_url():
    at = open_page(KERNELS)
    at.selectbox(key="k_source").set_value("Checkerboard").run()
    at.selectbox(key="k_preset").set_value("Sobel y").run()
    at.number_input(key="k_stride").set_value(2).run()
    at.radio(key="k_pad_mode").set_value("number").run()
    at.number_input(key="k_padding").set_value(1).run()
    at.toggle(key="k_relu").set_value(True).run()
    at.radio(key="k_pool").set_value("max").run()
    at.number_input(key="k_row").set_value(3).run()
    qp = dict(at.query_params)
    assert (
        qp["kernel"] == "sobel_y"
        and qp["stride"] == "2"
        and qp["padding"] == "1"
        and qp["image"] == "checkerboard"
    )
    assert qp["relu"] == "1" and qp["pool"] == "max" and qp["pixel"].startswith("3,")
    again = reopen(at, KERNELS)
    for key, value in [("k_source", "Checkerboard"), ("k_preset", "Sobel y")]:
        assert again.selectbox(key=key).value == value
    assert again.number_input(key="k_stride").value == 2 and again.number_input(key="k_padding").value == 1
    assert again.toggle(key="k_relu").value is True and again.radio(key="k_pool").value == "max"
    assert again.number_input(key="k_row").value == 3
    assert dict(again.query_params) == qp


def test_a_typed_kernel_travels_in_the_link():
    at = open_page(KERNELS, {"kernel": "custom", "weights": "0,1/4,0;1/4,0,1/4;0,1/4,0"})
    assert at.selectbox(key="k_preset").value == "Custom (edited)"
    assert at.text_area(key="k_text").value == "  0 1/4   0\n1/4   0 1/4\n  0 1/4   0"
    assert at.query_params["weights"] == "0,1/4,0;1/4,0,1/4;0,1/4,0"


def test_shape_calculator_state_round_trips():
    at = open_page(SHAPES)
    at.selectbox(key="sc_kind").set_value("MaxPool2d").run()
    at.text_input(key="sc_size_h").input("32").run()
    at.text_input(key="sc_MaxPool2d_k_h").input("3").run()
    at.text_input(key="sc_MaxPool2d_s_h").input("2").run()
    at.checkbox(key="sc_ceil").check().run()
    qp = dict(at.query_params)
    assert qp == {"layer": "maxpool", "size": "32", "k": "3", "s": "2", "ceil": "1"}
    again = reopen(at, SHAPES)
    assert again.selectbox(key="sc_kind").value == "MaxPool2d"
    assert again.text_input(key="sc_MaxPool2d_k_h").value == "3" and again.checkbox(key="sc_ceil").value
    assert [m.value for m in again.metric][:2] == [m.value for m in at.metric][:2]


def test_shape_calculator_stack_round_trips():
    layers = [
        {"type": "Conv2d", "out_channels": 4, "kernel_size": 5},
        {"type": "MaxPool2d", "kernel_size": 2},
    ]
    at = open_page(SHAPES, {"mode": "stack", "input": "1,32,32", "stack": pack(layers)})
    assert at.session_state["sc_stack_layers"] == layers and at.text_input(key="sc_st_h").value == "32"
    again = reopen(at, SHAPES)
    assert again.session_state["sc_stack_layers"] == layers
    assert [m.value for m in again.metric][0] == "4 × 14 × 14"


def test_model_builder_model_round_trips_with_its_parameter_count():
    spec = set_layer_field(PRESETS["LeNet-5"], 0, "out_channels", 12)
    at = open_page(BUILDER, {"model": "lenet_5"})
    assert at.query_params["model"] == "lenet_5"
    at2 = open_page(BUILDER, {"model": spec_to_token(spec)})
    params = [m.value for m in at2.metric if "arameter" in m.label]
    again = reopen(at2, BUILDER)
    assert [m.value for m in again.metric if "arameter" in m.label] == params
    assert again.query_params["model"] == at2.query_params["model"] and "Shared model" in " ".join(
        m.value for m in again.markdown
    )


def test_training_settings_round_trip_and_never_start_a_run():
    at = open_page(TRAINING)
    at.selectbox(key="tr_dataset").set_value("shapes").run()
    at.selectbox(key="tr_opt").set_value("sgd").run()
    at.number_input(key="tr_lr").set_value(0.05).run()
    at.number_input(key="tr_ep").set_value(4).run()
    qp = dict(at.query_params)
    assert qp["data"] == "shapes" and qp["opt"] == "sgd" and qp["lr"] == "0.05" and qp["epochs"] == "4"
    again = reopen(at, TRAINING)
    assert (
        again.selectbox(key="tr_dataset").value == "shapes" and again.selectbox(key="tr_opt").value == "sgd"
    )
    assert again.number_input(key="tr_lr").value == 0.05 and again.number_input(key="tr_ep").value == 4
    assert (
        "train_run" not in again.session_state or again.session_state["train_run"] is None
    )  # no run started


def test_draw_state_round_trips():
    at = open_page(DRAW)
    at.toggle(key="draw_quiz").set_value(True).run()
    at.selectbox(key="draw_pen").set_value(30).run()
    qp = dict(at.query_params)
    assert qp == {"pen": "30", "quiz": "1"}
    again = reopen(at, DRAW)
    assert again.selectbox(key="draw_pen").value == 30 and again.toggle(key="draw_quiz").value is True


HOSTILE = [
    (
        KERNELS,
        {"kernel": "<script>", "stride": "abc", "weights": "1," * 100_000, "bogus": "1"},
        ["kernel", "stride", "weights", "bogus"],
    ),
    (SHAPES, {"mode": "quiz", "k": "10^100", "stack": "v1.%%%"}, ["mode", "k", "stack"]),
    (BUILDER, {"model": "v1.bm90IHpsaWI"}, ["model"]),  # valid base64, not zlib
    (
        BUILDER,
        {"model": pack({"input_shape": [1, 28, 28], "layers": [{"type": "ReLU"}] * 100_000})},
        ["model"],
    ),
    (BUILDER, {"model": pack("just a string")}, ["model"]),
    # Issue 24 item 8: 47 characters that unpack to 1,200 nested lists (a RecursionError before).
    (BUILDER, {"model": "v1.eNqLjh4Fo2AUjIKhAWJHwSgYBaNgiAAAo1lerg"}, ["model"]),
    (TRAINING, {"model": "v1.eNqLjh4Fo2AUjIKhAWJHwSgYBaNgiAAAo1lerg"}, ["model"]),
    (BUILDER, {"model": pack({"input_shape": [1, 28, int("9" * 39)], "layers": []})}, ["model"]),
    (
        TRAINING,
        {"data": "upload", "lr": "1e999", "aug": "rotate,telepathy", "epochs": "-3"},
        ["data", "lr", "aug", "epochs"],
    ),
    (TRAINING, {"images": "5", "noise": "2"}, ["images", "noise"]),
    (TRAINING, {"images": "lots", "noise": "nan"}, ["images", "noise"]),
    (DRAW, {"pen": "7", "channels": "64", "model": "someone else's"}, ["pen", "channels", "model"]),
]


@pytest.mark.parametrize(
    ("page", "params", "keys"),
    HOSTILE,
    ids=[f"{p[0].split('_', 1)[1][:-3]}-{i}" for i, p in enumerate(HOSTILE)],
)
def test_hostile_links_give_defaults_and_one_message(page, params, keys):
    at = open_page(page, params)
    text = message(at)
    assert text.startswith("Part of this link could not be used") and all(f"'{k}'" in text for k in keys), (
        text
    )
    for key in keys:
        assert key not in at.query_params  # rewritten with what is actually shown
    at.run()  # the next interaction: the message goes once the state changes, never an exception
    assert not at.exception


VALID_WITH_FRAME_KEYS = [
    (KERNELS, {"kernel": "sobel_y", "stride": "2"}),
    (SHAPES, {"k": "5", "s": "1"}),
    (TRAINING, {"epochs": "2"}),
    (DRAW, {"pen": "30"}),
]


@pytest.mark.parametrize(("page", "params"), VALID_WITH_FRAME_KEYS, ids=lambda v: str(v)[:24])
def test_page_keys_beside_the_frame_keys_give_no_message(page, params):
    """The frame reads its own keys (present, lesson, ...) and leaves the page's keys to the page."""
    at = open_page(page, {"present": "1", **params})
    assert message(at) == ""
    assert all(at.query_params[k] == v for k, v in params.items()) and at.query_params["present"] == "1"
