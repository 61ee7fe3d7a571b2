"""A student's uploads leave the server when the student does, and one session holds a bounded amount.

Streamlit 1.67 keeps every file PUT to `/_stcore/upload_file/<session>/<file>` in memory
(`MemoryUploadedFileManager`) until its session is shut down (`AppSession.shutdown` calls
`remove_session_files`). A session whose websocket closes is not shut down: `disconnect_session`
moves it, files and all, to the reconnect storage (`MemorySessionStorage`, a TTL cache of
`server.disconnectedSessionTTL`, 120 s). Even past the TTL nothing shuts it down: the cache drops
an expired entry only when it is next written or read (another session disconnecting), and the
files go only when the garbage collector frees that AppSession (its `__del__` calls shutdown). On a
quiet server after a lesson, that can be never. Issue 24 measured it: 40 PUTs of 20 MB from one
client, never followed by a rerun, +800 MB in 1.8 s, all of it still held 3 minutes after the
session closed; an ordinary student who uploads a zip and closes the tab leaks the same way. And
while a session is connected, nothing bounds how many files it may PUT (each is capped at
`server.maxUploadSize`, their number is not).

Two wraps, both on the narrowest surface that reaches the problem:

- `Runtime.disconnect_session` (what the websocket handler calls when a connection ends): once the
  session is no longer active, a timer on the event loop releases its uploads
  (`runtime.uploaded_file_mgr.remove_session_files`) GRACE_S later (5 s; env
  `CNN_CLASSROOM_UPLOAD_GRACE_S`, at most the reconnect TTL) unless it reconnected in between, so a
  network blip keeps the files. A session back after that finds its uploaders empty; the Training
  page keeps the dataset it decoded from a zip (pages/ui/training/setup.py), the other uploads are
  one image each and are simply uploaded again.
- `MemoryUploadedFileManager.add_file` (what the upload handler calls with a received file): a file
  that would take its session past SESSION_CAP (2 x `server.maxUploadSize`; env
  `CNN_CLASSROOM_UPLOAD_SESSION_MB`) is refused with HTTP 413, the status the handler itself answers
  for one file over the limit, and a file for a session that has gone meanwhile (a PUT still in
  flight when its tab closed) with 400, as the handler answers an unknown session. A replaced file
  (the same id again) counts once.

Installed from pages/ui/frame.py through pages/ui/runtime/guard.py: only on Streamlit 1.67 with the exact
signatures below; `CNN_CLASSROOM_RELEASE_UPLOADS=0` or `CNN_CLASSROOM_PATCHES=0` turns it off.
Measured with `benchmarks/bench_upload_flood.py` (the figures are in deploy/README.md).

The upstream fix it stands for: release a disconnected session's uploads on a timer rather than
through the reconnect storage's lazy expiry and the garbage collector (shut down a session when the
storage drops it, and reap expired sessions eagerly: `server.disconnectedSessionTTL`'s own help
says uploaded files are cleaned up after it), and a per-session byte budget for uploads in
`MemoryUploadedFileManager.add_file` (a `server.maxUploadSessionSize` option answered with 413 by
the upload route), so no app needs to wrap the runtime for either.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from pages.ui.runtime import guard

ENV_RELEASE = "CNN_CLASSROOM_RELEASE_UPLOADS"
ENV_GRACE = "CNN_CLASSROOM_UPLOAD_GRACE_S"
ENV_SESSION_MB = "CNN_CLASSROOM_UPLOAD_SESSION_MB"
GRACE_S = 5.0  # a session gone this long loses its uploads (a reconnect within it keeps them)
_LOG = logging.getLogger(__name__)

DISCONNECT_PARAMS = ("self", "session_id", "client")
ADD_FILE_PARAMS = ("self", "session_id", "file")

_pending: dict[str, int] = {}  # session id -> the token of its latest scheduled release
_tokens = itertools.count(1)
_add_lock = threading.Lock()  # a session's check and add happen together (concurrent PUTs)


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """On unless $CNN_CLASSROOM_RELEASE_UPLOADS or $CNN_CLASSROOM_PATCHES is 0, off, false or no."""
    return guard.switched_on(ENV_RELEASE, environ)


def _env_float(name: str) -> float | None:
    try:
        value = float(os.environ.get(name, "").strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def grace_seconds() -> float:
    """How long a disconnected session keeps its uploads: $CNN_CLASSROOM_UPLOAD_GRACE_S or GRACE_S,
    never longer than Streamlit keeps the session for a reconnect."""
    from streamlit import config

    found = _env_float(ENV_GRACE)
    grace = GRACE_S if found is None else found
    ttl = config.get_option("server.disconnectedSessionTTL")
    return min(grace, float(ttl)) if isinstance(ttl, (int, float)) and ttl >= 0 else grace


def session_cap_bytes() -> int:
    """Bytes of uploads one session may hold: $CNN_CLASSROOM_UPLOAD_SESSION_MB, else twice
    server.maxUploadSize (MB, as Streamlit counts it: 2**20 bytes)."""
    from streamlit import config

    found = _env_float(ENV_SESSION_MB)
    mb = found if found else 2 * float(config.get_option("server.maxUploadSize"))
    return int(mb * 1024 * 1024)


def budget_help() -> str:
    """An uploader's help text: the budgets, and what Streamlit's own "status code 413" under a
    refused file means (its uploader shows no other words for it)."""
    from streamlit import config

    per_file = float(config.get_option("server.maxUploadSize"))
    return (
        f"Up to {per_file:g} MB a file and {session_cap_bytes() / 2**20:g} MB of uploads in all in this tab "
        "(the whole class shares one server). If a file says **status code 413**, it went past that: "
        "reload the page (its uploads are let go) and upload it again."
    )


def session_bytes(manager: Any, session_id: str) -> tuple[int, dict[str, int]]:
    """The bytes of a session's uploads, and each file's size by id."""
    files = list(manager.file_storage.get(session_id, {}).values())  # one C call: a stable copy
    sizes = {f.file_id: len(f.data) for f in files}
    return sum(sizes.values()), sizes


def release(runtime: Any, session_id: str, token: int | None = None) -> bool:
    """Drop the session's uploads if it is still not connected (and `token` is still the latest
    release scheduled for it); True if it did."""
    if token is not None and _pending.get(session_id) != token:
        return False
    _pending.pop(session_id, None)
    if runtime.is_active_session(session_id):
        return False  # it came back
    runtime.uploaded_file_mgr.remove_session_files(session_id)
    return True


def schedule_release(runtime: Any, session_id: str) -> None:
    """Release the session's uploads grace_seconds() from now unless it reconnects (on the event
    loop when there is one, else on a timer thread)."""
    token = next(_tokens)
    _pending[session_id] = token
    delay = grace_seconds()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        loop.call_later(delay, _safe_release, runtime, session_id, token)
    else:
        timer = threading.Timer(delay, _safe_release, (runtime, session_id, token))
        timer.daemon = True
        timer.start()


def _safe_release(runtime: Any, session_id: str, token: int) -> None:
    try:
        release(runtime, session_id, token)
    except Exception:  # noqa: BLE001 - a failed release must not take the loop's callback down
        _LOG.exception("Releasing the uploads of a closed session failed")


def install() -> bool:
    """Wrap Runtime.disconnect_session and MemoryUploadedFileManager.add_file once per process;
    False if not installed (switched off, or another Streamlit than the one this was written for)."""
    if not enabled():
        return False
    from streamlit.runtime import runtime as runtime_module
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    rt_cls, mgr_cls = runtime_module.Runtime, MemoryUploadedFileManager
    original_disconnect = getattr(rt_cls, "disconnect_session", None)
    if getattr(original_disconnect, "cc_release", False):
        return True
    checks = [
        (original_disconnect, DISCONNECT_PARAMS),
        (getattr(rt_cls, "is_active_session", None), ("self", "session_id")),
        (getattr(mgr_cls, "add_file", None), ADD_FILE_PARAMS),
        (getattr(mgr_cls, "remove_session_files", None), ("self", "session_id")),
    ]
    if not guard.fits("upload release", checks):
        return False
    if not isinstance(getattr(rt_cls, "uploaded_file_mgr", None), property):
        _LOG.warning("upload release: Runtime.uploaded_file_mgr is missing: not installed")
        return False
    from starlette.exceptions import HTTPException

    original_add = mgr_cls.add_file
    disconnect = rt_cls.disconnect_session  # the checked original (callable: guard.fits says so)

    def disconnect_session(self: Any, session_id: str, *, client: Any = None) -> None:
        disconnect(self, session_id, client=client)
        if not self.is_active_session(session_id):
            schedule_release(self, session_id)

    def add_file(self: Any, session_id: str, file: Any) -> None:
        if runtime_module.Runtime.exists() and not runtime_module.Runtime.instance().is_active_session(
            session_id
        ):
            raise HTTPException(status_code=400, detail="Invalid session_id: the session has closed")
        with _add_lock:
            held, sizes = session_bytes(self, session_id)
            after = held - sizes.get(file.file_id, 0) + len(file.data)
            cap = session_cap_bytes()
            if after > cap:
                _LOG.warning(
                    "Upload refused: session %s would hold %d bytes of uploads (cap %d)",
                    session_id,
                    after,
                    cap,
                )
                raise HTTPException(
                    status_code=413,
                    detail=f"Too many uploads in this session (at most {cap // 2**20} MB in all)",
                )
            original_add(self, session_id, file)

    disconnect_session.cc_release = True  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
    disconnect_session.cc_original = original_disconnect  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
    add_file.cc_release = True  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
    add_file.cc_original = original_add  # type: ignore[attr-defined]  # a marker on our patch of a Streamlit private API
    rt_cls.disconnect_session = disconnect_session  # type: ignore[method-assign]  # Streamlit private API, patched on purpose
    mgr_cls.add_file = add_file  # type: ignore[method-assign]  # Streamlit private API, patched on purpose
    return True
