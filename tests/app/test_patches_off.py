"""With every patch of Streamlit's internals off (CNN_CLASSROOM_PATCHES=0), nothing is wrapped and the
pages still render: the app never depends on a patch, only gains from it (pages/ui/runtime/guard.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = """
import importlib
from streamlit.runtime import app_session
from streamlit.runtime.runtime import Runtime
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest
import pages.ui.frame  # installs what is switched on
from pages.ui.runtime import widget_state

assert not getattr(script_runner.ScriptRunner._run_script, "cc_gated", False), "admission installed"
assert not getattr(app_session.AppSession._on_scriptrunner_event, "cc_batched", False), "batching installed"
assert not getattr(Runtime.disconnect_session, "cc_release", False), "uploads_release installed"
assert not getattr(app_session.AppSession._clear_queue, "cc_keep_finished", False), "finished_runs installed"
assert not getattr(script_runner.ScriptRunner._run_script, "cc_fragment_page", False), "fragment_page installed"
lookups = [importlib.import_module("streamlit.elements.widgets." + m).get_session_state for m in widget_state.MODULES]
assert not any(getattr(f, "cc_lazy", False) for f in lookups), "widget_state installed"
at = AppTest.from_file("app.py", default_timeout=60).run()
assert not at.exception, at.exception
for page in ("pages/1_kernels.py", "pages/3_model_builder.py"):
    at.switch_page(page).run()
    assert not at.exception, (page, at.exception)
    assert at.title and at.title[0].value.endswith(("Kernels", "Model builder")), page
print("rendered")
"""


def test_pages_render_with_every_patch_off():
    env = {**os.environ, "CNN_CLASSROOM_PATCHES": "0"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "rendered" in out.stdout
