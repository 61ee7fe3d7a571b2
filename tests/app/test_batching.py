"""Script events reach the event loop in batches (pages/ui/runtime/batching.py): same events, same order, fewer
wake-ups; a run's end and a rerun request flush the batch first (the blank page of issue 23), checked
against a real AppSession; the patch installs only on the Streamlit it was written for."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
import streamlit
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import app_session
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.script_data import ScriptData
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.runtime.scriptrunner.script_runner import ScriptRunnerEvent as Event
from streamlit.runtime.scriptrunner_utils.run_descriptor import RunDescriptor

from pages.ui.runtime import batching, guard

MSG, STOPPED = Event.ENQUEUE_FORWARD_MSG, Event.SCRIPT_STOPPED_WITH_SUCCESS


class FakeSession:
    """What the wrapped method uses of an AppSession: the loop hop and the handler."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = self._event_loop = loop
        self.handled: list[tuple] = []
        self.hops = 0

    def _call_soon_on_event_loop(self, callback) -> None:
        self.hops += 1
        self.loop.call_soon_threadsafe(callback)

    def _handle_scriptrunner_event_on_event_loop(self, sender, event, forward_msg=None, *rest) -> None:
        assert asyncio.get_running_loop() is self.loop  # handled on the event loop, never elsewhere
        self.handled.append((event, forward_msg))


