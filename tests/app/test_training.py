"""AppTest: the Training page through app.py: a short run to the end, the results, bad input.

`run_every` fragments do not tick under AppTest: each `at.run()` is one poll of the run.
"""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.plotly_specs import plotly_specs

PAGE = "pages/4_training.py"


def _texts(elements) -> list[str]:
    return [e.value for e in elements]


def _setup_small(at: AppTest, model: str = "TinyCNN") -> None:
    at.selectbox(key="tr_dataset").set_value("shapes")
    at.selectbox(key="tr_model").set_value(model)
    at.number_input(key="tr_ep").set_value(1)
    at.number_input(key="tr_bs").set_value(128)
    at.run()
    assert not at.exception, at.exception


def _poll_until_done(at: AppTest, max_polls: int = 600):
    run = at.session_state["train_run"]
    for _ in range(max_polls):  # a guard against hanging, not a timing assertion
        at.run()
        if run.done:
            break
        time.sleep(0.1)
    at.run()  # the full rerun the fragment asks for when the run ends
    return run


def test_page_opens_with_intro_buttons_and_tabs(open_page):
    at = open_page(PAGE, timeout=120)
    assert at.title[0].value.endswith("Training")
    assert any("Training is a loop" in m.value for m in at.markdown)
    keys = [b.key for b in at.button]
    assert "train_start" in keys and "train_stop" in keys
    assert at.selectbox(key="tr_dataset").value == "mnist-sample"
    assert at.session_state["train_tab"].endswith("Train")


def test_stop_when_nothing_runs_is_harmless(open_page):
    at = open_page(PAGE, timeout=120)
    at.button(key="train_stop").click().run()
    assert not at.exception
    assert any("Nothing is training" in t for t in _texts(at.info))
    assert "train_run" not in at.session_state


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("tr_lr", 0.0, "learning rate must be above 0"),
        ("tr_lr", -0.01, "learning rate must be above 0"),
        ("tr_lr", 1e7, "at most 1e+06"),
        ("tr_ep", 0, "number of epochs must be from 1"),
        ("tr_bs", 3000, "larger than the"),
        ("tr_bs", 100_000, "batch size must be from 1"),
        ("tr_train_size", 5000, "number of training images must be at most"),
    ],
)
def test_bad_settings_get_a_message_and_train_does_nothing(key, value, message, open_page):
    at = open_page(PAGE, timeout=120)
    at.session_state["tr_more_open"] = True  # "More settings" (training images) are built only while open
    at.selectbox(key="tr_dataset").set_value("shapes").run()
    at.number_input(key=key).set_value(value).run()
    assert not at.exception
    assert any(message in t for t in _texts(at.error)), _texts(at.error)
    at.button(key="train_start").click().run()
    assert any("Cannot train yet" in t for t in _texts(at.error))
    assert "train_run" not in at.session_state
    assert at.selectbox(key="tr_dataset").value == "shapes"  # nothing else lost


def test_builder_model_without_linear_layer_gets_a_message(open_page):
    at = open_page(PAGE, timeout=120)
    at.session_state["model_spec"] = {
        "input_shape": [1, 28, 28],
        "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "ReLU"}],
    }
    at.run()
    assert at.selectbox(key="tr_model").value.startswith("Your model")
    assert any("no Linear layer" in t for t in _texts(at.error)), _texts(at.error)
    at.button(key="train_start").click().run()
    assert "train_run" not in at.session_state


def test_zip_that_is_not_a_zip_gets_a_message(open_page):
    at = open_page(PAGE, timeout=120)
    at.selectbox(key="tr_dataset").set_value("upload").run()
    at.get("file_uploader")[0].upload("cats.zip", b"this is not a zip", "application/zip")
    at.run()
    assert not at.exception
    assert at.error, "a clear message for a broken upload"


def test_zip_with_one_class_only_gets_a_message(open_page):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("cats/readme.txt", "not an image")
    at = open_page(PAGE, timeout=120)
    at.selectbox(key="tr_dataset").set_value("upload").run()
    at.get("file_uploader")[0].upload("cats.zip", buf.getvalue(), "application/zip")
    at.run()
    assert not at.exception and at.error


