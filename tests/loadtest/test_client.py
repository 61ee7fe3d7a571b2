"""The load-test client's message encoding (no server): rerun BackMsgs, widget states, canvas value."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from PIL import Image
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from loadtest.harness import pct
from loadtest.ws_client import (
    RunResult,
    StreamlitSession,
    canvas_state_json,
    digit_png,
    element_texts,
    encode_rerun,
    widget_state,
)


def test_rerun_round_trips_like_the_browser_sends_it():
    raw = encode_rerun(
        page_script_hash="abc",
        widgets=[widget_state("$$ID-1-train_start", trigger_value=True)],
        fragment_id="frag",
        is_auto_rerun=True,
        cached_message_hashes=["h1", "h2"],
    )
    msg = BackMsg()
    msg.ParseFromString(raw)
    assert msg.WhichOneof("type") == "rerun_script"
    cs = msg.rerun_script
    assert (cs.page_script_hash, cs.page_name, cs.fragment_id, cs.is_auto_rerun) == ("abc", "", "frag", True)
    assert list(cs.cached_message_hashes) == ["h1", "h2"]
    (w,) = cs.widget_states.widgets
    assert w.id == "$$ID-1-train_start" and w.WhichOneof("value") == "trigger_value" and w.trigger_value


def test_page_by_url_name_sends_an_empty_hash():
    msg = BackMsg()
    msg.ParseFromString(encode_rerun(page_name="kernels"))
    assert msg.rerun_script.page_name == "kernels"
    assert msg.rerun_script.page_script_hash == ""
    assert msg.rerun_script.HasField("widget_states")


def test_widget_state_takes_exactly_one_value():
    assert widget_state("w", json_value="{}").json_value == "{}"
    with pytest.raises(ValueError):
        widget_state("w")
    with pytest.raises(ValueError):
        widget_state("w", int_value=1, bool_value=True)


def test_canvas_value_carries_an_rgba_png_of_a_digit():
    value = json.loads(canvas_state_json(digit_png(280, "7")))
    url = value["drawing"]["data"]
    assert url.startswith("data:image/png;base64,")
    img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert img.size == (280, 280) and img.mode == "RGBA"
    assert value["drawing"]["raw"]["objects"][0]["type"] == "Path"
    assert img.getextrema()[0] == (0, 255)  # black paper, white ink


def _element(kind: str, **fields) -> Element:
    el = Element()
    sub = getattr(el, kind)
    for k, v in fields.items():
        setattr(sub, k, v)
    return el


def test_run_result_finds_widgets_components_and_answer():
    res = RunResult(seconds=1.0, first_delta_s=0.1, status=0)
    res.elements = [
        _element("markdown", body="The network says 7"),
        _element("button", id="$$ID-abc-train_start", label="Train"),
        _element("bidi_component", id="$$ID-d-draw_canvas_0", component_name="x.streamlit_drawable_canvas"),
    ]
    res.arrived = [0.2, 0.3, 0.4]
    assert res.widget_id("train_start") == "$$ID-abc-train_start"
    assert res.widget_id("train_start", "checkbox") is None
    assert res.widget_id("start") is None  # the key is matched after the last dash
    assert res.components("drawable_canvas") == ["$$ID-d-draw_canvas_0"]
    assert res.first_matching(re.compile("network says")) == 0.2
    assert element_texts(res.elements[1]) == ["Train"]


def test_run_result_reads_metrics():
    res = RunResult(seconds=1.0, first_delta_s=0.1, status=0)
    res.elements = [
        _element("metric", label="Speed (images/s)", body="2,149"),
        _element("markdown", body="x"),
    ]
    assert res.metrics() == [("Speed (images/s)", "2,149")]


def test_session_resolves_cached_references():
    s = StreamlitSession("http://127.0.0.1:1")
    big = ForwardMsg()
    big.hash = "h"
    big.metadata.cacheable = True
    big.delta.new_element.markdown.body = "plotly.js"
    assert s._resolve(big) is big and "h" in s.cache
    ref = ForwardMsg()
    ref.ref_hash = "h"
    ref.metadata.delta_path.extend([0, 3])
    full = s._resolve(ref)
    assert full.delta.new_element.markdown.body == "plotly.js"
    assert list(full.metadata.delta_path) == [0, 3]


def test_only_loopback_targets():
    with pytest.raises(ValueError):
        StreamlitSession("http://example.com:80")


def test_percentile_nearest_rank():
    assert pct([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == 10
    assert pct([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50) == 5
    assert pct([3.0], 95) == 3.0


def test_widget_state_fills_array_values():
    ws = widget_state("w", string_array_value=["a", "b"])
    assert list(ws.string_array_value.data) == ["a", "b"]
    assert widget_state("w", bool_value=True).bool_value is True
