"""A student's uploads leave the server with the student, and one session holds a bounded amount
(pages/ui/runtime/uploads_release.py; issue 24 item 5), against Streamlit's own Runtime, session manager,
session storage and MemoryUploadedFileManager: the same close path the websocket handler takes.

The waits below are guards against hanging (a release is awaited until it happens), never timings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import streamlit
from starlette.exceptions import HTTPException
from streamlit.runtime import runtime as runtime_module
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.memory_session_storage import MemorySessionStorage
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from pages.ui.runtime import uploads_release
from tests.app.test_batching import run_loop
from tests.conftest import ROOT

MB = 1024 * 1024


class Client:
    """A websocket client as the session manager sees it: it takes messages and has no context."""

    def write_forward_msg(self, msg: Any) -> None:
        pass

    @property
    def client_context(self) -> None:
        return None


def rec(file_id: str, size: int) -> UploadedFileRec:
    return UploadedFileRec(file_id=file_id, name=f"{file_id}.zip", type="application/zip", data=b"x" * size)


@pytest.fixture
def patched(monkeypatch) -> Iterator[None]:
    monkeypatch.setenv(uploads_release.ENV_GRACE, "0.05")
    assert uploads_release.install(), "the patch must install on the Streamlit this app pins"
    yield


def with_runtime(body) -> None:
    """Run `body(runtime, manager)` (a coroutine function) on a started real Runtime, then stop it
    and leave no Runtime behind for the other tests."""
    assert not runtime_module.Runtime.exists(), "another test left a Runtime behind"
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    runtime = runtime_module.Runtime(
        runtime_module.RuntimeConfig(
            script_path=str(ROOT / "app.py"),
            media_file_storage=MemoryMediaFileStorage("/media"),
            uploaded_file_manager=manager,
            session_storage=MemorySessionStorage(ttl_seconds=120),
        )
    )

    async def main() -> None:
        await runtime.start()
        try:
            await body(runtime, manager)
        finally:
            runtime.stop()
            await runtime.stopped

    try:
        run_loop(main, asyncio.new_event_loop())
    finally:
        runtime_module.Runtime._instance = None


async def until(condition, guard_s: float = 10.0) -> bool:
    """Yield to the event loop until `condition()` holds; False if it never did (a hang guard)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + guard_s
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def test_installed_and_idempotent(patched):
    assert getattr(runtime_module.Runtime.disconnect_session, "cc_release", False)
    assert getattr(MemoryUploadedFileManager.add_file, "cc_release", False)
    assert uploads_release.install()
    assert not getattr(MemoryUploadedFileManager.add_file.cc_original, "cc_release", False), "wrapped once"


def test_a_closed_tabs_uploads_are_released_and_streamlit_alone_keeps_them(patched):
    """Two students upload and close their tabs: Streamlit's own disconnect (the control) keeps the
    files with the session in its reconnect storage; the patched one releases them after the grace."""

    async def body(runtime, manager) -> None:
        plain, released = (runtime.connect_session(client=Client(), user_info={}) for _ in range(2))
        for sid in (plain, released):
            manager.add_file(sid, rec(f"{sid}-zip", MB))
        runtime_module.Runtime.disconnect_session.cc_original(runtime, plain)  # Streamlit as it is
        runtime.disconnect_session(released)
        assert not runtime.is_active_session(released)
        assert manager.get_files(released, [f"{released}-zip"]), "kept for a reconnect at first"
        assert await until(lambda: released not in manager.file_storage), "released after the grace"
        assert manager.get_files(plain, [f"{plain}-zip"]), "Streamlit alone: still held"
        assert manager.get_stats()["cache_memory_bytes"][0].byte_length == MB, "only the control's file"

    with_runtime(body)


def test_a_reconnect_within_the_grace_keeps_the_files(patched, monkeypatch):
    monkeypatch.setenv(uploads_release.ENV_GRACE, "0.2")

    async def body(runtime, manager) -> None:
        sid = runtime.connect_session(client=Client(), user_info={})
        manager.add_file(sid, rec("zip", MB))
        runtime.disconnect_session(sid)
        assert runtime.connect_session(client=Client(), user_info={}, existing_session_id=sid) == sid
        assert await until(lambda: sid not in uploads_release._pending), "the scheduled release ran"
        assert manager.get_files(sid, ["zip"]), "a network blip keeps the student's upload"
        runtime.close_session(sid)  # Streamlit's own close releases them, as before
        assert sid not in manager.file_storage

    with_runtime(body)


