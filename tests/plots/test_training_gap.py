"""Unit tests for the live figure's overfitting marks (cnnlib.plots.training): the train/validation
gap shaded between the curves, and the epoch of the lowest validation loss."""

from __future__ import annotations

import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest

from cnnlib.plots import Curves, live_figure_dict
from cnnlib.plots.training import best_epoch, gap_polygon


def _curves(val_loss=(1.1, 0.7, 0.5, 0.6, 0.8), epochs=5) -> Curves:
    e = list(range(1, epochs + 1))
    return Curves(
        name="run",
        epochs=e,
        train_loss=list(np.linspace(1.0, 0.1, epochs)),
        val_loss=list(val_loss)[:epochs],
        train_acc=list(np.linspace(0.5, 0.99, epochs)),
        val_acc=list(np.linspace(0.45, 0.8, epochs)),
    )


def _by_axis(fig: dict, name: str) -> dict[str, dict]:
    return {t["xaxis"]: t for t in fig["data"] if t.get("name") == name}


def test_the_gap_is_a_closed_band_along_train_then_back_along_validation():
    c = _curves()
    fig = live_figure_dict(c)
    bands = _by_axis(fig, "train/validation gap")
    assert set(bands) == {"x", "x2"}  # loss and accuracy panels, not the learning rate's
    loss, acc = bands["x"], bands["x2"]
    mid = [e - 0.5 for e in c.epochs]  # where the train points are drawn
    assert loss["x"] == [*mid, *c.epochs[::-1]]
    np.testing.assert_allclose(loss["y"], [*c.train_loss, *c.val_loss[::-1]], rtol=1e-4)
    np.testing.assert_allclose(acc["y"], [*c.train_acc, *c.val_acc[::-1]], rtol=1e-4)
    assert loss["fill"] == "toself" and loss["line"]["width"] == 0 and loss["hoverinfo"] == "skip"
    assert loss["yaxis"] == "y" and acc["yaxis"] == "y2"
    assert loss["showlegend"] and not acc["showlegend"]  # one legend entry for both bands
    names = [t.get("name") for t in fig["data"]]
    assert names.index("train/validation gap") < names.index("validation")  # drawn under the curves
    go.Figure(fig)  # plotly accepts it
    json.dumps(fig, allow_nan=False)


def test_the_band_follows_the_plotted_curves_on_every_update():
    c = _curves()
    fig = live_figure_dict(c)
    plotted = {(t["name"], t["xaxis"]): t for t in fig["data"] if t.get("name")}
    band = _by_axis(fig, "train/validation gap")["x"]
    train, val = plotted[("train (epoch average)", "x")], plotted[("validation", "x")]
    assert band["x"] == train["x"] + val["x"][::-1] and band["y"] == train["y"] + val["y"][::-1]
    c.val_loss = c.val_loss[:3]  # validation lags one epoch: the band covers the epochs both have
    band = _by_axis(live_figure_dict(c), "train/validation gap")["x"]
    assert band["x"] == [0.5, 1.5, 2.5, 3, 2, 1]


@pytest.mark.parametrize(
    "val_loss, best",
    [
        ((1.1, 0.7, 0.5, 0.6, 0.8), 3),
        ((0.4, 0.7, 0.9, 1.0, 1.2), 1),
        ((1.0, 0.9, 0.8, 0.7, 0.6), 5),
        ((1.0, 0.5, 0.7, 0.5, 0.9), 2),  # the first of equals
        ((1.0, math.nan, 0.3, math.inf, 0.9), 3),  # non-finite values skipped
    ],
)
def test_the_lowest_validation_loss_is_marked_at_its_argmin(val_loss, best):
    v = np.asarray(val_loss, dtype=np.float64)
    assert best == int(np.argmin(np.where(np.isfinite(v), v, np.inf))) + 1 == best_epoch(val_loss)
    fig = live_figure_dict(_curves(val_loss))
    stars = [t for t in fig["data"] if str(t.get("name", "")).startswith("lowest validation loss")]
    assert len(stars) == 1 and stars[0]["x"] == [best] and stars[0]["xaxis"] == "x"
    assert stars[0]["y"] == pytest.approx([val_loss[best - 1]]) and f"epoch {best}" in stars[0]["name"]
    assert stars[0]["marker"]["symbol"] == "star"
    lines = fig["layout"]["shapes"]
    assert [(s["xref"], s["x0"], s["x1"]) for s in lines] == [("x", best, best), ("x2", best, best)]
    assert {s["yref"] for s in lines} == {"y domain", "y2 domain"}


def test_no_band_or_mark_without_two_epochs_of_both_curves():
    assert gap_polygon([0.5], [1.0], [1], [1.1]) == ([], [])
    assert best_epoch([]) is None and best_epoch([math.nan, None]) is None
    for c in (None, Curves("empty"), _curves(epochs=1)):
        fig = live_figure_dict(c)
        assert not _by_axis(fig, "train/validation gap")
    one = live_figure_dict(_curves(epochs=1))
    assert [s["x0"] for s in one["layout"]["shapes"]] == [1, 1]  # one validation point: its epoch
    no_val = _curves()
    no_val.val_loss, no_val.val_acc = [], []  # a run without a validation split
    fig = live_figure_dict(no_val)
    assert not _by_axis(fig, "train/validation gap") and "shapes" not in fig["layout"]
    assert not any(str(t.get("name", "")).startswith("lowest") for t in fig["data"])
