"""The process-wide figure cache: equal inputs share one figure, different inputs do not."""

from __future__ import annotations

import numpy as np

from cnnlib import plots as P
from pages.ui.figures import shared


def test_equal_inputs_share_one_figure_and_different_inputs_do_not():
    """Two sessions asking for the same map get the same object; a changed pixel gets a new one."""
    a = np.arange(36, dtype=np.float32).reshape(6, 6) / 36
    first = shared(P.map_figure, a, "Feature map", (1, 2), height=300)
    again = shared(P.map_figure, a.copy(), "Feature map", (1, 2), height=300)
    assert first is again
    b = a.copy()
    b[0, 0] = 0.5
    other = shared(P.map_figure, b, "Feature map", (1, 2), height=300)
    assert other is not first
    assert shared(P.map_figure, a, "Feature map", (1, 3), height=300) is not first


def test_shared_figure_equals_a_freshly_built_one():
    """The cache changes nothing a student sees: the figure equals the builder's own output."""
    a = np.linspace(-1, 1, 49, dtype=np.float32).reshape(7, 7)
    cached = shared(P.map_figure, a, "Signed", (3, 3), height=320).to_dict()
    fresh = P.map_figure(a, "Signed", (3, 3), height=320).to_dict()
    assert cached["layout"] == fresh["layout"]
    np.testing.assert_array_equal(np.asarray(cached["data"][0]["z"]), np.asarray(fresh["data"][0]["z"]))


def test_shared_figures_are_frozen_dicts_that_streamlit_serialises_unchanged():
    """st.plotly_chart's own path (to_dict, then to_json) gives the same JSON as a fresh figure."""
    import plotly.io as pio
    from plotly.tools import return_figure_from_figure_or_data

    a = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    cached = shared(P.map_figure, a, "Frozen", (2, 2), height=300)
    assert cached.to_dict() is cached.to_dict()  # computed once
    seen = pio.to_json(return_figure_from_figure_or_data(cached, validate_figure=True), validate=False)
    fresh = P.map_figure(a, "Frozen", (2, 2), height=300)
    assert seen == pio.to_json(fresh.to_dict(), validate=False)