def test_short_run_finishes_and_shows_the_results(open_page):
    at = open_page(PAGE, timeout=120)
    _setup_small(at)
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    assert at.session_state["train_settings_open"] is False, "settings fold away so the chart fits the screen"
    run = _poll_until_done(at)
    assert run.status == "finished", run.snapshot().message
    assert any("test accuracy" in p.proto.text for p in at.get("progress"))
    assert len(at.session_state["train_history"]) == 1
    models = at.session_state["trained_models"]
    assert len(models) == 1 and set(models[0]) >= {
        "name",
        "spec",
        "state_dict",
        "classes",
        "dataset",
        "test_accuracy",
        "mean",
        "std",
    }
    assert models[0]["classes"] == ["circle", "square", "diagonal", "ring"]

    at.button(key="train_to_results").click().run()
    assert "Results" in at.session_state["train_tab"]
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    assert labels["Test accuracy"].endswith("%")
    charts = [spec for _, spec in plotly_specs(at)]
    assert any("predicted class" in spec for spec in charts), "confusion matrix"
    assert any('"precision"' in spec for spec in charts), "per-class metrics"
    assert any(m.label == "Hardest class" for m in at.metric)
    assert at.get("download_button")


def test_train_twice_gives_a_message_and_keeps_the_first_run(open_page):
    at = open_page(PAGE, timeout=120)
    _setup_small(at)
    at.number_input(key="tr_ep").set_value(50).run()
    at.button(key="train_start").click().run()
    first = at.session_state["train_run"]
    at.button(key="train_start").click().run()
    assert any("already training" in t for t in _texts(at.warning))
    assert at.session_state["train_run"] is first
    at.button(key="train_stop").click().run()
    assert first.wait(60)
    assert first.status == "stopped"
    at.run()
    assert not at.exception


def test_leaving_the_page_mid_run_keeps_the_run_and_the_view_picks_it_up(open_page):
    at = open_page(PAGE, timeout=120)
    _setup_small(at)
    at.number_input(key="tr_ep").set_value(50).run()
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    at.switch_page("app.py").run()
    assert not at.exception
    assert not run.done, "training goes on while the student is elsewhere"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.session_state["train_run"] is run
    assert at.selectbox(key="tr_dataset").value == "shapes"  # settings survive the trip
    assert at.number_input(key="tr_ep").value == 50
    assert any("batch" in p.proto.text for p in at.get("progress"))
    run.stop()
    assert run.wait(60)


def test_model_too_big_for_the_server_gets_a_message(open_page):
    at = open_page(PAGE, timeout=120)
    at.session_state["model_spec"] = {
        "input_shape": [1, 28, 28],
        "layers": [
            {"type": "Conv2d", "out_channels": 64, "kernel_size": 3, "padding": 1},
            {"type": "Flatten"},
            {"type": "Linear", "out_features": 4096},
            {"type": "Linear", "out_features": 10},
        ],
    }
    at.run()
    assert any("too big" in t for t in _texts(at.error)), _texts(at.error)
    at.button(key="train_start").click().run()
    assert "train_run" not in at.session_state and not at.exception


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10"])
def test_download_dataset_offline_gives_a_clear_message_and_is_not_retried_every_run(
    name, monkeypatch, tmp_path, open_page
):
    from cnnlib.data import downloads as DL  # where the download probe looks up socket.create_connection

    calls = []

    def offline(address, timeout=None):  # no network, for sure (also on a CI box that has one)
        calls.append(address)
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(DL.socket, "create_connection", offline)
    monkeypatch.setenv("CNN_CLASSROOM_DATA", str(tmp_path))  # an empty cache
    at = open_page(PAGE, timeout=120)
    at.selectbox(key="tr_dataset").set_value(name).run()
    assert not at.exception
    assert at.button(key=f"tr_fetch_{name}") and not calls  # nothing is downloaded until asked
    at.button(key=f"tr_fetch_{name}").click().run()
    assert not at.exception
    errors = _texts(at.error)
    assert any(
        "could not be downloaded" in e and "Synthetic shapes" in e and "MNIST sample" in e for e in errors
    )
    assert (
        any("Cannot" in e or "Choose a dataset" in e for e in errors)
        or not at.button(key="train_start").disabled
    )
    tried = len(calls)
    assert tried >= 1 and at.button(key=f"tr_retry_{name}")
    at.number_input(key="tr_ep").set_value(2).run()  # another rerun: not tried again, message kept
    assert len(calls) == tried and at.button(key=f"tr_retry_{name}") and at.error
    at.button(key="train_start").click().run()  # Train explains instead of crashing
    assert any("Cannot train yet" in t for t in _texts(at.error)) and "train_run" not in at.session_state
    at.selectbox(key="tr_dataset").set_value("shapes").run()  # the offline datasets still work
    assert not at.exception and not at.error


