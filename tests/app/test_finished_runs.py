"""A finished run's messages are never dropped by the fragment run that starts right after it
(pages/ui/runtime/finished_runs.py; the second cause of issue 23's blank page), against a real AppSession."""

from __future__ import annotations

import asyncio
import logging

import streamlit
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import app_session
from streamlit.runtime.scriptrunner.script_runner import ScriptRunnerEvent as Event
from streamlit.runtime.scriptrunner_utils.run_descriptor import RunDescriptor

from pages.ui.runtime import finished_runs
from tests.app.test_batching import real_session, run_loop

FRAGMENT = "class strip"


def element(path: list[int], fragment: str = "", block: bool = False) -> ForwardMsg:
    msg = ForwardMsg()
    if block:
        msg.delta.add_block.vertical.SetInParent()
    else:
        msg.delta.new_element.markdown.body = f"at {path}"
    msg.delta.fragment_id = fragment
    msg.metadata.delta_path[:] = path
    return msg


def full_run_then_fragment_run(session: app_session.AppSession) -> list[tuple[str, list[int], str]]:
    """What Train did on a student's page: a full run (with the class strip fragment's container and
    element) finishes; before the send loop runs, the strip's timer starts a fragment run."""
    handle, runner = session._handle_scriptrunner_event_on_event_loop, session._scriptrunner
    run = RunDescriptor.create()
    handle(runner, Event.SCRIPT_STARTED, page_script_hash="p", run_descriptor=run, pages={})
    handle(runner, Event.ENQUEUE_FORWARD_MSG, forward_msg=element([0, 0]))
    handle(runner, Event.ENQUEUE_FORWARD_MSG, forward_msg=element([0, 1], FRAGMENT, block=True))
    handle(runner, Event.ENQUEUE_FORWARD_MSG, forward_msg=element([0, 1, 0], FRAGMENT))
    handle(runner, Event.ENQUEUE_FORWARD_MSG, forward_msg=element([0, 2]))
    handle(runner, Event.SCRIPT_STOPPED_WITH_SUCCESS, run_descriptor=run)
    fragment_run = RunDescriptor.create()
    handle(
        runner,
        Event.SCRIPT_STARTED,
        page_script_hash="p",
        run_descriptor=fragment_run,
        pages={},
        fragment_ids_this_run=[FRAGMENT],
    )
    handle(runner, Event.ENQUEUE_FORWARD_MSG, forward_msg=element([0, 1], FRAGMENT, block=True))
    handle(runner, Event.ENQUEUE_FORWARD_MSG, forward_msg=element([0, 1, 0], FRAGMENT))
    return [
        (m.WhichOneof("type"), list(m.metadata.delta_path), m.delta.fragment_id)
        for m in session.flush_browser_queue()
    ]


def scenario() -> list:
    loop = asyncio.new_event_loop()
    found: dict = {}

    async def go() -> None:
        session, _ = real_session()
        found["sent"] = full_run_then_fragment_run(session)

    run_loop(go, loop)
    return found["sent"]


def deltas(sent: list) -> list:
    return [(path, frag) for kind, path, frag in sent if kind == "delta"]


def test_on_streamlit_as_it_is_the_full_run_loses_its_fragment(monkeypatch):
    """The bug, shown on Streamlit's own method (the patch's original): the full run's class strip
    container is cleared, its [0, 2] element is kept: the browser cannot place what follows."""
    current = app_session.AppSession._clear_queue
    monkeypatch.setattr(app_session.AppSession, "_clear_queue", getattr(current, "cc_original", current))
    assert deltas(scenario()) == [([0, 0], ""), ([0, 2], ""), ([0, 1], FRAGMENT), ([0, 1, 0], FRAGMENT)]


def test_a_finished_run_reaches_the_browser_whole():
    assert finished_runs.install() is True
    assert finished_runs.install() is True  # idempotent
    sent = scenario()
    assert deltas(sent) == [
        ([0, 0], ""),
        ([0, 1], FRAGMENT),
        ([0, 1, 0], FRAGMENT),
        ([0, 2], ""),
        ([0, 1], FRAGMENT),  # the fragment run's own, after the finished run
        ([0, 1, 0], FRAGMENT),
    ]
    kinds = [k for k, _, _ in sent]
    finished = [i for i, k in enumerate(kinds) if k == "script_finished"]
    assert len(finished) == 1 and kinds.index("delta") < finished[0] < len(kinds) - 3
    assert kinds.count("new_session") == 2


def test_finished_part_counts_up_to_the_last_script_finished():
    done = ForwardMsg()
    done.script_finished = ForwardMsg.FINISHED_SUCCESSFULLY
    queue = [element([0, 0]), done, element([0, 1]), done, element([0, 2])]
    assert finished_runs.finished_part(queue) == 4
    assert finished_runs.finished_part([element([0, 0])]) == 0
    assert finished_runs.finished_part([]) == 0


def test_not_installed_on_another_streamlit_or_when_switched_off(monkeypatch, caplog):
    current = app_session.AppSession._clear_queue
    original = getattr(current, "cc_original", current)
    other = type("AppSession", (app_session.AppSession,), {"_clear_queue": original})
    monkeypatch.setattr(app_session, "AppSession", other)
    monkeypatch.setattr(streamlit, "__version__", "1.68.0")
    with caplog.at_level(logging.WARNING):
        assert finished_runs.install() is False
    assert "written for Streamlit 1.67" in caplog.text and other.__dict__["_clear_queue"] is original
    monkeypatch.setattr(streamlit, "__version__", "1.67.0")
    monkeypatch.setenv(finished_runs.ENV_KEEP, "0")
    assert finished_runs.install() is False and other.__dict__["_clear_queue"] is original
