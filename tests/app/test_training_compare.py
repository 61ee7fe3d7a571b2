"""AppTest: "Compare: same run, but ..." on the Training page: two runs in turn, overlaid, tabulated."""

from __future__ import annotations

import time

from tests.app.plotly_specs import plotly_specs
from tests.app.test_training import PAGE, _setup_small


def _open_compare(at, change: str):
    at.session_state["tr_cmp_box"] = True  # the keyed expander, opened
    at.run()
    at.selectbox(key="tr_cmp_change").set_value(change).run()
    assert not at.exception, at.exception
    return at


def _texts(at) -> str:
    return "\n".join(
        str(e.value) for kind in ("error", "warning", "markdown", "caption") for e in getattr(at, kind)
    )


def test_compare_weight_decay_trains_both_in_turn_and_shows_both(open_page):
    at = open_page(PAGE, timeout=120)
    _setup_small(at)
    _open_compare(at, "weight_decay")
    at.button(key="tr_cmp_start").click().run()
    assert not at.exception, at.exception
    job = at.session_state["train_compare"]
    assert job.runs[0].config.seed == job.runs[1].config.seed
    for _ in range(900):  # a guard against hanging, not a timing assertion
        if job.done:
            break
        assert not (job.runs[0].snapshot().status == "running" and job.runs[1].snapshot().status == "running")
        time.sleep(0.2)
        at.run()
    at.run()
    assert job.done and [r.snapshot().status for r in job.runs] == ["finished", "finished"]
    assert not at.exception, at.exception
    table = at.dataframe[-1].value
    assert list(table["run"]) == ["A", "B"]
    assert list(table["setting"]) == ["weight decay 0", "weight decay 0.001"]
    assert all(v.endswith("%") for v in table["test acc"])
    assert "Same run, but weight decay 0.001 instead of 0" in _texts(at)
    specs = [s for k, s in plotly_specs(at) if "A training" in s]
    assert specs, "the overlaid curves"


def test_a_change_that_changes_nothing_is_refused_in_words_and_nothing_starts(open_page):
    at = open_page(PAGE, timeout=120)
    _setup_small(at)  # Adam
    _open_compare(at, "optimizer")
    at.selectbox(key="tr_cmp_optimizer").set_value("adam").run()
    at.button(key="tr_cmp_start").click().run()
    assert not at.exception, at.exception
    assert "Cannot compare: Both runs would have the same optimizer" in _texts(at)
    assert "train_compare" not in at.session_state
    assert at.session_state["train_run"] is None if "train_run" in at.session_state else True


def test_a_comparison_is_a_link_that_opens_it_and_never_starts_it():
    from tests.app.test_links import TRAINING, reopen
    from tests.app.test_links import open_page as open_linked

    at = open_linked(TRAINING)
    _open_compare(at, "dropout")
    at.slider(key="tr_cmp_dropout").set_value(0.3).run()
    assert at.query_params["compare"] == "dropout:0.3"
    again = reopen(at, TRAINING)
    assert again.selectbox(key="tr_cmp_change").value == "dropout"
    assert again.slider(key="tr_cmp_dropout").value == 0.3
    assert "train_compare" not in again.session_state, "a link never starts the runs"
    linked = open_linked(TRAINING, {"compare": "augment:shift+flip"})
    assert linked.multiselect(key="tr_cmp_augment").value == ["shift", "flip"]


def test_a_hostile_comparison_link_gets_the_defaults_and_one_message():
    from tests.app.test_links import TRAINING, message
    from tests.app.test_links import open_page as open_linked

    for bad in ("bogus:1", "lr:-5", "train_size:3", "augment:teleport", "x" * 500):
        at = open_linked(TRAINING, {"compare": bad})
        assert not at.exception, at.exception
        assert "'compare'" in message(at) and "could not be used" in message(at), (bad, message(at))
        assert "compare" not in at.query_params  # rewritten with what is actually shown


def test_transfer_from_the_digit_model_shows_frozen_parameters_apart(open_page):
    at = open_page(PAGE, timeout=120)
    _setup_small(at)  # the shapes: colour 32x32, made grey 28x28 for the digit model
    _open_compare(at, "pretrained")
    at.button(key="tr_cmp_start").click().run()
    assert not at.exception, at.exception
    job = at.session_state["train_compare"]
    for _ in range(900):  # a guard against hanging, not a timing assertion
        if job.done:
            break
        time.sleep(0.2)
        at.run()
    at.run()
    table = at.dataframe[-1].value
    assert "trainable" not in table["parameters"][0] and "trainable +" in table["parameters"][1]
    assert table["parameters"][1].endswith("frozen")
    assert list(table["setting"])[1].startswith("the digit model's trained layers, frozen")
