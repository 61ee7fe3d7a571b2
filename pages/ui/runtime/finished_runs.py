"""A finished run's messages reach the browser whole, even when a fragment run starts right after it.

The blank page of issue 23, second cause (found with the rehearsal's recorded websocket frames,
scripts/replay_frames.py). When a run starts, Streamlit clears the session's outgoing queue of what
the browser no longer needs (`AppSession._clear_queue` -> `ForwardMsgQueue.clear`). For a fragment
run it drops every queued delta of the fragments about to run again, assuming they are the
leftovers of an interrupted run of the same fragment. But the queue may still hold a *finished*
full run that has not been sent yet (the server's send loop had no turn between the run's end and
the next start: a student's click on Train with two `run_every` fragments on the page, a busy 2-core
machine, and this app's event batching, which handles a run's end and the next start in one turn).
The full run then reaches the browser without its fragments' containers (the class strip at
[0, 2], the teacher's shared run at [0, 5, 0, 0]) while its other elements are placed after them:
the frontend throws "Cannot set a node at a delta path" and the page goes white.

Recorded in Chromium (Dev, phone, loop 0 of `CC_REHEARSAL_TRAIN_LOOPS`): full run d962a7 sent
`auto_rerun` for fragments 1974b340 and 9804ae65 but none of their deltas; the fragment run 2df896
that followed (fragments 9804ae65, 1974b340) started before the send loop ran. The deterministic
case is `tests/app/test_finished_runs.py`, against a real AppSession: on Streamlit 1.67 as it is,
the finished run's fragment delta is gone from the queue; with this module it is kept.

The fix: messages up to the last `script_finished` in the queue belong to runs that are over, so
they are kept as they are; only what comes after it (a run still going, now replaced) is cleared
the way Streamlit clears it. A full run's start is left alone (the new full run redraws all).

It wraps `AppSession._clear_queue` of Streamlit 1.67 and installs only where that and
`ForwardMsgQueue.clear` have the signatures it was written for (pages/ui/runtime/guard.py);
`CNN_CLASSROOM_KEEP_FINISHED=0` or `CNN_CLASSROOM_PATCHES=0` turns it off. The upstream fix it
stands for: `ForwardMsgQueue.clear(fragment_ids_this_run=...)` should only drop deltas that come
after the last `script_finished` (or the server should flush the queue before a new run starts).
"""

from __future__ import annotations

import logging
from typing import Any

from streamlit.runtime import app_session, forward_msg_queue

from pages.ui.runtime import guard

ENV_KEEP = "CNN_CLASSROOM_KEEP_FINISHED"
_LOG = logging.getLogger(__name__)


def finished_part(queue: list[Any]) -> int:
    """How many messages at the head of the queue belong to runs that are over (up to and
    including the last script_finished); 0 when none is."""
    for i in range(len(queue) - 1, -1, -1):
        if queue[i].WhichOneof("type") == "script_finished":
            return i + 1
    return 0


def install() -> bool:
    """Wrap AppSession._clear_queue once per process; False if not installed."""
    cls = app_session.AppSession
    original = getattr(cls, "_clear_queue", None)
    if guard.has_patch(original, "cc_keep_finished"):
        return True
    if not guard.switched_on(ENV_KEEP):
        return False
    checks = [
        (original, ("self", "fragment_ids_this_run")),
        (
            getattr(forward_msg_queue.ForwardMsgQueue, "clear", None),
            ("self", "retain_lifecycle_msgs", "fragment_ids_this_run"),
        ),
    ]
    if not guard.fits("keep finished runs", checks) or original is None:  # fits refuses None
        return False

    def _clear_queue(self: Any, fragment_ids_this_run: list[str] | None = None) -> None:
        queue = getattr(getattr(self, "_browser_queue", None), "_queue", None)
        if fragment_ids_this_run is None or not isinstance(queue, list):
            original(self, fragment_ids_this_run)  # a full run (or an unknown queue): as Streamlit does
            return
        done = finished_part(queue)
        if done == 0:
            original(self, fragment_ids_this_run)
            return
        kept, self._browser_queue._queue = queue[:done], queue[done:]
        try:
            original(self, fragment_ids_this_run)  # clears what came after the last finished run
        finally:
            self._browser_queue._queue = kept + self._browser_queue._queue

    _clear_queue.cc_keep_finished = True  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
    _clear_queue.cc_original = original  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
    cls._clear_queue = _clear_queue  # type: ignore[method-assign]  # Streamlit private API, patched on purpose
    return True
