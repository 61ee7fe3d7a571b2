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

Only forwarded messages (the elements) wait for a batch. Every other event (a run's start, its end,
the runner's shutdown, a compile error) drains the batch at once, as the next callback on the loop,
so the order Streamlit's own code relies on holds: `handle_backmsg_exception` enqueues its
exception message in a callback right after such events. And a rerun request handles what is queued
before it does anything else: Streamlit drops the events of a runner that is no longer current, and
a fragment's timer tick (`run_every`) that arrived in the 3 ms window after a run had finished used
to start a new runner first, dropping that whole run's messages (its new_session, its elements, its
script_finished). The browser then applied the next fragment deltas to a tree that never got their
parent blocks: "Cannot set a node at a delta path", a blank page (issue 23; the deterministic case
is in tests/app/test_batching.py, against a real AppSession). One event's failure is logged and
does not drop the rest of its batch.

Streamlit has no hook for this, so it wraps `AppSession._on_scriptrunner_event` and
`AppSession.request_rerun` of Streamlit 1.67, and installs only where their signatures are the
ones it was written for (pages/ui/runtime/guard.py); `CNN_CLASSROOM_BATCH_EVENTS=0` or
`CNN_CLASSROOM_PATCHES=0` turns it off. The upstream fix it stands for: one `call_soon_threadsafe`
per batch of a run's messages (e.g. the script thread's ForwardMsg queue drained by the loop), so no
app needs to wrap private methods for it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from typing import Any

from streamlit.runtime import app_session
from streamlit.runtime.scriptrunner.script_runner import ScriptRunnerEvent

from pages.ui.runtime import guard

ENV_BATCH = "CNN_CLASSROOM_BATCH_EVENTS"
WINDOW_S = 0.003  # a batch gathers events this long before the event loop handles them
_LOG = logging.getLogger(__name__)


EVENT_PARAMS = (
    "self",
    "sender",
    "event",
    "forward_msg",
    "exception",
    "client_state",
    "page_script_hash",
    "fragment_ids_this_run",
    "pages",
    "run_descriptor",
)
NOW, LATER = "now", "later"  # how soon a drain must run


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """On unless $CNN_CLASSROOM_BATCH_EVENTS or $CNN_CLASSROOM_PATCHES is 0, off, false or no."""
    return guard.switched_on(ENV_BATCH, environ)


class EventBatch:
    """One session's events on their way to the event loop: queued in order, drained together."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[tuple[Any, ...]] = []
        self.scheduled = False  # a drain WINDOW_S later is pending
        self.urgent = False  # a drain as the loop's next callback is pending
        self.wakeups = 0  # how many times the event loop was woken (for tests and benchmarks)
        self.events = 0

    def add(self, item: tuple[Any, ...], urgent: bool = False) -> str | None:
        """Queue an event; NOW or LATER when the caller must schedule a drain that soon, None when
        one that soon is pending already. An urgent event (anything but a forwarded message) asks
        for a drain now even when one is due later."""
        with self.lock:
            self.items.append(item)
            self.events += 1
            if self.urgent or (self.scheduled and not urgent):
                return None
            self.wakeups += 1
            if urgent:
                self.urgent = True
                return NOW
            self.scheduled = True
            return LATER

    def take(self) -> list[tuple[Any, ...]]:
        """Everything queued so far (the next event schedules a new drain)."""
        with self.lock:
            items, self.items = self.items, []
            self.scheduled = self.urgent = False
            return items


def batch_of(session: Any) -> EventBatch:
    """The session's batch (made on its first event; setdefault is atomic under the GIL)."""
    found = session.__dict__.get("_cc_events")
    if found is None:
        found = session.__dict__.setdefault("_cc_events", EventBatch())
    return found


def drain(session: Any, batch: EventBatch) -> None:
    """Handle everything queued so far, in order, with Streamlit's own handler (on the event loop).
    One event's failure is logged, as the loop would log it, and the rest are still handled."""
    handle = session._handle_scriptrunner_event_on_event_loop
    for args in batch.take():
        try:
            handle(*args)
        except Exception:  # noqa: BLE001 - one event, not the batch
            _LOG.exception("A script event failed on the event loop")


def on_its_loop(session: Any) -> bool:
    """Whether this code runs on the session's event loop (where drains run)."""
    try:
        return asyncio.get_running_loop() is session._event_loop
    except RuntimeError:
        return False


def install() -> bool:
    """Wrap AppSession._on_scriptrunner_event and request_rerun once per process; False if not
    installed (switched off, or another Streamlit than the one this was written for)."""
    cls = app_session.AppSession
    original = getattr(cls, "_on_scriptrunner_event", None)
    if guard.has_patch(original, "cc_batched"):
        return True
    if not enabled():
        return False
    checks = [
        (original, EVENT_PARAMS),
        (getattr(cls, "_handle_scriptrunner_event_on_event_loop", None), EVENT_PARAMS),
        (getattr(cls, "request_rerun", None), ("self", "client_state")),
        (getattr(cls, "_call_soon_on_event_loop", None), ("self", "callback")),
    ]
    if not guard.fits("event batching", checks):
        return False
    original_rerun = cls.request_rerun
    forward = ScriptRunnerEvent.ENQUEUE_FORWARD_MSG

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
        when = batch.add(item, urgent=event != forward)
        if when == NOW:
            self._call_soon_on_event_loop(lambda: drain(self, batch))
        elif when == LATER:
            # Drained a moment later, so the events of the next few ms ride along (the loop would
            # otherwise take the lock back after every event or two).
            self._call_soon_on_event_loop(lambda: self._event_loop.call_later(WINDOW_S, drain, self, batch))

    def request_rerun(self: Any, client_state: Any) -> None:
        # What the current runner sent before this request is handled first, as without batching:
        # a finished runner's events must reach the browser before a new runner replaces it.
        batch = self.__dict__.get("_cc_events")
        if batch is not None and on_its_loop(self):
            drain(self, batch)
        original_rerun(self, client_state)

    _on_scriptrunner_event.cc_batched = True  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
    # Signals hold their receivers by weak reference: a runner connected before this call holds
    # the original method, which must stay alive or that run's events would go nowhere.
    _on_scriptrunner_event.cc_original = original  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
    request_rerun.cc_original = original_rerun  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
    cls._on_scriptrunner_event = _on_scriptrunner_event  # type: ignore[method-assign]  # Streamlit private API, patched on purpose
    cls.request_rerun = request_rerun  # type: ignore[method-assign]  # Streamlit private API, patched on purpose
    return True