def test_augmentation_preview_shows_original_and_augmented_images(open_page):
    at = open_page(PAGE, timeout=120)
    at.session_state["tr_more_open"] = True  # the student opens "More settings"
    at.run()
    at.button_group(key="tr_augment").set_value(["rotate", "shift"]).run()
    assert not at.exception
    charts = [spec for _, spec in plotly_specs(at)]
    assert any("augmented" in spec for spec in charts)


def test_a_queued_run_shows_its_place_and_stop_leaves_the_queue(open_page):
    from cnnlib.training import get_limiter

    limiter = get_limiter()
    saved = limiter.max_runs
    limiter.max_runs = 1
    blocker = limiter.try_acquire("another student")
    assert blocker is not None, "the slot must be free at the start of this test"
    try:
        at = open_page(PAGE, timeout=120)
        _setup_small(at)
        at.button(key="train_start").click().run()
        run = at.session_state["train_run"]
        at.run()
        assert run.status == "queued"
        assert any("number 1" in t for t in _texts(at.info)), _texts(at.info)
        at.button(key="train_stop").click().run()
        assert run.wait(30) and run.status == "stopped"
        at.run()
        assert not at.exception
        assert "train_results_run" not in at.session_state  # nothing trained, no results
    finally:
        blocker.release()
        limiter.max_runs = saved


def test_the_slow_motion_tab_opens_and_results_tab_is_empty_before_training(open_page):
    at = open_page(PAGE, timeout=120)
    tabs = list(at.tabs) if hasattr(at, "tabs") else []
    labels = [t.label for t in tabs]
    slow = next(label for label in labels if "slow motion" in label)
    results = next(label for label in labels if "Results" in label)
    at.session_state["train_tab"] = results
    at.run()
    assert not at.exception and any("No results yet" in t for t in _texts(at.info))
    at.session_state["train_tab"] = slow
    at.run()
    assert not at.exception, at.exception


def test_zip_of_two_class_folders_loads_and_the_model_adapts(open_page):
    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(buf, "w") as z:
        for cls in ("cats", "dogs"):
            for i in range(12):
                png = io.BytesIO()
                Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(png, "PNG")
                z.writestr(f"pets/{cls}/{i}.png", png.getvalue())
    at = open_page(PAGE, timeout=120)
    at.selectbox(key="tr_dataset").set_value("upload").run()
    at.get("file_uploader")[0].upload("pets.zip", buf.getvalue(), "application/zip")
    at.number_input(key="tr_zip_size").set_value(16)
    at.number_input(key="tr_bs").set_value(8)
    at.run()
    assert not at.exception
    assert not at.error, _texts(at.error)
    assert any("3×16×16 → 2 class scores" in c.value for c in at.caption), [c.value for c in at.caption]


