"""A fragment's stale rerun (its timer tick sent for the page the session just left) runs on the page
on screen, not as a page change back to the old page (pages/ui/runtime/fragment_page.py; the third cause
of issue 23's blank page), on Streamlit's real ScriptRunner and RerunData."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import streamlit
from streamlit.runtime.scriptrunner import script_runner
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

from pages.ui.runtime import fragment_page, guard

BUILDER, TRAINING = "68f04ee9", "de1fed4d"


def test_a_stale_fragment_tick_moves_to_the_page_on_screen():
    tick = RerunData(page_script_hash=BUILDER, fragment_id_queue=["class strip"], is_auto_rerun=True)
    moved = fragment_page.on_current_page(tick, TRAINING)
    assert moved.page_script_hash == TRAINING
    assert moved.fragment_id_queue == ["class strip"] and moved.is_auto_rerun  # the rest as it was
    assert tick.page_script_hash == BUILDER  # the request itself is not changed


def test_full_runs_and_ticks_of_the_page_on_screen_are_untouched():
    full = RerunData(page_script_hash=BUILDER)  # a page switch: a full run of another page
    assert fragment_page.on_current_page(full, TRAINING) is full
    here = RerunData(page_script_hash=TRAINING, fragment_id_queue=["class strip"])
    assert fragment_page.on_current_page(here, TRAINING) is here
    first = RerunData(page_script_hash=BUILDER, fragment_id_queue=["class strip"])
    assert fragment_page.on_current_page(first, "") is first  # no run yet: nothing to compare with
    main = RerunData(page_script_hash="", fragment_id_queue=["class strip"])
    assert fragment_page.on_current_page(main, TRAINING) is main


def test_installed_on_the_real_script_runner(monkeypatch):
    seen = []

    def recorder(self, rerun_data):
        seen.append(rerun_data)

    monkeypatch.setattr(script_runner.ScriptRunner, "_run_script", recorder)
    assert fragment_page.install() is True
    assert fragment_page.install() is True  # idempotent
    wrapped = script_runner.ScriptRunner._run_script
    assert guard.parameters(wrapped) == guard.parameters(recorder)
    runner = SimpleNamespace(_get_script_run_ctx=lambda: SimpleNamespace(page_script_hash=TRAINING))
    wrapped(runner, RerunData(page_script_hash=BUILDER, fragment_id_queue=["class strip"]))
    wrapped(runner, RerunData(page_script_hash=BUILDER))
    assert [d.page_script_hash for d in seen] == [TRAINING, BUILDER]


def test_not_installed_on_another_streamlit_or_when_switched_off(monkeypatch, caplog):
    def plain(self, rerun_data):
        return None

    monkeypatch.setattr(script_runner.ScriptRunner, "_run_script", plain)
    monkeypatch.setattr(streamlit, "__version__", "1.68.0")
    with caplog.at_level(logging.WARNING):
        assert fragment_page.install() is False
    assert "written for Streamlit 1.67" in caplog.text and script_runner.ScriptRunner._run_script is plain
    monkeypatch.setattr(streamlit, "__version__", "1.67.0")
    monkeypatch.setenv(fragment_page.ENV_FRAGMENT_PAGE, "0")
    assert fragment_page.install() is False and script_runner.ScriptRunner._run_script is plain


def test_two_patches_on_one_method_each_find_themselves():
    """admission and fragment_page both wrap ScriptRunner._run_script: installing either again finds
    it under the other (no double wrapping), and Streamlit's own method is at the bottom."""
    import pages.ui.frame  # noqa: F401  (installs every patch)
    from pages.ui.runtime import admission

    top = script_runner.ScriptRunner._run_script
    assert guard.has_patch(top, "cc_gated") and guard.has_patch(top, "cc_fragment_page")
    assert admission.install() is True and fragment_page.install() is True
    assert script_runner.ScriptRunner._run_script is top  # nothing wrapped twice
    bottom = guard.innermost(top)
    assert bottom.__qualname__ == "ScriptRunner._run_script" and not hasattr(bottom, "cc_original")
