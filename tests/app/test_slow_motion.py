"""AppTest: the "One step in slow motion" tab, walked step by step and checked against torch.

Most tests run `render_slow_motion()` in a tiny harness script (no frame: page links need app.py
as the entry point); one opens it through app.py -> pages/4_training.py -> the slow-motion tab.
Every shown number is compared with a plain PyTorch recomputation from the same seed and batch.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest
from torch.utils.data import DataLoader, TensorDataset

from cnnlib.data import load_dataset, normalize
from cnnlib.spec import DEFAULT_PRESET, PRESETS, build_model
from tests.conftest import ROOT

STEP_KEYS = ["step_zero_grad", "step_forward", "step_loss", "step_backward", "step_step"]


def _harness(root: str) -> None:
    import sys

    if root not in sys.path:
        sys.path.insert(0, root)
    import streamlit as st

    st.set_page_config(layout="wide")
    from pages.ui.glossary import render_glossary
    from pages.ui.training.slow_motion import render_slow_motion

    with st.sidebar:
        render_glossary()
    render_slow_motion()


def _open(**state) -> AppTest:
    at = AppTest.from_function(_harness, args=(str(ROOT),), default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label.startswith(label)]
    assert found, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return found[-1]


def _num(at: AppTest, label: str) -> float:
    return float(_metric(at, label).replace(",", ""))


def _click(at: AppTest, key: str) -> None:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def _reference(batch_size: int = 16, shuffle: bool = True, seed: int = 0, dataset: str = "mnist-sample"):
    """A plain PyTorch training step on the same batch, from the same seed: the default model (the
    Digit CNN), its dropout masks drawn from seed * 1000 + 1 (round 1), as SlowStep draws them."""
    bundle = load_dataset(dataset)
    loader = DataLoader(
        TensorDataset(bundle.train_images, bundle.train_labels),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed),
    )
    images, y = next(iter(loader))
    x = normalize(images, bundle)  # [B, C, H, W]
    torch.manual_seed(seed)
    model = build_model(PRESETS[DEFAULT_PRESET])
    model.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed * 1000 + 1)
        logits = model(x)  # [B, 10]
    loss = F.cross_entropy(logits, y)
    loss.backward()
    w = model[0].weight
    return {
        "x": x,
        "y": y,
        "logits": logits.detach(),
        "probs": torch.softmax(logits.detach(), dim=1),
        "loss": loss.item(),
        "w": w[0, 0, 0, 0].item(),
        "grad": w.grad[0, 0, 0, 0].item(),
        "model": model,
    }


def _close(shown: float, expected: float, digits: int = 6) -> bool:
    """Equal to the shown number of significant digits."""
    return math.isclose(shown, expected, rel_tol=10 ** (1 - digits), abs_tol=1e-12)


def test_walk_the_five_steps_sgd_against_torch():
    at = _open()
    assert _metric(at, "Batch tensor shape") == "[16, 1, 28, 28]"
    assert _metric(at, "Batches per epoch") == "250"
    ref = _reference()
    # buttons are enabled in order
    assert [at.button(key=k).disabled for k in STEP_KEYS] == [False, True, True, True, True]
    _click(at, "step_zero_grad")
    assert [at.button(key=k).disabled for k in STEP_KEYS] == [True, False, True, True, True]
    assert any("Round 1" in m.value for m in at.markdown)
    _click(at, "step_forward")
    assert _metric(at, "Logits") == "[16, 10]"
    shown = at.session_state["slow_motion"]["setup"].slow.results["forward"]
    torch.testing.assert_close(shown.logits, ref["logits"])
    torch.testing.assert_close(shown.probs, ref["probs"])
    i, yi = shown.shown[0], int(ref["y"][shown.shown[0]])
    assert f"{float(ref['probs'][i, yi]):.4g}" in at.latex[0].value  # softmax with the numbers in
    table = at.dataframe[0].value
    assert table.iloc[1][str(yi)] == pytest.approx(float(ref["probs"][i, yi]), abs=1e-4)
    _click(at, "step_loss")
    assert _close(_num(at, "Loss (cross-entropy)"), ref["loss"])
    assert _close(_num(at, "Mean of −log p(true class)"), ref["loss"])
    assert f"{ref['loss']:.6g}" in at.latex[1].value
    _click(at, "step_backward")
    assert _close(_num(at, "Weight conv1.weight[0, 0, 0, 0]"), ref["w"])
    assert _close(_num(at, "Its gradient"), ref["grad"])
    _click(at, "step_step")
    before, after = _num(at, "Weight before"), _num(at, "Weight after")
    assert _close(before, ref["w"], 7)
    assert any(f"gradient was **{ref['grad']:.6g}**" in m.value for m in at.markdown)
    expected_after = ref["w"] - 0.05 * ref["grad"]  # SGD: w - lr * grad
    assert _close(after, expected_after, 6)
    # the shown update equals the change in the model's parameter
    model = at.session_state["slow_motion"]["setup"].slow.model
    assert _close(after, model[0].weight[0, 0, 0, 0].item(), 7)
    assert _close(_num(at, "Change"), model[0].weight[0, 0, 0, 0].item() - ref["w"], 4)
    assert any("0.05 \\times" in lat.value for lat in at.latex)
    # predict, then reveal: recompute the loss after a manual SGD step
    with torch.no_grad():
        for p in ref["model"].parameters():
            p -= 0.05 * p.grad
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(1)  # the forward pass's dropout masks (seed 0, round 1)
            loss_after = F.cross_entropy(ref["model"](ref["x"]), ref["y"]).item()
    at.radio(key="sm_predict").set_value("down").run()
    _click(at, "reveal_loss")
    assert _close(_num(at, "Loss after the step"), loss_after)
    assert _close(_num(at, "Loss before the step"), ref["loss"])
    verdict = (at.success[0].value if at.success else at.warning[0].value).lower()
    assert ("down" if loss_after < ref["loss"] else "up") in verdict
    # a new round starts with zero_grad; reset goes back to a fresh model
    assert [at.button(key=k).disabled for k in STEP_KEYS] == [False, True, True, True, True]
    _click(at, "step_zero_grad")
    assert _close(_num(at, "conv1.weight[0, 0, 0, 0].grad before"), ref["grad"])
    _click(at, "step_reset")
    slow = at.session_state["slow_motion"]["setup"].slow
    assert slow.round == 1 and slow.next_step == "zero_grad" and not slow.results
    assert slow.model[0].weight[0, 0, 0, 0].item() == ref["w"]


def test_adam_update_is_the_models_change():
    at = _open()
    at.selectbox(key="sm_optimizer").set_value("adam").run()
    at.number_input(key="sm_lr").set_value(0.001).run()
    for key in STEP_KEYS:
        _click(at, key)
    slow = at.session_state["slow_motion"]["setup"].slow
    state = slow.optimizer.state[slow.model[0].weight]
    m, v, t = float(state["exp_avg"][0, 0, 0, 0]), float(state["exp_avg_sq"][0, 0, 0, 0]), int(state["step"])
    before, after = _num(at, "Weight before"), _num(at, "Weight after")
    m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
    assert _close(after, before - 0.001 * m_hat / (math.sqrt(v_hat) + 1e-8), 6)
    assert _close(after, slow.model[0].weight[0, 0, 0, 0].item(), 7)
    text = " ".join(lat.value for lat in at.latex)
    assert "\\hat m" in text and f"{m:.6g}" in text and f"{v:.6g}".split("e")[0] in text


def test_learning_rate_zero_moves_nothing_and_says_why():
    at = _open()
    at.number_input(key="sm_lr").set_value(0.0).run()
    assert any("Learning rate 0" in w.value for w in at.warning)
    for key in STEP_KEYS:
        _click(at, key)
    assert _metric(at, "Weight before") == _metric(at, "Weight after")
    assert _num(at, "Change") == 0
    assert any("learning rate is 0" in i.value for i in at.info)
    at.radio(key="sm_predict").set_value("same").run()
    _click(at, "reveal_loss")
    assert _metric(at, "Loss after the step") == _metric(at, "Loss before the step")
    assert "stayed the same" in at.success[0].value


def test_batch_controls_and_shapes_dataset():
    at = _open()
    at.number_input(key="sm_batch_size").set_value(4).run()
    at.toggle(key="sm_shuffle").set_value(False).run()
    assert _metric(at, "Batch tensor shape") == "[4, 1, 28, 28]"
    assert _metric(at, "Batches per epoch") == "1,000"
    bundle = load_dataset("mnist-sample")
    slow = at.session_state["slow_motion"]["setup"].slow
    assert slow.y.tolist() == bundle.train_labels[:4].tolist()  # no shuffle: the first four images
    at.selectbox(key="sm_dataset").set_value("shapes").run()
    assert not at.exception
    assert _metric(at, "Batch tensor shape") == "[4, 3, 32, 32]"
    assert any("fitted to the Synthetic shapes" in c.value for c in at.caption)
    for key in STEP_KEYS[:3]:
        _click(at, key)
    assert _metric(at, "Logits") == "[4, 4]"


def test_choose_another_weight():
    at = _open()
    at.selectbox(key="sm_weight_param").set_value("14.weight").run()  # the Digit CNN's Linear layer
    at.number_input(key="sm_weight_pos").set_value(582).run()  # [1, 6] of a [10, 576] weight
    assert any("`fc1.weight[1, 6]`" in m.value for m in at.markdown)
    ref = _reference()
    for key in STEP_KEYS[:4]:
        _click(at, key)
    grad = float(ref["model"][14].weight.grad[1, 6])
    assert _close(_num(at, "Its gradient"), grad)
    _click(at, "step_step")
    assert _close(_num(at, "Weight after"), ref["model"][14].weight[1, 6].item() - 0.05 * grad, 6)


def test_model_that_cannot_fit_gets_a_clear_message():
    bad = {"input_shape": [1, 28, 28], "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3}]}
    at = _open(model_spec=bad)
    assert not at.exception
    assert at.error and "does not fit" in at.error[0].value
    assert not [b for b in at.button if b.key and b.key.startswith("step_")]


def test_glossary_popover_lists_the_terms():
    at = _open()
    assert not any("Glossary" in m.value for m in at.sidebar.markdown)  # closed: not sent
    at = _open(glossary_popover=True)  # opened
    text = " ".join(m.value for m in at.sidebar.markdown)
    for term in [
        "tensor",
        "channel",
        "feature map",
        "kernel",
        "stride",
        "padding",
        "logit",
        "softmax",
        "loss",
    ]:
        assert f"**{term}**" in text
    for term in ["gradient", "epoch", "batch", "learning rate"]:
        assert f"**{term}**" in text


def test_through_the_training_page():
    page = (ROOT / "pages" / "4_training.py").read_text()
    if "render_slow_motion" not in page:
        pytest.skip("the Training page does not host the slow-motion tab yet")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/4_training.py").run()
    labels = [t.label for t in at.tabs if "slow motion" in t.label.lower()]
    assert labels, [t.label for t in at.tabs]
    at.session_state["train_tab"] = labels[0]  # open the lazy tab, as a click on it does
    at.run()
    assert not at.exception, at.exception
    ref = _reference()
    for key in STEP_KEYS:
        _click(at, key)
    assert _close(_num(at, "Loss (cross-entropy)"), ref["loss"])
    assert _close(_num(at, "Its gradient"), ref["grad"])
    assert _close(_num(at, "Weight after"), ref["w"] - 0.05 * ref["grad"], 6)


def test_huge_learning_rate_and_tiny_batch_never_crash():
    at = _open()
    at.number_input(key="sm_lr").set_value(10.0).run()
    at.number_input(key="sm_batch_size").set_value(1).run()
    for _round in range(2):
        for key in STEP_KEYS:
            at.button(key=key).click().run()
            assert not at.exception, at.exception
            for e in at.error:  # a blown-up network is explained, never a traceback
                assert "learning rate" in e.value
        if at.error:
            break
        at.button(key="reveal_loss").click().run()
        assert not at.exception
    assert _metric(at, "Batch tensor shape") == "[1, 1, 28, 28]"
