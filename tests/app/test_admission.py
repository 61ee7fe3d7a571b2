"""The admission limit on page opens (pages/ui/admission.py): which runs wait, and that pages still run."""

from __future__ import annotations

import threading
import time

from streamlit.runtime.scriptrunner import script_runner

from pages.ui import admission as A


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
    gate = A.PageGate(1)
    inside, most, clicks = [0], [0], []
    lock = threading.Lock()

    def work() -> None:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.02)
        with lock:
            inside[0] -= 1

    sessions = [_Session() for _ in range(6)]
    threads = [threading.Thread(target=gate.run, args=(s, "p", None, work)) for s in sessions]
    for th in threads:
        th.start()
    # while the opens queue, a click (a rerun of the page a session is on) goes straight through
    clicker = sessions[0]
    gate.opens_page(clicker, "p", None)
    t0 = time.perf_counter()
    gate.run(clicker, "p", None, lambda: clicks.append(time.perf_counter() - t0))
    for th in threads:
        th.join()
    assert most[0] == 1 and clicks and clicks[0] < 0.05


def test_slots_from_the_environment():
    assert A.configured_slots({}) == A.DEFAULT_SLOTS == 1
    assert A.configured_slots({A.ENV_SLOTS: "0"}) == 0
    assert A.configured_slots({A.ENV_SLOTS: "3"}) == 3
    assert A.configured_slots({A.ENV_SLOTS: "lots"}) == 1
    off = A.PageGate(0)
    assert off.run(_Session(), "p", None, lambda: "ran") == "ran"


def test_installed_once_and_every_page_still_runs():
    import pages.ui.frame  # noqa: F401  (installs it)

    assert getattr(script_runner.ScriptRunner._run_script, "cc_gated", False)
    assert A.install() is True  # idempotent
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60).run()
    assert not at.exception
    for page in ("pages/1_kernels.py", "pages/2_shape_calculator.py"):
        at.switch_page(page).run()
        assert not at.exception, page
