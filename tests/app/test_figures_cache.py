"""The process-wide figure cache and plain-dict figures on the page (pages/ui/figures.py)."""

from __future__ import annotations

import threading

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.tools import return_figure_from_figure_or_data

from cnnlib import plots as P
from pages.ui.figures import SHARED, PlainFigure, SharedCache, plain, shared


def _streamlit_json(fig) -> str:
    """What st.plotly_chart (1.67) sends for `fig`: its to_dict (or the validated dict), then to_json."""
    return pio.to_json(return_figure_from_figure_or_data(fig, validate_figure=True), validate=False)


def _upper(text: str) -> str:
    return text.upper()


def test_equal_keys_share_one_figure_and_different_keys_do_not():
    """Arrays are keyed by what made them: the same key is one object, another key another."""
    SHARED.clear()
    a = np.arange(36, dtype=np.float32).reshape(6, 6) / 36
    first = shared(P.map_figure, a, "Feature map", (1, 2), height=300, key=("digit 3", "Sobel x", (1, 2)))
    again = shared(
        P.map_figure, a.copy(), "Feature map", (1, 2), height=300, key=("digit 3", "Sobel x", (1, 2))
    )
    assert first is again
    other = shared(P.map_figure, a, "Feature map", (1, 3), height=300, key=("digit 3", "Sobel x", (1, 3)))
    assert other is not first
    # hashable arguments need no key
    assert shared(_upper, "abc") == "ABC" and shared(_upper, "abc", key="same") == "ABC"
    with pytest.raises(TypeError):  # arrays without a key: a mistake, said at once
        shared(P.map_figure, a, "Feature map")


def test_the_cache_is_bounded_and_keeps_nothing_that_failed():
    cache = SharedCache(3)
    for i in range(5):
        assert cache.get(i, lambda i=i: i * 10) == i * 10
    assert len(cache) == 3 and cache.get(4, lambda: "rebuilt") == 40 and cache.get(0, lambda: "new") == "new"

    def broken():
        raise ValueError("bad settings")

    with pytest.raises(ValueError):
        cache.get("x", broken)
    assert cache.get("x", lambda: "ok") == "ok"


def test_the_cache_is_safe_across_threads():
    cache, seen = SharedCache(8), []

    def worker(n: int) -> None:
        for i in range(200):
            seen.append(cache.get(i % 12, lambda i=i: i % 12))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 800 and len(cache) == 8


def test_shared_figure_equals_a_freshly_built_one():
    """The cache changes nothing a student sees: Streamlit sends the same JSON as for a fresh figure."""
    SHARED.clear()
    a = np.linspace(-1, 1, 49, dtype=np.float32).reshape(7, 7)
    cached = shared(P.map_figure, a, "Signed", (3, 3), height=320, key="signed 7x7")
    assert isinstance(cached, PlainFigure) and cached.to_dict() is cached.to_dict()  # computed once
    assert _streamlit_json(cached) == _streamlit_json(P.map_figure(a, "Signed", (3, 3), height=320))


def test_a_plain_dict_reaches_the_page_unvalidated_but_looks_the_same():
    """st.plotly_chart takes a PlainFigure's dict as it is (no go.Figure built per view), with the
    default template go.Figure would add, so the browser gets the same figure."""
    probs = np.array([0.1, 0.7, 0.2])
    fig = P.probability_figure(probs, ["a", "b", "c"])
    wrapped = plain(fig)
    assert (
        return_figure_from_figure_or_data(wrapped, validate_figure=True)["data"] is wrapped.to_dict()["data"]
    )
    validated = go.Figure(fig).to_dict()  # what Streamlit made of the dict before
    assert wrapped.to_dict()["layout"] == validated["layout"]
    import json

    sent = json.loads(_streamlit_json(wrapped))
    assert sent["layout"]["template"] == json.loads(pio.to_json(validated))["layout"]["template"]
    assert sent["data"][0]["y"] == pytest.approx([10, 70, 20])
    assert plain(wrapped) is wrapped and plain("not a figure") == "not a figure"