def test_a_second_run_with_new_settings_keeps_the_first_for_overlay(open_page):
    at = open_page(PAGE, timeout=120)
    _setup_small(at)
    at.button(key="train_start").click().run()
    first = _poll_until_done(at)
    at.selectbox(key="tr_opt").set_value("sgd")
    at.number_input(key="tr_lr").set_value(0.05).run()
    at.button(key="train_start").click().run()
    second = _poll_until_done(at)
    assert second is not first and second.status == "finished"
    assert [h["run_id"] for h in at.session_state["train_history"]] == [first.id, second.id]
    assert len(at.session_state["trained_models"]) == 2
    live = [c.proto for c in at.get("bidi_component") if "cc_live_plotly" in c.proto.component_name]
    names = [t.get("name") for t in json.loads(json.loads(live[0].json)["figure"])["data"]]
    assert "run 1 · Adam 0.002 · batch 128" in names  # the first run, overlaid on the live chart


def test_learning_rate_1e6_trains_then_stops_with_a_message_naming_it(open_page):
    at = open_page(PAGE, timeout=120)
    _setup_small(at)
    at.selectbox(key="tr_opt").set_value("sgd")
    at.number_input(key="tr_lr").set_value(1e6).run()
    assert not at.error, _texts(at.error)  # allowed: the run itself shows what such a rate does
    at.button(key="train_start").click().run()
    run = _poll_until_done(at)
    assert run.status == "failed"
    shown = _texts(at.error)
    assert any("learning rate (1e+06" in t and "too high" in t and "try 0.05" in t for t in shown), shown
    assert "train_results_run" not in at.session_state  # no results from a blown-up model
    assert not at.session_state["trained_models"]  # nor a broken model on Draw & predict
    at.button(key="train_start").click().run()  # and training again is possible at once
    assert at.session_state["train_run"] is not run
    at.session_state["train_run"].stop()
    assert at.session_state["train_run"].wait(60)


def test_a_builder_model_for_other_data_is_adapted_and_says_how(open_page):
    at = open_page(PAGE, timeout=120)
    at.session_state["model_spec"] = {
        "input_shape": [1, 28, 28],
        "layers": [
            {"type": "Conv2d", "out_channels": 4, "kernel_size": 3},
            {"type": "ReLU"},
            {"type": "Flatten"},
            {"type": "Linear", "out_features": 3},
        ],
    }
    at.run()
    at.selectbox(key="tr_dataset").set_value("shapes").run()
    assert at.selectbox(key="tr_model").value.startswith("Your model")
    notes = [i.value for i in at.info if "Adapted to this dataset" in i.value]
    assert notes and "1×28×28 → 3×32×32" in notes[0] and "3 → 4 outputs" in notes[0], _texts(at.info)
    assert not at.error


def _live_figure(at: AppTest) -> dict:
    live = [c.proto for c in at.get("bidi_component") if "cc_live_plotly" in c.proto.component_name]
    return json.loads(json.loads(live[0].json)["figure"])


def test_the_live_chart_spans_the_planned_epochs_from_the_start(open_page):
    at = open_page(PAGE, timeout=120)
    at.number_input(key="tr_ep").set_value(20).run()
    # Before any run: a picture of the empty panels over the setup's 20 epochs, and no plotly.js.
    assert not [c for c in at.get("bidi_component") if "cc_live_plotly" in c.proto.component_name]
    assert len(at.image) == 1
    _setup_small(at)
    at.number_input(key="tr_ep").set_value(20).run()
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    try:
        at.run()
        fig = _live_figure(at)
        assert all(20 <= fig["layout"][a]["range"][1] <= 21 for a in ("xaxis", "xaxis2", "xaxis3"))
    finally:
        run.stop()
        assert run.wait(60)


def test_predict_then_reveal_answers_with_the_apps_own_verdict(open_page):
    at = open_page(PAGE, timeout=120)
    _setup_small(at)
    at.number_input(key="tr_ep").set_value(3).run()
    at.session_state["train_predict_open"] = True  # the popover is built only while open
    at.run()
    at.radio(key="train_guess").set_value("Yes, validation loss will rise").run()
    assert any("verdict appears here" in c.value for c in at.caption)
    at.button(key="train_start").click().run()
    run = _poll_until_done(at)
    from cnnlib.training import overfitting_flag

    snap = run.snapshot()
    verdict = overfitting_flag(snap.train_loss, snap.val_loss)
    assert any(f"verdict on {run.name}" in m.value and verdict.message in m.value for m in at.markdown)
    boxes = _texts(at.success) if verdict.overfitting else _texts(at.warning)
    assert any("guess matches" in t or "Not this time" in t for t in boxes), boxes


