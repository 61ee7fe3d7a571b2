"""Unit tests for cnnlib.plots.training: smoothing, downsampling and the figures' data."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from cnnlib.plots import (
    Curves,
    confusion_figure,
    curves_from_snapshot,
    feature_maps_figure,
    filters_figure,
    gallery_figure,
    live_figure_dict,
    per_class_figure,
)
from cnnlib.plots.training import LIVE_POINTS, downsample, ema, epoch_ticks, live_figure


def _curves(name="run", n=50, epochs=3):
    x = list(np.linspace(0, epochs, n))
    return Curves(
        name=name,
        batch_x=x,
        batch_loss=list(np.linspace(2.3, 0.3, n)),
        epochs=list(range(1, epochs + 1)),
        train_loss=[1.0, 0.6, 0.4][:epochs],
        val_loss=[1.1, 0.7, 0.5][:epochs],
        train_acc=[0.5, 0.7, 0.8][:epochs],
        val_acc=[0.45, 0.65, 0.75][:epochs],
        lr_x=x,
        lr=[0.01] * n,
    )


@pytest.mark.parametrize("alpha", [0.05, 0.3, 1.0])
def test_ema_matches_the_recurrence(alpha):
    v = np.random.default_rng(0).random(40)
    s = [v[0]]
    for x in v[1:]:
        s.append(alpha * x + (1 - alpha) * s[-1])
    np.testing.assert_allclose(ema(v, alpha), s)


def test_ema_skips_non_finite_values():
    out = ema([np.nan, 1.0, np.inf, 3.0], 0.5)
    assert np.isnan(out[0]) and out[1] == 1.0 and out[2] == 1.0 and out[3] == 2.0


def test_downsample_bounds_and_keeps_last():
    x = list(range(10_001))
    xs, ys = downsample(x, x, 1000)
    assert len(xs) <= 1001 and xs[-1] == 10_000 and xs[0] == 0 and xs == ys
    assert downsample([1, 2], [3, 4], 10) == ([1, 2], [3, 4])


def test_live_figure_has_current_and_earlier_runs():
    fig = live_figure(_curves("now"), [_curves("run 1"), _curves("run 2")])
    names = [t.name for t in fig.data]
    assert names.count("run 1") == 2 and names.count("run 2") == 2
    for name in ("loss per batch", "smoothed", "train (epoch average)", "validation", "learning rate"):
        assert name in names
    assert fig.layout.uirevision == "live"
    smooth = next(t for t in fig.data if t.name == "smoothed")
    np.testing.assert_allclose(smooth.y, ema(np.linspace(2.3, 0.3, 50), 0.1), rtol=1e-4)
    assert fig.layout.yaxis2.tickformat == ".0%" and fig.data[-1].xaxis == "x3"  # lr on the third panel
    json.loads(fig.to_json())


def test_live_figure_dict_is_small_and_json_ready():
    n = 5000
    big = _curves(n=n)
    big.batch_loss = list(np.random.default_rng(0).random(n))
    big.lr = [1e-3] * n
    d = live_figure_dict(big, [big] * 5)
    text = json.dumps(d, allow_nan=False)
    assert len(text) < 120_000
    raw = next(t for t in d["data"] if t["name"] == "loss per batch")
    assert len(raw["x"]) <= LIVE_POINTS + 1 and raw["x"][-1] == pytest.approx(3.0)


def test_rounding_keeps_significant_digits():
    from cnnlib.plots.training import round_values

    assert round_values([0.000123456789, 12345.6789, 0.0, float("nan"), None]) == [
        0.00012346,
        12346.0,
        0.0,
        None,
        None,
    ]


def test_live_figure_empty_and_non_finite():
    fig = live_figure(None)
    assert all(len(t.x) == 0 for t in fig.data) and "Press Train" in fig.layout.annotations[-1].text
    assert {t.xaxis for t in fig.data} == {"x", "x2", "x3"}  # every panel keeps its axes
    c = _curves()
    c.batch_loss[3] = float("nan")
    fig = live_figure(c)
    raw = next(t for t in fig.data if t.name == "loss per batch")
    assert raw.y[3] is None
    json.loads(fig.to_json())


def test_confusion_figure_counts_and_row_shares():
    cm = np.array([[5, 1, 0], [2, 2, 0], [0, 0, 0]])
    fig = confusion_figure(cm, ["a", "b", "c"])
    hm = fig.data[0]
    np.testing.assert_array_equal(np.asarray(hm.text), cm)
    np.testing.assert_allclose(np.asarray(hm.z), [[5 / 6, 1 / 6, 0], [0.5, 0.5, 0], [0, 0, 0]])
    assert list(hm.x) == ["a", "b", "c"] and list(fig.layout.yaxis.range) == [2.5, -0.5]  # row 0 on top
    cells = fig.data[1]  # invisible markers: one per cell, so a click selects a cell
    assert len(cells.x) == 9 and cells.x[1] == "b" and cells.y[1] == "a" and cells.customdata[1][0] == 1


def test_per_class_figure():
    fig = per_class_figure([1, 0.5], [0.5, 1], [0.66, 0.66], ["x", "y"])
    assert [t.name for t in fig.data] == ["precision", "recall", "F1"]
    assert list(fig.data[1].y) == [0.5, 1]


def test_filters_figure_grey_and_rgb():
    w = np.random.default_rng(1).normal(size=(10, 1, 3, 3))
    fig = filters_figure(w)
    assert len(fig.data) == 10 and all(isinstance(t, go.Heatmap) for t in fig.data)
    np.testing.assert_allclose(np.asarray(fig.data[2].z), w[2, 0])
    rgb = filters_figure(np.random.default_rng(2).normal(size=(40, 3, 5, 5)), max_filters=32)
    assert len(rgb.data) == 32 and all(isinstance(t, go.Image) for t in rgb.data)
    json.loads(rgb.to_json())


def test_feature_maps_figure_one_row_per_block():
    maps = [("layer 0: Conv2d", np.zeros((16, 8, 8))), ("layer 3: Conv2d", np.ones((4, 2, 2)))]
    fig = feature_maps_figure(maps, max_channels=8)
    assert len(fig.data) == 8 + 4
    assert "8 of 16" in fig.layout.annotations[0].text


def test_gallery_figure_titles_and_colours():
    imgs = np.random.default_rng(3).integers(0, 255, (5, 1, 6, 6), dtype=np.uint8)
    fig = gallery_figure(imgs, [f"t{i}" for i in range(5)], ["green", "red", "green", "red", "green"], cols=3)
    assert len(fig.data) == 5 and all(isinstance(t, go.Image) for t in fig.data)
    assert [a.font.color for a in fig.layout.annotations] == ["green", "red", "green", "red", "green"]
    assert np.asarray(fig.data[0].z).shape[2] == 3


def test_live_figure_switches_to_a_log_axis_when_the_loss_blows_up():
    c = _curves()
    assert live_figure(c).layout.yaxis.type != "log"
    c.batch_loss[30] = 1e9
    fig = live_figure(c)
    assert fig.layout.yaxis.type == "log" and "blew up" in fig.layout.yaxis.title.text


def _x_ranges(fig: dict) -> list[list[float]]:
    return [fig["layout"][a]["range"] for a in ("xaxis", "xaxis2", "xaxis3")]


def test_the_x_axes_span_the_planned_epochs_from_the_first_batch():
    # 20 epochs planned, 0.4 of the first done: all three panels already reach epoch 20.
    c = _curves(n=10, epochs=1)
    c.batch_x = [x * 0.4 for x in c.batch_x]
    c.lr_x = c.batch_x
    c.epochs, c.train_loss, c.val_loss, c.train_acc, c.val_acc = [], [], [], [], []
    c.x_end = 20
    fig = live_figure_dict(c)
    for lo, hi in _x_ranges(fig):
        assert lo == 0 and 20 <= hi <= 21
    assert fig["layout"]["xaxis"]["dtick"] == 5 and fig["layout"]["xaxis"]["tick0"] == 0
    # before any run: the setup's planned epochs
    assert all(lo == 0 and 10 <= hi <= 10.5 for lo, hi in _x_ranges(live_figure_dict(None, epochs=10)))
    # an earlier, longer run widens the axes so its overlay is not cut off
    long = _curves("run 1", epochs=3)
    long.x_end = 30
    assert _x_ranges(live_figure_dict(c, [long]))[0][1] >= 30


def test_epoch_averages_sit_mid_epoch_and_validation_at_its_end():
    fig = live_figure_dict(_curves())
    by_name = {}
    for t in fig["data"]:
        by_name.setdefault((t.get("name"), t["xaxis"]), t)
    assert by_name[("train (epoch average)", "x")]["x"] == [0.5, 1.5, 2.5]
    assert by_name[("validation", "x")]["x"] == [1, 2, 3]
    assert by_name[("train", "x2")]["x"] == [0.5, 1.5, 2.5]
    assert "average over epoch" in by_name[("train", "x2")]["hovertemplate"]


def test_curves_from_snapshot_reach_the_plan_unless_stopped_early():
    from types import SimpleNamespace

    snap = SimpleNamespace(
        name="r", steps_per_epoch=10, batch_step=(5, 10, 15), batch_loss=(2, 1.5, 1), batch_lr=(0.1,) * 3,
        train_loss=(1.5,), val_loss=(1.4,), train_acc=(0.5,), val_acc=(0.55,), epochs=20, status="running",
    )  # fmt: skip
    assert curves_from_snapshot(snap).extent == 20
    stopped = curves_from_snapshot(SimpleNamespace(**{**vars(snap), "status": "stopped"}))
    assert stopped.x_end is None and stopped.extent == 1.5


@pytest.mark.parametrize(
    ("x_max", "gaps", "tick"),
    [(20, 5, 5), (3, 5, 1), (10, 5, 2), (1, 5, 0.2), (0.3, 5, 0.1), (500, 5, 100), (5, 2, 5)],
)
def test_epoch_ticks_are_round_numbers(x_max, gaps, tick):
    assert epoch_ticks(x_max, gaps) == pytest.approx(tick)
    assert x_max / epoch_ticks(x_max, gaps) <= gaps


def test_many_earlier_runs_make_room_for_the_legend():
    few = live_figure_dict(_curves(), [], height=380)["layout"]["height"]
    many = live_figure_dict(_curves(), [_curves(f"run {i}") for i in range(5)], height=380)["layout"][
        "height"
    ]
    assert few == 380 and many > few
