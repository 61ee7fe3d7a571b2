"""comparison_figure: both runs' training and validation lines, on the loss and the accuracy axes."""

import plotly.graph_objects as go

from cnnlib.plots import RUN_COLOURS, Curves, comparison_figure


def test_each_run_draws_its_four_lines_with_its_own_colour():
    a = Curves(
        "a",
        epochs=[1, 2, 3],
        train_loss=[1.0, 0.6, 0.4],
        val_loss=[1.1, 0.8, 0.9],
        train_acc=[0.5, 0.8, 0.9],
        val_acc=[0.4, 0.7, 0.7],
        x_end=5,
    )
    b = Curves("b", epochs=[1], train_loss=[0.9], val_loss=[1.0], train_acc=[0.6], val_acc=[0.5])
    fig = comparison_figure(a, b, ("weight decay 0", "weight decay 0.001"))
    go.Figure(fig)  # a valid figure
    traces = fig["data"]
    assert len(traces) == 8
    loss = {t["name"]: t for t in traces if t["yaxis"] == "y"}
    assert loss["A validation: weight decay 0"]["y"] == [1.1, 0.8, 0.9]
    assert loss["A validation: weight decay 0"]["showlegend"] is True  # the legend names each line once
    acc = [t for t in traces if t["yaxis"] == "y2" and t["name"].startswith("B training")]
    assert acc[0]["y"] == [0.6] and acc[0]["line"]["color"] == RUN_COLOURS[1]
    assert {t["line"]["dash"] for t in traces if "validation" in t["name"]} == {"dash"}
    assert fig["layout"]["xaxis"]["range"] == [0.5, 5.5]  # the planned epochs of the longer run