def test_a_session_holds_at_most_its_cap_and_a_replaced_file_counts_once(patched, monkeypatch):
    monkeypatch.setenv(uploads_release.ENV_SESSION_MB, "3")

    async def body(runtime, manager) -> None:
        sid = runtime.connect_session(client=Client(), user_info={})
        other = runtime.connect_session(client=Client(), user_info={})
        manager.add_file(sid, rec("a", 2 * MB))
        manager.add_file(sid, rec("a", 2 * MB))  # the same file again: replaces, 2 MB held
        manager.add_file(sid, rec("b", MB))  # 3 MB: at the cap
        with pytest.raises(HTTPException) as err:
            manager.add_file(sid, rec("c", 1))
        assert err.value.status_code == 413 and "at most 3 MB" in err.value.detail
        assert manager.get_files(sid, ["c"]) == [], "refused: not stored"
        manager.add_file(other, rec("a", 3 * MB))  # the cap is per session
        manager.remove_file(sid, "a")  # the uploader's delete makes room again
        manager.add_file(sid, rec("c", 2 * MB))
        assert manager.get_stats()["cache_memory_bytes"][0].byte_length == 6 * MB

    with_runtime(body)


def test_a_put_that_lands_after_its_session_closed_is_refused(patched):
    async def body(runtime, manager) -> None:
        sid = runtime.connect_session(client=Client(), user_info={})
        runtime.disconnect_session(sid)
        with pytest.raises(HTTPException) as err:
            manager.add_file(sid, rec("late", MB))
        assert err.value.status_code == 400 and sid not in manager.file_storage

    with_runtime(body)


def test_the_default_cap_is_twice_the_upload_limit_and_the_grace_within_the_ttl(monkeypatch):
    from streamlit import config

    monkeypatch.delenv(uploads_release.ENV_SESSION_MB, raising=False)
    monkeypatch.delenv(uploads_release.ENV_GRACE, raising=False)
    assert uploads_release.session_cap_bytes() == 2 * config.get_option("server.maxUploadSize") * MB
    assert uploads_release.grace_seconds() == uploads_release.GRACE_S
    monkeypatch.setenv(uploads_release.ENV_GRACE, "1000")
    assert uploads_release.grace_seconds() == config.get_option("server.disconnectedSessionTTL")
    monkeypatch.setenv(uploads_release.ENV_GRACE, "soon")
    assert uploads_release.grace_seconds() == uploads_release.GRACE_S


def test_not_installed_on_another_streamlit_or_when_switched_off(monkeypatch, caplog):
    """A faked other Streamlit version or a changed signature: one warning, Streamlit left alone."""
    real = runtime_module.Runtime
    original = getattr(real.disconnect_session, "cc_original", real.disconnect_session)

    class Other:
        disconnect_session = original
        is_active_session = real.is_active_session
        uploaded_file_mgr = real.uploaded_file_mgr

    monkeypatch.setattr(runtime_module, "Runtime", Other)
    monkeypatch.setattr(streamlit, "__version__", "1.68.0")
    with caplog.at_level(logging.WARNING):
        assert uploads_release.install() is False
    assert "written for Streamlit 1.67.x, found 1.68.0" in caplog.text
    assert Other.disconnect_session is original
    monkeypatch.setattr(streamlit, "__version__", "1.67.0")

    def changed(self, session_id):  # a Streamlit whose disconnect lost its client argument
        return None

    monkeypatch.setattr(Other, "disconnect_session", changed)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert uploads_release.install() is False
    assert "expected ('self', 'session_id', 'client')" in caplog.text and Other.disconnect_session is changed
    monkeypatch.setenv(uploads_release.ENV_RELEASE, "0")
    assert uploads_release.install() is False and not uploads_release.enabled()
    monkeypatch.delenv(uploads_release.ENV_RELEASE)
    monkeypatch.setenv("CNN_CLASSROOM_PATCHES", "off")
    assert not uploads_release.enabled()
