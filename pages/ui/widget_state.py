"""Value widgets look up their own key in session state instead of copying all of it.

Streamlit 1.67's selectbox, radio, number_input, slider, text_input, text_area and date/time
inputs each begin with `get_session_state().filtered_state`, a fresh dict of the whole session
state with every value read through its presenters, only to ask whether their own key holds None.
That costs ~1 µs per key in the session for every such widget on every view (the Kernels page
draws 13 of them in a session of ~35 keys).

Here those widget modules get the same session state with one difference: its `filtered_state`
is a read-only view that looks up the key asked for (`key in`, `[key]`) and builds the full copy
only if something iterates it. Nothing else changes. Streamlit has no hook for this, so it replaces
the modules' `get_session_state` name (1.67); a module without that name is left alone.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

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
    """Give each widget module the lazy view (once per process); returns how many modules have it."""
    done = 0
    for name in MODULES:
        module = importlib.import_module(f"streamlit.elements.widgets.{name}")
        original = getattr(module, "get_session_state", None)
        if original is None:
            _LOG.warning("streamlit.elements.widgets.%s has no get_session_state: left as it is", name)
            continue
        if not getattr(original, "cc_lazy", False):

            def get_session_state(original: Any = original) -> LazyState:
                return LazyState(original())

            get_session_state.cc_lazy = True  # type: ignore[attr-defined]
            module.get_session_state = get_session_state
        done += 1
    return done
