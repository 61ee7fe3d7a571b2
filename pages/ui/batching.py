"""A script run's messages reach the web server's event loop in batches, not one wake-up each.

Streamlit hands every message a script run produces (each element, block and widget of a page) to
the server's event loop on its own: `AppSession._on_scriptrunner_event` calls
`loop.call_soon_threadsafe` once per message, which writes a byte to the loop's wake-up pipe. That
write releases the interpreter lock, so the script thread and the event loop swap the lock back and
forth about twice per message: a page of 100 elements costs ~200 thread switches. Profiled on this
project's 2-core machine (py-spy, Kernels page), the wake-up writes alone were 2.5 of 19 ms of
server CPU per view.

Here the events of a session queue up, and only the first event of a batch schedules a wake-up;
WINDOW_S (3 ms) later the event loop handles everything queued so far, in order, with the handler
Streamlit itself uses (`AppSession._handle_scriptrunner_event_on_event_loop`). What the browser gets
and in which order is unchanged; only fewer wake-ups carry it, 3 ms later at most. Measured with
`benchmarks/bench_page_cpu.py` (same run, A/B): without a window a batch held ~2 events and first
views cost 10-15 % less than unbatched; the 3 ms window (~7 events a batch) took another 7-15 % off
(Kernels 18.3 -> 16.0 -> 14.7 ms, Model builder 16.4 -> 14.0 -> 13.5). Setting Streamlit's "send now"
event directly on the loop instead of through the wake-up pipe was tried too: no difference, not
kept. `CNN_CLASSROOM_BATCH_EVENTS=0` turns batching off.

Streamlit has no hook for this, so it wraps `AppSession._on_scriptrunner_event` (1.67); if that
method or the handler is missing (another Streamlit version), nothing is installed.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from streamlit.runtime import app_session

ENV_BATCH = "CNN_CLASSROOM_BATCH_EVENTS"
WINDOW_S = 0.003  # a batch gathers events this long before the event loop handles them
_LOG = logging.getLogger(__name__)


def enabled(environ: dict[str, str] | None = None) -> bool:
    """On unless $CNN_CLASSROOM_BATCH_EVENTS is 0, off, false or no."""
    text = (environ if environ is not None else os.environ).get(ENV_BATCH, "").strip().lower()
    return text not in ("0", "off", "false", "no")


class EventBatch:
    """One session's events on their way to the event loop: queued in order, drained together."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[tuple[Any, ...]] = []
        self.scheduled = False
        self.wakeups = 0  # how many times the event loop was woken (for tests and benchmarks)
        self.events = 0

    def add(self, item: tuple[Any, ...]) -> bool:
        """Queue an event; True when the caller must schedule a drain (none is pending)."""
        with self.lock:
            self.items.append(item)
            self.events += 1
            if self.scheduled:
                return False
            self.scheduled = True
            self.wakeups += 1
            return True

    def take(self) -> list[tuple[Any, ...]]:
        """Everything queued so far (the next event schedules a new drain)."""
        with self.lock:
            items, self.items = self.items, []
            self.scheduled = False
            return items


def batch_of(session: Any) -> EventBatch:
    """The session's batch (made on its first event; setdefault is atomic under the GIL)."""
    found = session.__dict__.get("_cc_events")
    if found is None:
        found = session.__dict__.setdefault("_cc_events", EventBatch())
    return found


def install() -> bool:
    """Wrap AppSession._on_scriptrunner_event once per process; False if not installed."""
    cls = app_session.AppSession
    original = getattr(cls, "_on_scriptrunner_event", None)
    handler = getattr(cls, "_handle_scriptrunner_event_on_event_loop", None)
    if original is None or handler is None or not hasattr(cls, "_call_soon_on_event_loop"):
        _LOG.warning("AppSession event methods not found: script events are not batched")
        return False
    if getattr(original, "cc_batched", False):
        return True
    if not enabled():
        return False

    def drain(session: Any, batch: EventBatch) -> None:
        handle = session._handle_scriptrunner_event_on_event_loop
        for args in batch.take():
            handle(*args)

    def _on_scriptrunner_event(
        self: Any,
        sender: Any,
        event: Any,
        forward_msg: Any = None,
        exception: Any = None,
        client_state: Any = None,
        page_script_hash: Any = None,
        fragment_ids_this_run: Any = None,
        pages: Any = None,
        run_descriptor: Any = None,
    ) -> None:
        batch = batch_of(self)
        item = (
            sender,
            event,
            forward_msg,
            exception,
            client_state,
            page_script_hash,
            fragment_ids_this_run,
            pages,
            run_descriptor,
        )
        if batch.add(item):
            # Drained a moment later, so the events of the next few ms ride along (the loop would
            # otherwise take the lock back after every event or two).
            self._call_soon_on_event_loop(lambda: self._event_loop.call_later(WINDOW_S, drain, self, batch))

    _on_scriptrunner_event.cc_batched = True  # type: ignore[attr-defined]
    # Signals hold their receivers by weak reference: a runner connected before this call holds
    # the original method, which must stay alive or that run's events would go nowhere.
    _on_scriptrunner_event.cc_original = original  # type: ignore[attr-defined]
    cls._on_scriptrunner_event = _on_scriptrunner_event  # type: ignore[method-assign]
    return True