def test_results_gallery_weights_download_and_draw_page(open_page):
    at = open_page(PAGE, timeout=120)
    _setup_small(at)
    at.button(key="train_start").click().run()
    run = _poll_until_done(at)
    at.session_state["train_tab"] = next(t.label for t in at.tabs if "Results" in t.label)
    at.run()
    at.radio(key="train_pred_filter").set_value("wrong only").run()
    assert not at.exception
    ev = at.session_state["train_eval"][1]
    gallery = next(spec for id_, spec in plotly_specs(at) if "train_pred_gallery" in id_)
    titles = [a["text"] for a in json.loads(gallery)["layout"]["annotations"]]
    wrong = int((ev.predictions != ev.labels).sum())
    assert len(titles) == min(16, wrong)
    assert all(t.startswith("✗") and "<br>is " in t for t in titles), titles[:3]
    assert run.status == "finished"
    # The download: {"spec", "state_dict", ...} of tensors and plain data, never a pickled module.
    import io

    import torch

    from cnnlib.spec import ModelSpec, build_model
    from cnnlib.training import export_weights
    from cnnlib.training.evaluation import predict_proba

    assert at.get("download_button")[0].proto.label.endswith("(.pt)")
    data = export_weights(
        run.spec.to_dict(),
        run.model.state_dict(),
        run.classes,
        run.bundle.mean,
        run.bundle.std,
        run.bundle.name,
    )  # what the button's callable returns
    assert b"torch.nn" not in data and b"Sequential" not in data  # no module pickled
    payload = torch.load(io.BytesIO(data), weights_only=True)
    assert set(payload) >= {"spec", "state_dict", "classes", "mean", "std"}
    rebuilt = build_model(ModelSpec.from_dict(payload["spec"]))
    rebuilt.load_state_dict(payload["state_dict"])
    images = run.bundle.test_images[:20]
    same = predict_proba(rebuilt, images, payload["mean"], payload["std"])
    assert same == pytest.approx(predict_proba(run.model, images, run.bundle.mean, run.bundle.std), abs=1e-6)
    # ... and the trained model is offered on Draw & predict.
    at.switch_page("pages/5_draw_and_predict.py").run()
    assert not at.exception
    options = at.selectbox(key="draw_model").options
    assert any("Trained this session" in o and "shapes" in o.lower() for o in options), options


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (12, 12), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"../evil.png": b"x", "cats/0.png": b"x"}, "escapes its folder"),
        ({"a.png": b"x", "b.png": b"x"}, "no class folders"),
        ({"cats/a.txt": b"x", "dogs/b.csv": b"y"}, "no image files"),
        ({"cats/bomb.png": bytes(25 * 1024 * 1024), "dogs/0.png": b"x"}, "limit per image"),
    ],
    ids=["path-escape", "no-class-folders", "non-images", "decompression-bomb"],
)
def test_bad_zips_get_a_message_and_nothing_else_is_lost(files, message, open_page):
    at = open_page(PAGE, timeout=120)
    at.number_input(key="tr_ep").set_value(3).run()
    at.selectbox(key="tr_dataset").set_value("upload").run()
    at.get("file_uploader")[0].upload("data.zip", _zip(files), "application/zip")
    at.run()
    assert not at.exception
    assert any(message in t for t in _texts(at.error)), _texts(at.error)
    at.button(key="train_start").click().run()
    assert "train_run" not in at.session_state and not at.exception
    assert at.number_input(key="tr_ep").value == 3  # the other settings are kept
    good = {f"{c}/{i}.png": _png() for c in ("cats", "dogs") for i in range(6)}
    at.get("file_uploader")[0].upload("good.zip", _zip(good), "application/zip")
    at.number_input(key="tr_bs").set_value(4).run()
    assert not at.error, _texts(at.error)  # a good zip afterwards just works