def run_loop(coro_factory, loop: asyncio.AbstractEventLoop) -> None:
    """Run a coroutine on `loop` in a thread of its own (the main thread may hold a browser
    test's event loop already), then close the loop."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            loop.run_until_complete(coro_factory())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            loop.close()

    t = threading.Thread(target=target)
    t.start()
    t.join(60)
    assert not t.is_alive() and not errors, errors


def send_run(session: FakeSession, n: int, pause_every: int = 0) -> None:
    """What a script run sends: n messages through the wrapped method, then its end; pausing 1 ms
    every `pause_every` messages lets a running loop drain part of it."""
    wrapped = app_session.AppSession._on_scriptrunner_event
    for i in range(n):
        wrapped(session, None, MSG, forward_msg=i)
        if pause_every and i % pause_every == 0:
            threading.Event().wait(0.001)
    wrapped(session, None, STOPPED)


def test_installed_on_appsession_and_idempotent():
    assert batching.install() is True
    assert getattr(app_session.AppSession._on_scriptrunner_event, "cc_batched", False)
    assert batching.install() is True  # a second call changes nothing
    assert app_session.AppSession._on_scriptrunner_event.cc_original is not None  # kept alive


def test_events_keep_their_order_with_fewer_wakeups():
    batching.install()
    loop = asyncio.new_event_loop()
    session = FakeSession(loop)
    n = 500
    t = threading.Thread(target=send_run, args=(session, n))  # while the loop is busy elsewhere
    t.start()
    t.join()
    run_loop(lambda: asyncio.sleep(0.05), loop)
    assert [m for _, m in session.handled] == [*range(n), None]
    assert session.handled[-1][0] == STOPPED
    batch = batching.batch_of(session)
    assert batch.events == n + 1 and batch.wakeups == session.hops
    # The loop was not running: one wake-up carried the messages, the run's end asked for one more
    # (a drain right away), which found everything already taken.
    assert session.hops == 2


def test_off_by_environment():
    assert batching.enabled({}) is True
    for off in ("0", "off", "false", "No"):
        assert batching.enabled({batching.ENV_BATCH: off}) is False
        assert batching.enabled({guard.ENV_PATCHES: off}) is False  # every patch off at once


def test_order_kept_while_the_loop_drains_concurrently():
    batching.install()
    loop = asyncio.new_event_loop()
    session = FakeSession(loop)
    n = 2000

    async def until_stopped() -> None:
        t = threading.Thread(target=send_run, args=(session, n, 97))
        t.start()
        while not session.handled or session.handled[-1][0] != STOPPED:
            await asyncio.sleep(0.001)
        t.join()

    run_loop(lambda: asyncio.wait_for(until_stopped(), 30), loop)
    assert [m for _, m in session.handled] == [*range(n), None]
    assert 1 < session.hops < n  # several batches, far fewer than one per event


class StoppedRunner:
    """A ScriptRunner that has finished its run: it can take no rerun request."""

    def request_rerun(self, rerun_data) -> bool:
        return False

    def request_stop(self) -> None:
        pass


def real_session() -> tuple[app_session.AppSession, list]:
    """A real AppSession (made on the running loop) whose current runner has finished; starting a
    new runner records it instead of running a script."""
    session = app_session.AppSession(
        ScriptData("app.py"), MemoryUploadedFileManager("/upload"), ScriptCache(), None, {}
    )
    session._scriptrunner = StoppedRunner()
    started: list = []

    def create(rerun_data) -> None:
        started.append(rerun_data)
        session._scriptrunner = StoppedRunner()

    session._create_scriptrunner = create  # type: ignore[method-assign]
    session.has_fragment = lambda fragment_id: True  # type: ignore[method-assign]
    return session, started


def finish_a_run(session: app_session.AppSession, elements: int) -> None:
    """From the script thread: what one full run sends, start to shutdown."""
    runner, run = session._scriptrunner, RunDescriptor.create()
    session._on_scriptrunner_event(
        runner, Event.SCRIPT_STARTED, page_script_hash="p", run_descriptor=run, pages={}
    )
    for i in range(elements):
        msg = ForwardMsg()
        msg.delta.new_element.markdown.body = f"element {i}"
        msg.metadata.delta_path[:] = [0, i]
        session._on_scriptrunner_event(runner, MSG, forward_msg=msg)
    session._on_scriptrunner_event(runner, STOPPED, run_descriptor=run)
    session._on_scriptrunner_event(runner, Event.SHUTDOWN)


def kinds(session: app_session.AppSession) -> list[str]:
    return [m.WhichOneof("type") for m in session.flush_browser_queue()]


def test_a_fragment_tick_right_after_a_run_does_not_drop_that_run():
    """The blank page: a run_every fragment's tick reaches the loop inside the batch window after a
    full run has finished. Streamlit then starts a new runner and drops every event of the old one
    that it has not handled yet; batched, that was the whole run (new_session, elements, finish),
    so the browser applied the next fragment deltas to blocks it never got. The rerun request now
    handles the queued events first, as an unbatched session would."""
    batching.install()
    loop = asyncio.new_event_loop()
    found: dict = {}

    async def scenario() -> None:
        session, started = real_session()
        t = threading.Thread(target=finish_a_run, args=(session, 5))
        t.start()
        t.join()
        await asyncio.sleep(0)  # the loop hops the events took; the 3 ms window has not passed
        tick = ClientState()
        tick.fragment_id = "live chart"
        session.request_rerun(tick)
        await asyncio.sleep(batching.WINDOW_S * 5)
        found["kinds"], found["started"] = kinds(session), len(started)

    run_loop(scenario, loop)
    assert found["started"] == 1  # the tick did start a new runner
    assert found["kinds"] == [
        "new_session",
        "session_status_changed",
        *["delta"] * 5,
        "script_finished",
        "session_status_changed",
    ]


def test_an_error_on_a_back_message_reaches_the_browser_after_its_run_starts():
    """handle_backmsg_exception ends the run, starts an error run and enqueues the exception in a
    callback after them: the order an unbatched session keeps, so the error is not cleared."""
    batching.install()
    loop = asyncio.new_event_loop()
    found: dict = {}

    async def scenario() -> None:
        session, _ = real_session()
        session.handle_backmsg_exception(RuntimeError("a bad request"))
        await asyncio.sleep(batching.WINDOW_S * 5)
        found["kinds"] = kinds(session)

    run_loop(scenario, loop)
    order = found["kinds"]  # the exception is an element (a delta) of the error run
    assert order.count("delta") == 1 and order.index("new_session") < order.index("delta"), order
    assert order[-1] == "delta", order


def test_one_failing_event_does_not_drop_the_rest(caplog):
    batching.install()
    loop = asyncio.new_event_loop()
    session = FakeSession(loop)
    handled = session._handle_scriptrunner_event_on_event_loop

    def flaky(sender, event, forward_msg=None, *rest) -> None:
        if forward_msg == 3:
            raise ValueError("one bad event")
        handled(sender, event, forward_msg, *rest)

    session._handle_scriptrunner_event_on_event_loop = flaky  # type: ignore[method-assign]
    send_run(session, 6)
    with caplog.at_level(logging.ERROR):
        run_loop(lambda: asyncio.sleep(0.05), loop)
    assert [m for _, m in session.handled] == [0, 1, 2, 4, 5, None]
    assert "A script event failed" in caplog.text


def test_not_installed_on_another_streamlit(monkeypatch, caplog):
    """A faked other Streamlit version, or a changed signature: one warning, Streamlit left alone."""
    original = getattr(app_session.AppSession._on_scriptrunner_event, "cc_original", None)
    original = original or app_session.AppSession._on_scriptrunner_event
    other = type("AppSession", (app_session.AppSession,), {"_on_scriptrunner_event": original})
    monkeypatch.setattr(app_session, "AppSession", other)
    monkeypatch.setattr(streamlit, "__version__", "1.68.0")
    with caplog.at_level(logging.WARNING):
        assert batching.install() is False
    assert "written for Streamlit 1.67" in caplog.text
    assert other.__dict__["_on_scriptrunner_event"] is original and "request_rerun" not in other.__dict__

    monkeypatch.setattr(streamlit, "__version__", "1.67.0")
    changed = type("AppSession", (other,), {"request_rerun": lambda self, client_state, extra=None: None})
    monkeypatch.setattr(app_session, "AppSession", changed)
    assert batching.install() is False  # a new parameter: not the method it was written for
    assert "takes ('self', 'client_state', 'extra')" in caplog.text


def test_guard_reads_the_switches():
    assert guard.switched_on("X", {}) is True
    assert guard.switched_on("X", {"X": "off"}) is False
    assert guard.switched_on("X", {guard.ENV_PATCHES: "0"}) is False
    assert guard.fits("p", [], version="1.67.0") is True
    assert guard.fits("p", [], version="1.66.2") is False


@pytest.mark.parametrize("name", ["_on_scriptrunner_event", "request_rerun"])
def test_installed_methods_keep_streamlit_signatures(name):
    batching.install()
    wrapped = getattr(app_session.AppSession, name)
    assert guard.parameters(wrapped) == guard.parameters(wrapped.cc_original)
