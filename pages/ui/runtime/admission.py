"""A process-wide admission limit on page opens: clicks first, then one page open at a time.

Thirty students share one interpreter lock. When a class opens pages all at once, thirty script
runs interleave and every one of them finishes late, while a student's click (a widget change, a
stroke on the canvas, a live chart's fragment tick) waits behind them. Here a page open (a
session's first run, or a run of another page than its last one) takes one of a few slots
(`CNN_CLASSROOM_PAGE_SLOTS`, default 1; 0 turns it off) and waits for a free one; widget, canvas
and fragment reruns never wait. Measured with loadtest/run_load.py (30 students, 2 shared cores,
three runs each): page-open p95 0.29-0.56 s without the limit, 0.13-0.25 s with one slot; canvas
answer p95 0.12-0.18 s without, 0.08-0.12 s with; live-chart ticks p95 23-55 ms without, 13-14 ms
with (two slots measured worse than one).

Streamlit has no hook around a script run, so this wraps `ScriptRunner._run_script` (1.67), the
method each session's script thread calls once per run, and reads the `RerunData` fields it is
given. It installs only through the gate of pages/ui/runtime/guard.py: on another Streamlit version, a
moved module or another signature it logs one warning and the app runs as before;
`CNN_CLASSROOM_PAGE_SLOTS=0` or `CNN_CLASSROOM_PATCHES=0` turns it off.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from pages.ui.runtime import guard

ENV_SLOTS = "CNN_CLASSROOM_PAGE_SLOTS"
DEFAULT_SLOTS = 1


def configured_slots(environ: dict[str, str] | None = None) -> int:
    """Slots for page opens from the environment (default 1); 0 (or a bad value: 1) as said."""
    text = (environ if environ is not None else os.environ).get(ENV_SLOTS, "").strip()
    if not text:
        return DEFAULT_SLOTS
    try:
        return max(0, int(text))
    except ValueError:
        return DEFAULT_SLOTS


class PageGate:
    """Decides which runs are page opens and lets at most `slots` of them run at once."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._sem = threading.BoundedSemaphore(slots) if slots > 0 else None
        self._last_page: dict[int, str] = {}  # id(session state) -> its last page; dropped with the session
        self._lock = threading.Lock()

    def opens_page(self, session: Any, page: str, fragment_ids: list[str] | None) -> bool:
        """True for a session's first run or a run of another page; False for reruns of the same page
        (widgets, the canvas) and fragment runs. Remembers the page."""
        if fragment_ids:
            return False
        key = id(session)
        with self._lock:
            if key not in self._last_page:
                try:
                    weakref.finalize(session, self._forget, key)
                except TypeError:  # an object without weak references: kept until the process ends
                    pass
            opens = self._last_page.get(key) != page
            self._last_page[key] = page
        return opens

    def _forget(self, key: int) -> None:
        with self._lock:
            self._last_page.pop(key, None)

    def __len__(self) -> int:
        return len(self._last_page)

    def run(self, session: Any, page: str, fragment_ids: list[str] | None, call: Any) -> Any:
        if self._sem is None or not self.opens_page(session, page, fragment_ids):
            return call()
        with self._sem:
            return call()


GATE = PageGate(configured_slots())


RERUN_FIELDS = ("page_script_hash", "page_name", "fragment_id_queue")  # what the wrapper reads


def install(gate: PageGate = GATE) -> bool:
    """Wrap ScriptRunner._run_script once per process; False if not installed (switched off, or not
    the Streamlit this was written for)."""
    if gate.slots <= 0 or not guard.switched_on(ENV_SLOTS):
        return False  # no limit: nothing to wrap

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def _run_script(self: Any, rerun_data: Any) -> Any:
            state = getattr(self._session_state, "_state", self._session_state)  # the session's own state
            page = rerun_data.page_script_hash or rerun_data.page_name or ""
            return gate.run(state, page, rerun_data.fragment_id_queue, lambda: original(self, rerun_data))

        return _run_script

    return guard.wrap_run_script("admission limit", "cc_gated", RERUN_FIELDS, wrap)
