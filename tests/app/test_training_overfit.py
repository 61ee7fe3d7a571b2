"""AppTest: overfitting on demand on the Training page: fewer training images and shuffled labels,
set by their widgets or a link, reach the run; a size the data cannot give gets a message."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from tests.conftest import open_app

PAGE = "pages/4_training.py"


def _poll_until_done(at: AppTest, max_polls: int = 600):
    run = at.session_state["train_run"]
    for _ in range(max_polls):  # a guard against hanging, not a timing assertion
        at.run()
        if run.done:
            break
        time.sleep(0.1)
    at.run()
    return run


def test_fewer_images_and_shuffled_labels_reach_the_run(open_page):
    at = open_page(PAGE, timeout=120)
    at.session_state["tr_more_open"] = True  # "More settings" are built only while open
    at.run()
    at.selectbox(key="tr_dataset").set_value("shapes")
    at.selectbox(key="tr_model").set_value("TinyCNN")
    at.number_input(key="tr_ep").set_value(1)
    at.number_input(key="tr_bs").set_value(20)
    at.number_input(key="tr_train_size").set_value(40)
    at.slider(key="tr_noise").set_value(1.0)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.query_params["images"] == "40" and at.query_params["noise"] == "1"
    at.button(key="train_start").click().run()
    run = _poll_until_done(at)
    assert run.status == "finished", run.snapshot().message
    assert run.config.train_size == 40 and run.config.label_noise == 1.0
    snap = run.snapshot()
    assert snap.train_size == 40 and snap.steps_per_epoch == 2


def test_more_images_than_the_data_has_gets_a_message_and_trains_nothing(open_page):
    at = open_page(PAGE, timeout=120)
    at.session_state["tr_more_open"] = True  # "More settings" are built only while open
    at.selectbox(key="tr_dataset").set_value("shapes").run()
    at.number_input(key="tr_train_size").set_value(100_000).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("number of training images must be at most 1,800" in e for e in errors), errors
    at.button(key="train_start").click().run()
    assert "train_run" not in at.session_state
    at.number_input(key="tr_train_size").set_value(0).run()  # 0: all of them
    assert not any("training images" in e.value for e in at.error), [e.value for e in at.error]
    assert "images" not in at.query_params and at.number_input(key="tr_train_size").value == 0


def test_the_settings_travel_in_a_link():
    at = open_app(PAGE, params={"data": "shapes", "images": "200", "noise": "0.5"}, landing=False)
    assert not at.exception and not at.warning
    assert at.number_input(key="tr_train_size").value == 200 and at.slider(key="tr_noise").value == 0.5
    again = open_app(PAGE, params=dict(at.query_params), landing=False)
    assert again.number_input(key="tr_train_size").value == 200 and again.slider(key="tr_noise").value == 0.5
    assert dict(again.query_params) == dict(at.query_params)
    assert "train_run" not in again.session_state or again.session_state["train_run"] is None
    all_again = open_app(PAGE, params={**dict(at.query_params), "images": "all"}, landing=False)
    assert all_again.number_input(key="tr_train_size").value == 0 and "images" not in all_again.query_params
