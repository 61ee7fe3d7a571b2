"""AppTest: slow motion's "Train mode or eval mode?" shows torch's numbers, only when opened."""

from __future__ import annotations

import numpy as np
import torch

from cnnlib.training.one_step import mode_comparison
from tests.app.test_slow_motion import _click, _open


def test_the_modes_open_on_demand_and_show_torchs_numbers():
    at = _open()
    assert not [e for e in at.dataframe if "train mode" in str(e.value.index)], "built only when open"
    at.session_state["sm_modes"] = True  # the keyed expander, opened
    at.run()
    assert not at.exception, at.exception
    slow = at.session_state["slow_motion"]["setup"].slow
    want = mode_comparison(slow.model, slow.x, seed=slow.seed)
    tables = [e.value for e in at.dataframe]
    assert len(tables) == len(want.layers) + 1
    for table, layer in zip(tables, want.layers, strict=False):
        np.testing.assert_allclose(table.loc["train mode"].to_numpy(float), layer.train)
        np.testing.assert_allclose(table.loc["eval mode"].to_numpy(float), layer.eval)
    np.testing.assert_allclose(tables[-1].loc["eval mode"].to_numpy(float), want.logits_eval)
    # After a step the model has moved: the numbers follow the model the step trains.
    _click(at, "step_zero_grad")
    _click(at, "step_forward")
    assert not at.exception
    got = at.dataframe[-1].value.loc["eval mode"].to_numpy(float)
    with torch.no_grad():
        np.testing.assert_allclose(got, mode_comparison(slow.model, slow.x, seed=slow.seed).logits_eval)
