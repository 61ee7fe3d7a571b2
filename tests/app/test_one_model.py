"""One model story (issue 25): the Model builder, the Training demo, the slow-motion step, the Shape
calculator's stack and Draw & predict all start from one architecture, the bundled digit model's
(the Digit CNN, 29,290 parameters), and name it the same way.

"The same architecture" is what PyTorch builds: the same modules, layer by layer (`repr` of each:
channels, kernel, padding, BatchNorm features, Dropout p, Linear sizes), and the bundled weights load
into it strictly.
"""

from __future__ import annotations

from typing import Any

import torch

from cnnlib.inference import load_pretrained_bundle
from cnnlib.spec import DEFAULT_PRESET, DIGIT_CNN, PRESETS, ModelSpec, auto_inputs, build_model, preset_label
from cnnlib.training import DEMO_SPEC
from pages.ui.shapes.stack import DEFAULT_INPUT, DEFAULT_LAYERS

NAME = "Digit CNN (29,290 parameters)"


def architecture(spec: Any) -> list[str]:
    """What torch builds from a spec (a ModelSpec or its dict): one repr per layer."""
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec.from_dict(spec)
    return [repr(m) for m in build_model(spec)]


def _texts(at: Any) -> str:
    kinds = ("markdown", "caption", "info", "success", "metric", "selectbox")
    out = []
    for kind in kinds:
        for e in getattr(at, kind):
            out.append(str(getattr(e, "value", "")))
            out.extend(str(o) for o in getattr(e, "options", []) or [])
            out.append(str(getattr(e, "label", "")))
    return "\n".join(out)


def test_the_default_is_the_bundled_digit_model():
    bundle = load_pretrained_bundle()
    assert DEFAULT_PRESET == DIGIT_CNN == "Digit CNN" and preset_label(DEFAULT_PRESET) == NAME
    expected = architecture(bundle.spec)
    model = build_model(PRESETS[DIGIT_CNN])
    assert architecture(PRESETS[DIGIT_CNN]) == expected
    model.load_state_dict(bundle.model.state_dict(), strict=True)  # the bundled weights fit it exactly
    assert sum(p.numel() for p in model.parameters()) == 29_290
    x = torch.zeros(2, 1, 28, 28)  # [B, C, H, W]
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), bundle.model(x))
    assert architecture(DEMO_SPEC) == expected
    assert auto_inputs(PRESETS[DIGIT_CNN]).to_dict() == bundle.spec  # the very spec stored with the weights
    assert architecture({"input_shape": list(DEFAULT_INPUT), "layers": DEFAULT_LAYERS}) == expected


def test_every_page_starts_from_the_digit_cnn(open_page):
    """One session walks the five places; each starts from the bundled model's layers, named alike."""
    expected = architecture(load_pretrained_bundle().spec)

    at = open_page("pages/3_model_builder.py", timeout=120)  # 1. the Model builder's default
    assert architecture(at.session_state["builder_spec"]) == expected
    assert at.session_state["builder_name"] == DIGIT_CNN
    assert next(m.value for m in at.metric if m.label == "Parameters") == "29,290"

    at.switch_page("pages/4_training.py").run()  # 2. the Training demo
    assert not at.exception, at.exception
    assert at.selectbox(key="tr_model").value == DIGIT_CNN
    assert "29,290" in _texts(at)  # "· 29,290 parameters" (the word linked to the glossary)

    slow = next(t.label for t in at.tabs if "slow motion" in t.label.lower())  # 3. the slow-motion step
    at.session_state["train_tab"] = slow  # open the lazy tab, as a click on it does
    at.run()
    assert not at.exception, at.exception
    assert architecture(at.session_state["slow_motion"]["setup"].spec) == expected
    assert NAME in _texts(at)

    at.switch_page("pages/2_shape_calculator.py").run()  # 4. the Shape calculator's stack
    at.radio(key="sc_mode").set_value(next(o for o in at.radio(key="sc_mode").options if "Stack" in o)).run()
    assert not at.exception, at.exception
    shape = [int(at.session_state[k]) for k in ("sc_st_c", "sc_st_h", "sc_st_w")]
    stack = {"input_shape": shape, "layers": at.session_state["sc_stack_layers"]}
    assert architecture(stack) == expected
    assert at.selectbox(key="sc_stack_source").value == DIGIT_CNN
    assert next(m.value for m in at.metric if m.label == "Parameters") == "29,290"

    at.switch_page("pages/5_draw_and_predict.py").run()  # 5. Draw & predict: the bundled model itself
    assert not at.exception, at.exception
    menu = at.selectbox(key="draw_model")
    assert menu.value == 0 and menu.options[0].startswith(f"{NAME}, pretrained")
