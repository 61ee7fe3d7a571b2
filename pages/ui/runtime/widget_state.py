"""Value widgets look up their own key in session state instead of copying all of it.

Streamlit 1.67's selectbox, radio, number_input, slider, text_input, text_area and date/time
inputs each begin with `get_session_state().filtered_state`, a fresh dict of the whole session
state with every value read through its presenters, only to ask whether their own key holds None.
That costs ~1 µs per key in the session for every such widget on every view (the Kernels page
draws 13 of them in a session of ~35 keys).

Here those widget modules get the same session state with one difference: its `filtered_state`
is a read-only view that looks up the key asked for (`key in`, `[key]`) and builds the full copy
only if something iterates it. Nothing else changes. Streamlit has no hook for this, so it replaces
the modules' `get_session_state` name (1.67). It installs only through the gate of
pages/ui/runtime/guard.py: on another Streamlit version, a moved module or another signature it logs one
warning and leaves every module alone; `CNN_CLASSROOM_LAZY_WIDGETS=0` or `CNN_CLASSROOM_PATCHES=0`
turns it off.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from pages.ui.runtime import guard

ENV_LAZY = "CNN_CLASSROOM_LAZY_WIDGETS"
MODULES = ("number_input", "radio", "selectbox", "slider", "text_widgets", "time_widgets")
_LOG = logging.getLogger(__name__)


class KeyView(Mapping):
    """`filtered_state` as a widget uses it: one user key at a time."""

    __slots__ = ("_state",)

    def __init__(self, state: Any) -> None:
        self._state = state

    def __getitem__(self, key: str) -> Any:
        return self._state[key]  # KeyError when absent, as the dict would raise

    def __contains__(self, key: object) -> bool:
        try:
            self._state[key]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._state.filtered_state)

    def __len__(self) -> int:
        return len(self._state.filtered_state)


class LazyState:
    """The session state a widget module sees: the real one, with `filtered_state` as a KeyView."""

    __slots__ = ("_state",)

    def __init__(self, state: Any) -> None:
        self._state = state

    @property
    def filtered_state(self) -> KeyView:
        return KeyView(self._state)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state, name)


def install() -> int:
    """Give each widget module the lazy view (once per process); returns how many modules have it
    (0 when switched off or not the Streamlit this was written for)."""
    if not guard.switched_on(ENV_LAZY):
        return 0
    try:
        from streamlit.runtime.state.safe_session_state import SafeSessionState

        modules = [importlib.import_module(f"streamlit.elements.widgets.{name}") for name in MODULES]
    except ImportError as exc:  # a moved module: every widget keeps Streamlit's own lookup
        _LOG.warning("lazy widget state: %s: not installed", exc)
        return 0
    originals = [getattr(m, "get_session_state", None) for m in modules]
    originals = [getattr(f, "cc_original", f) for f in originals]
    prop = getattr(SafeSessionState, "filtered_state", None)
    checks = [
        *((f, ()) for f in originals),
        (prop.fget if isinstance(prop, property) else None, ("self",)),
        (getattr(SafeSessionState, "__getitem__", None), ("self", "key")),
    ]
    if not guard.fits("lazy widget state", checks):
        return 0
    for module, original in zip(modules, originals, strict=True):
        if getattr(module.get_session_state, "cc_lazy", False):
            continue

        def get_session_state(original: Any = original) -> LazyState:
            return LazyState(original())

        get_session_state.cc_lazy = True  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
        get_session_state.cc_original = original  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
        module.get_session_state = get_session_state  # type: ignore[attr-defined]  # Streamlit private API, patched on purpose
    return len(modules)


def uninstall() -> None:
    """Give every widget module Streamlit's own lookup back (benchmarks/bench_widget_state.py)."""
    for name in MODULES:
        module = importlib.import_module(f"streamlit.elements.widgets.{name}")
        original = getattr(module.get_session_state, "cc_original", None)
        if original is not None:
            module.get_session_state = original  # type: ignore[attr-defined]  # Streamlit private API, patched on purpose
