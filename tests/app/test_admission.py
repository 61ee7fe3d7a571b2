"""The admission limit on page opens (pages/ui/runtime/admission.py): which runs wait, and that pages still run."""

from __future__ import annotations

import logging
import threading

import streamlit
from streamlit.runtime.scriptrunner import script_runner

from pages.ui.runtime import admission as A
from pages.ui.runtime import guard
from tests.conftest import open_app


class _Session:  # stands for a session's SessionState (weak-referenceable)
    pass


def test_page_opens_are_first_runs_and_page_changes_only():
    gate, s, t = A.PageGate(1), _Session(), _Session()
    assert gate.opens_page(s, "", None)  # a session's first run
    assert not gate.opens_page(s, "", None)  # a widget rerun of the same page
    assert gate.opens_page(s, "kernels-hash", None)  # a page link
    assert not gate.opens_page(s, "kernels-hash", ["fragment-1"])  # a fragment: never waits
    assert not gate.opens_page(s, "kernels-hash", None)
    assert gate.opens_page(t, "kernels-hash", None)  # another session
    del t
    import gc

    gc.collect()
    assert len(gate) == 1  # a session gone is forgotten


def test_one_slot_serialises_page_opens_but_never_clicks():
    """While one page open holds the slot and five wait, a click runs at once (it would wait forever
    if it needed the slot: the open holding it waits for the click). Timed: benchmarks/bench_limits.py."""
    gate = A.PageGate(1)
    inside, most, clicks = [0], [0], []
    lock = threading.Lock()
    holding, clicked = threading.Event(), threading.Event()

    def work() -> None:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        holding.set()
        clicked.wait(30)  # the first open holds the slot until the click has run
        with lock:
            inside[0] -= 1

    sessions = [_Session() for _ in range(6)]
    threads = [threading.Thread(target=gate.run, args=(s, "p", None, work)) for s in sessions]
    for th in threads:
        th.start()
    clicker = _Session()
    gate.opens_page(clicker, "p", None)  # its page is open: what follows is a click on it
    assert holding.wait(30)

    def click() -> None:
        clicks.append(inside[0])  # page opens running while the click runs
        clicked.set()

    t = threading.Thread(target=gate.run, args=(clicker, "p", None, click))
    t.start()
    assert clicked.wait(30), "the click waited for the page opens"
    for th in (*threads, t):
        th.join()
    assert most[0] == 1 and clicks == [1]


def test_slots_from_the_environment():
    assert A.configured_slots({}) == A.DEFAULT_SLOTS == 1
    assert A.configured_slots({A.ENV_SLOTS: "0"}) == 0
    assert A.configured_slots({A.ENV_SLOTS: "3"}) == 3
    assert A.configured_slots({A.ENV_SLOTS: "lots"}) == 1
    off = A.PageGate(0)
    assert off.run(_Session(), "p", None, lambda: "ran") == "ran"


def test_installed_once_and_every_page_still_runs():
    import pages.ui.frame  # noqa: F401  (installs it)

    assert guard.has_patch(script_runner.ScriptRunner._run_script, "cc_gated")
    assert A.install() is True  # idempotent
    at = open_app()
    for page in ("pages/1_kernels.py", "pages/2_shape_calculator.py"):
        at.switch_page(page).run()
        assert not at.exception, page


def _streamlits_run_script():
    return guard.innermost(script_runner.ScriptRunner._run_script)  # under every patch


def test_not_installed_on_another_streamlit(monkeypatch, caplog):
    """A faked other Streamlit version, or a changed signature: one warning, Streamlit left alone."""
    original = _streamlits_run_script()
    other = type("ScriptRunner", (script_runner.ScriptRunner,), {"_run_script": original})
    monkeypatch.setattr(script_runner, "ScriptRunner", other)
    monkeypatch.setattr(streamlit, "__version__", "1.68.0")
    with caplog.at_level(logging.WARNING):
        assert A.install(A.PageGate(1)) is False
    assert caplog.text.count("written for Streamlit 1.67") == 1
    assert other.__dict__["_run_script"] is original

    monkeypatch.setattr(streamlit, "__version__", "1.67.0")
    changed = type("ScriptRunner", (other,), {"_run_script": lambda self, rerun_data, extra=None: None})
    monkeypatch.setattr(script_runner, "ScriptRunner", changed)
    with caplog.at_level(logging.WARNING):
        assert A.install(A.PageGate(1)) is False  # a new parameter: not the method it was written for
    assert "takes ('self', 'rerun_data', 'extra')" in caplog.text
    assert getattr(changed._run_script, "cc_gated", False) is False


def test_not_installed_when_switched_off(monkeypatch):
    original = _streamlits_run_script()
    other = type("ScriptRunner", (script_runner.ScriptRunner,), {"_run_script": original})
    monkeypatch.setattr(script_runner, "ScriptRunner", other)
    for env in (A.ENV_SLOTS, guard.ENV_PATCHES):
        monkeypatch.setenv(env, "0")
        assert A.install(A.PageGate(1)) is False
        monkeypatch.delenv(env)
    assert A.install(A.PageGate(0)) is False  # no slots: nothing to limit
    assert not getattr(other._run_script, "cc_gated", False)
    assert A.install(A.PageGate(1)) is True and other._run_script.cc_original is original  # switched on
