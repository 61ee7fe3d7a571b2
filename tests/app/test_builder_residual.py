"""AppTest: Residual blocks on the Model builder (issue 26) - the Small ResNet preset and its summary,
a block added and its inner layers edited as JSON text, bad text refused in words. Trains nothing."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from cnnlib import spec as S
from cnnlib.spec import PRESETS
from tests.conftest import open_app, unlinked

PAGE = "pages/3_model_builder.py"
RESNET = "Small ResNet"


def open_builder() -> AppTest:
    at = open_app(PAGE)
    at.session_state["badd_box"] = True  # the "Add" popover is built only when open
    at.run()
    return at


def run_ok(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def key_starting(widgets, prefix: str):
    found = [w for w in widgets if w.key and w.key.startswith(prefix)]
    assert found, f"no widget with a key starting {prefix!r}"
    return found[0]


def summary(at: AppTest) -> str:
    return unlinked(next(m.value for m in at.markdown if m.value.startswith("| # | layer |")))


def page_text(at: AppTest) -> str:
    return unlinked(
        " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.metric, *at.info, *at.success])
    )


def block_box(at: AppTest):
    return key_starting(at.text_area, "bf_")


def load_resnet() -> AppTest:
    at = open_builder()
    assert RESNET in at.selectbox(key="bpreset").options
    at.selectbox(key="bpreset").set_value(RESNET)
    run_ok(at)
    at.button(key="bload_preset").click()
    return run_ok(at)


def test_the_resnet_preset_loads_with_its_summary():
    at = load_resnet()
    assert at.session_state["builder_spec"] == PRESETS[RESNET].to_dict()
    table = summary(at).replace("\\", "")  # Markdown escapes
    assert "Residual(5 layers, skip: identity)" in table
    assert "Residual(5 layers, skip: 1x1, s=2)" in table
    assert "19,810" in page_text(at)  # PyTorch's count, as the preset's note and totals say
    assert not at.error


def test_a_block_is_edited_as_json_with_its_inside_shown():
    at = load_resnet()
    key_starting(at.selectbox, "bsel_").set_value(5)  # layer 6, the block that halves the image
    run_ok(at)
    box = block_box(at)
    assert json.loads(box.value) == [S.token.compact_layer(x) for x in PRESETS[RESNET].layers[5].inner]
    assert "skip: 1x1 conv+BN 8→16, s=2 of the input" in page_text(at)
    one_conv = {"type": "Conv2d", "out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1}
    box.set_value(json.dumps([one_conv]))
    run_ok(at)
    spec = S.ModelSpec.from_dict(at.session_state["builder_spec"])
    assert [x.type for x in spec.layers[5].inner] == ["Conv2d"] and not at.error
    assert S.totals(spec).params == 19_810 - 3_520 + 1_168  # the block's two convs and BNs -> one conv
    assert "6.1 Conv2d(8→16, 3x3, s=2, p=1) → 16 × 14 × 14" in page_text(at)


def test_bad_block_text_is_refused_and_keeps_the_model():
    at = load_resnet()
    key_starting(at.selectbox, "bsel_").set_value(3)
    run_ok(at)
    before = at.session_state["builder_spec"]
    for text, words in [
        ("[{'type': 'ReLU'}]", "not valid JSON"),
        ('{"type": "ReLU"}', "must be a JSON list"),
        ('[{"type": "Residual", "layers": [{"type": "ReLU"}]}]', "one level deep"),
        ('[{"type": "Flatten"}]', "put the Flatten after the block"),
        ('[{"type": "Conv2d", "out_channels": 8}]', 'needs the field "kernel_size"'),
    ]:
        block_box(at).set_value(text)
        run_ok(at)
        assert at.session_state["builder_spec"] == before
        assert any(words in e.value for e in at.error), (text, [e.value for e in at.error])


def test_a_residual_block_is_added_from_the_layer_list():
    at = open_builder()
    n = len(at.session_state["builder_spec"]["layers"])
    at.selectbox(key="badd_type").set_value("Residual")
    run_ok(at)
    key_starting(at.selectbox, "badd_pos_").set_value(n)
    run_ok(at)
    at.button(key="badd_btn").click()
    run_ok(at)
    layers = at.session_state["builder_spec"]["layers"]
    assert len(layers) == n + 1 and layers[n]["type"] == "Residual"
    assert [x["type"] for x in layers[n]["layers"]] == [
        "Conv2d",
        "BatchNorm2d",
        "ReLU",
        "Conv2d",
        "BatchNorm2d",
    ]
    assert "Residual" in json.loads(json.dumps(layers[n]))["type"] and block_box(at).value.startswith("[")
