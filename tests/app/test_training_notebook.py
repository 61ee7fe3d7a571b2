"""AppTest: after a run, the Results tab offers the run as a notebook, built from the run itself."""

from __future__ import annotations

import io
import json
import zipfile

from tests.app.test_training import PAGE, _poll_until_done, _setup_small


def test_results_offer_the_run_as_a_notebook(open_page):
    at = open_page(PAGE, timeout=120)
    _setup_small(at)
    at.button(key="train_start").click().run()
    run = _poll_until_done(at)
    assert run.status == "finished", run.snapshot().message
    at.button(key="train_to_results").click().run()
    assert not at.exception, at.exception
    buttons = [b for b in at.get("download_button") if "notebook" in b.proto.label]
    assert len(buttons) == 1 and buttons[0].proto.label.endswith("Download as notebook (.zip)")
    # What the button's deferred data builds, from the run the page holds.
    from cnnlib.training import notebook_zip

    with zipfile.ZipFile(io.BytesIO(notebook_zip(run.spec, run.bundle, run.config))) as z:
        nb = json.loads(z.read("experiment.ipynb"))
        assert nb["nbformat"] == 4 and any("class Net" in "".join(c["source"]) for c in nb["cells"])
        assert "data.npz" in z.namelist()
