"""Plotly figures on the page without plotly's validation, and figures shared by every session.

Every interactive figure goes through `chart(where, fig, key=...)`: our one Plotly element
(`pages.ui.live_plotly`, the cartesian partial bundle of plotly.js loaded after the first paint),
never `st.plotly_chart`, which would ship Streamlit's full plotly.js chunk (4.7 MB) besides it.
Pictures nobody hovers are PNGs (`cnnlib.plots` makes them with numpy/Pillow) through `st.image`.

`PlainFigure` wraps a figure `cnnlib.plots` built as a plain dict, unvalidated (a `go.Figure(**fig)`
costs 5 ms for the Draw page's Grad-CAM figure, most of a stroke's cost): its `to_dict()` is the
dict plus the default template (what `go.Figure(**fig)` would add), and its JSON text is made once
(orjson) and kept, so a figure shared by every student is serialised once. The builders' tests
validate the same dicts with `go.Figure`, so nothing unchecked reaches a page.

`shared(fn, ...)` keeps what every student asks for (the same figure or feature map for the same
defaults) once per process, built once and never mutated: a bounded LRU keyed by the builder and
its arguments, which must be small and hashable (names, numbers, tuples, short strings). Arrays are
not: a page passes `key=`, the settings that made them (e.g. the image's name and the kernel's
weights), and the arguments are only used to build on a miss. (Streamlit's `st.cache_resource`
hashed the arrays on every call: 3 ms a view on the Kernels page.) A page that wants to change a
figure builds its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any

import plotly.io as pio
from plotly.basedatatypes import BaseFigure

from pages.ui.live_plotly import live_plotly

MAX_SHARED = 256  # a few MB at most: small heatmaps, diagrams and feature maps


@lru_cache(maxsize=4)
def _template(name: str) -> dict:
    return pio.templates[name].to_plotly_json()


class PlainFigure(BaseFigure):
    """A figure already built as a plain {"data": [...], "layout": {...}} dict; read-only.

    Not initialised as a BaseFigure on purpose (that is the validation it skips): it only answers
    `to_dict()`, which is all `st.plotly_chart` asks of a figure.
    """

    def __init__(self, fig: dict) -> None:  # no super().__init__(): that would validate
        layout = fig.get("layout") or {}
        if "template" not in layout and pio.templates.default:
            layout = {"template": _template(pio.templates.default), **layout}
        self._plain: dict[str, Any] = {"data": list(fig.get("data") or []), "layout": layout}
        self._json: tuple[str, int] | None = None

    def to_dict(self) -> dict:
        return self._plain

    def json_text(self) -> tuple[str, int]:
        """(the figure as JSON, its height), made on first use and kept (the figure never changes)."""
        if self._json is None:
            text = pio.to_json(self._plain, validate=False)
            self._json = (text, int(self._plain["layout"].get("height") or 400))
        return self._json

    def __repr__(self) -> str:
        return f"PlainFigure({len(self._plain['data'])} traces)"


def plain(fig: Any) -> Any:
    """A dict from `cnnlib.plots` as a `PlainFigure`; a plotly Figure frozen as one (its dict computed
    now: `to_dict()` deep-copies and base64-encodes every array on each call); anything else as is."""
    if isinstance(fig, PlainFigure):
        return fig
    if isinstance(fig, dict):
        return PlainFigure(fig)
    if isinstance(fig, BaseFigure):
        return PlainFigure(fig.to_dict())
    return fig


class SharedCache:
    """A process-wide LRU of built objects; thread-safe (two sessions may build the same one at once)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()  # outside the lock: an error is raised to the caller and nothing is kept
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


SHARED = SharedCache(MAX_SHARED)


def shared(fn: Callable[..., Any], *args: Any, key: Hashable | None = None, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` built once per process (a figure as a `PlainFigure`); `fn` is a
    module-level function. `key` stands for the arguments when they are not hashable (arrays)."""
    token = (
        fn.__module__,
        fn.__qualname__,
        key if key is not None else (args, tuple(sorted(kwargs.items()))),
    )
    return SHARED.get(token, lambda: plain(fn(*args, **kwargs)))


def chart(
    where: Any,
    fig: Any,
    key: str,
    config: dict | None = None,
    on_click: Callable[[], None] | None = None,
) -> Any:
    """A figure from `cnnlib.plots` (dict, Figure or PlainFigure), unvalidated, in `where` (`st` or a
    container) through our Plotly element; returns its result (`.click` when `on_click` is given:
    a callback without arguments that reads `st.session_state[key]["click"]`)."""
    if hasattr(where, "__enter__"):
        with where:
            return live_plotly(plain(fig), key=key, stamp=0.0, config=config, on_click=on_click)
    return live_plotly(plain(fig), key=key, stamp=0.0, config=config, on_click=on_click)
