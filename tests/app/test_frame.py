"""AppTest: the landing page and every page open through app.py with the shared frame."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, open_app

PAGE_FILES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))


def _menu_labels(at: AppTest) -> list[str]:
    return [el.proto.label for el in at.sidebar.get("page_link")]


def test_landing_page_has_menu_links_and_device(open_page):
    at = open_page()
    assert not at.exception
    assert at.title[0].value.endswith("CNN Classroom")
    labels = _menu_labels(at)
    assert labels == [
        "Home",
        "Kernels",
        "Shape calculator",
        "Model builder",
        "Training",
        "Draw & predict",
        "Class board",
        "Glossary",
    ]
    assert any("Compute device" in m.value for m in at.markdown)  # in its text, so not in the sidebar
    assert not any("Compute" in c.value for c in at.sidebar.caption)


def test_five_lesson_pages_the_class_board_and_the_glossary_exist():
    assert len(PAGE_FILES) == 7 and PAGE_FILES[-2].endswith("6_class_board.py")
    assert PAGE_FILES[-1].endswith("7_glossary.py")


@pytest.mark.parametrize("page", PAGE_FILES)
def test_every_page_opens_with_the_frame(page, open_page):
    at = open_page(page)
    assert not at.exception, f"{page}: {at.exception}"
    assert _menu_labels(at)[0] == "Home"
    assert at.title, f"{page} has no title"
    assert any(c.value.startswith("Compute:") for c in at.sidebar.caption)  # the device, on every page


def test_deep_link_without_landing_page_still_has_frame():
    """A fresh session whose first run is a page (as a deep link is) draws the frame."""
    at = open_app(PAGE_FILES[0], landing=False)
    assert "Home" in _menu_labels(at)


def test_cnnlib_never_imports_streamlit():
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, sys, cnnlib\n"
        "for m in pkgutil.walk_packages(cnnlib.__path__, 'cnnlib.'):\n"  # every module, at any depth
        "    importlib.import_module(m.name)\n"
        "assert 'streamlit' not in sys.modules, [k for k in sys.modules if k.startswith('streamlit')]\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def _run_fresh(code: str) -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


def test_the_landing_page_does_not_import_torch():
    """A class opens the landing page first: it must not load torch (1 s, 300-500 MB) for anyone."""
    _run_fresh(
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=30).run()\n"
        "assert not at.exception, at.exception\n"
        "assert 'torch' not in sys.modules, 'the landing page imported torch'\n"
        "assert any('Compute device' in m.value for m in at.markdown)\n"
    )


def test_first_model_summary_is_prepaid_in_the_background_once_torch_is_loaded():
    _run_fresh(
        "import sys\n"
        "import pages.ui.frame as F\n"
        "assert 'torch' not in sys.modules\n"
        "assert F.prepay_model_summaries() is None  # no torch yet: nothing to prepare\n"
        "import torch\n"
        "t = F.prepay_model_summaries()\n"
        "assert t is not None\n"
        "t.join(60)\n"
        "assert 'torch._dynamo' in sys.modules  # what the first meta-device summary loads\n"
        "assert F.prepay_model_summaries() is None  # once per process\n"
    )


def test_a_process_exiting_while_the_prepay_runs_exits_cleanly():
    """Started from a script thread (a daemon, in Streamlit and AppTest), the prepay thread is still
    no daemon: the interpreter waits for it instead of aborting inside torch (SIGABRT, rc 134)."""
    _run_fresh(
        "import threading\n"
        "import torch\n"
        "import pages.ui.frame as F\n"
        "found = []\n"
        "script = threading.Thread(target=lambda: found.append(F.prepay_model_summaries()), daemon=True)\n"
        "script.start()\n"
        "script.join()\n"
        "assert found[0] is not None and not found[0].daemon\n"
        "# exits at once, the summary still running\n"
    )


@pytest.mark.parametrize(
    "page,key,option,words",
    [
        ("pages/2_shape_calculator.py", "sc_explain", "Why round down (floor)?", "rounds **down**"),
        ("pages/3_model_builder.py", "b_explain", "Why do shapes shrink?", r"n_\text{out}"),
        ("pages/4_training.py", "train_explain", "Learning rate", "The size of each step"),
    ],
)
def test_explanations_open_one_at_a_time(page, key, option, words, open_page):
    """The explanations are a row of pills: nothing until one is picked, then just that one."""
    at = open_page(page)
    assert not any(words in m.value for m in at.markdown)
    at.button_group(key=key).set_value(option).run()
    assert not at.exception
    assert sum(words in m.value for m in at.markdown) == 1
