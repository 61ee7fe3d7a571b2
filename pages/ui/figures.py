"""Plotly figures shared by every session: built once per distinct input, then only read.

Building a figure from plotly's graph objects costs 30-300 ms of the one interpreter lock the whole
class shares (plotly validates every property). Thirty students opening a page with the same defaults
ask for the same figures, so `shared(fn, ...)` keeps each built figure in `st.cache_resource` (no copy
per caller) keyed by the builder and its arguments. The figures are never mutated. Each is frozen
once built: `st.plotly_chart` calls `Figure.to_dict()` on every run (a deep copy, with every array
base64-encoded: about 3 ms for a small heatmap), so a shared figure answers it with the dict it
computed once (Streamlit only serialises it, with orjson). A page that wants to change a figure
builds its own with the `cnnlib.plots` function directly.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import streamlit as st
from plotly.basedatatypes import BaseFigure

MAX_FIGURES = 256  # a few MB at most: the figures are small heatmaps and diagrams
TTL_SECONDS = 3600


@st.cache_resource(max_entries=MAX_FIGURES, ttl=TTL_SECONDS, show_spinner=False)
def _build(module: str, name: str, args: tuple, kwargs: tuple) -> Any:
    fn = getattr(importlib.import_module(module), name)
    return freeze(fn(*args, **dict(kwargs)))


def freeze(fig: Any) -> Any:
    """Make `fig.to_dict()` return one dict computed now (for a figure that is never changed again)."""
    if isinstance(fig, BaseFigure):
        frozen = fig.to_dict()
        object.__setattr__(fig, "to_dict", lambda: frozen)
    return fig


def shared(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` from the process-wide cache; `fn` is a module-level `cnnlib.plots` function."""
    return _build(fn.__module__, fn.__name__, args, tuple(sorted(kwargs.items())))
