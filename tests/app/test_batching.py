"""Script events reach the event loop in batches (pages/ui/batching.py): same events, same order, fewer wake-ups."""

from __future__ import annotations

import asyncio
import threading

from streamlit.runtime import app_session

from pages.ui import batching


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
        wrapped(session, None, "msg", forward_msg=i)
        if pause_every and i % pause_every == 0:
            threading.Event().wait(0.001)
    wrapped(session, None, "stopped")


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
    assert session.handled[-1][0] == "stopped"
    batch = batching.batch_of(session)
    assert batch.events == n + 1 and batch.wakeups == session.hops
    assert session.hops == 1  # the loop was not running: one wake-up carried every event


def test_off_by_environment():
    assert batching.enabled({}) is True
    for off in ("0", "off", "false", "No"):
        assert batching.enabled({batching.ENV_BATCH: off}) is False


def test_order_kept_while_the_loop_drains_concurrently():
    batching.install()
    loop = asyncio.new_event_loop()
    session = FakeSession(loop)
    n = 2000

    async def until_stopped() -> None:
        t = threading.Thread(target=send_run, args=(session, n, 97))
        t.start()
        while not session.handled or session.handled[-1][0] != "stopped":
            await asyncio.sleep(0.001)
        t.join()

    run_loop(lambda: asyncio.wait_for(until_stopped(), 30), loop)
    assert [m for _, m in session.handled] == [*range(n), None]
    assert 1 < session.hops < n  # several batches, far fewer than one per event
