"""The shared frame: page config, the navigation menu, the sidebar and session-state defaults.

Every page, the landing page included, calls `frame(<page key>)` first, so it renders the same
from the menu, a deep link on a fresh server, or AppTest.
"""

from __future__ import annotations

import copy
import os
import sys
import threading
from dataclasses import dataclass

# One torch thread per script run, set before anything imports torch: a class's thirty sessions are
# the server's parallelism, and a second OpenMP thread spinning between tiny operations only burns a
# shared core (measured: a Draw stroke cost 149 ms of server CPU with 2 threads, 59 ms with 1).
# Training runs in processes of their own, which set their own thread count (cnnlib.training).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])

import streamlit as st  # noqa: E402

from cnnlib.device import device_label  # noqa: E402
from cnnlib.process import limit_malloc_arenas  # noqa: E402
from pages.ui import admission  # noqa: E402
from pages.ui.glossary import render_glossary  # noqa: E402

admission.install()  # page opens queue for a slot; clicks, strokes and fragment ticks never wait

# Every session's script runs in its own thread: cap malloc's per-thread arenas, or the heap stays
# fragmented (and hundreds of MB larger) after a class has gone (cnnlib/process.py, loadtest/RESULTS.md).
limit_malloc_arenas()


@dataclass(frozen=True)
class PageInfo:
    key: str
    path: str
    title: str
    icon: str
    blurb: str


PAGES: list[PageInfo] = [
    PageInfo("home", "app.py", "CNN Classroom", ":material/school:", "Start here: what each page teaches."),
    PageInfo(
        "kernels",
        "pages/1_kernels.py",
        "Kernels",
        ":material/filter_center_focus:",
        "Slide a hand-designed kernel over an image and see the feature map, one output pixel at a time.",
    ),
    PageInfo(
        "shapes",
        "pages/2_shape_calculator.py",
        "Shape calculator",
        ":material/straighten:",
        "Work out a layer's output size with the formula, check it against PyTorch, and quiz yourself.",
    ),
    PageInfo(
        "builder",
        "pages/3_model_builder.py",
        "Model builder",
        ":material/view_in_ar:",
        "Stack layers into a CNN and watch every shape, parameter count and receptive field.",
    ),
    PageInfo(
        "training",
        "pages/4_training.py",
        "Training",
        ":material/monitoring:",
        "Train a CNN live on real data, watch loss and accuracy move, then read what it learned.",
    ),
    PageInfo(
        "draw",
        "pages/5_draw_and_predict.py",
        "Draw & predict",
        ":material/draw:",
        "Draw a digit and see what the network sees: preprocessing, probabilities, feature maps, Grad-CAM.",
    ),
]
PAGE_BY_KEY = {p.key: p for p in PAGES}

# Session-state keys shared between pages, with their defaults.
DEFAULTS: dict[str, object] = {
    # The session's model: a ModelSpec as a JSON-able dict (None: the default preset is used).
    "model_spec": None,
    "model_spec_name": "SimpleCNN",
    # Models trained in this session (dicts made by the Training page), newest last.
    "trained_models": [],
}


def frame(page_key: str) -> PageInfo:
    """Set up the page: config, menu, sidebar, state defaults, title. Returns the page's info."""
    page = PAGE_BY_KEY[page_key]
    st.set_page_config(
        page_title=f"{page.title} · CNN Classroom" if page.key != "home" else "CNN Classroom",
        page_icon=page.icon,
        layout="wide",
        initial_sidebar_state="expanded",
    )
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = copy.deepcopy(value)  # never share a mutable default between sessions
    with st.sidebar:
        st.markdown("### :material/school: CNN Classroom")
        for p in PAGES:
            st.page_link(p.path, label=p.title if p.key != "home" else "Home", icon=p.icon)
        render_glossary()
        st.caption(f"Compute: {device_label()}")
    if page.key != "home":
        st.title(f"{page.icon} {page.title}")
    prepay_model_summaries()  # once per process, in the background, after a lesson page loaded torch
    return page


_prepay = {"started": False}
_prepay_lock = threading.Lock()


def _first_summary() -> None:
    from cnnlib import spec as S

    S.summarize_partial(S.PRESETS[S.DEFAULT_PRESET])


def prepay_model_summaries() -> threading.Thread | None:
    """Once torch is loaded (a lesson page), make the first model summary in a background thread.

    The Model builder runs each layer on PyTorch's meta device. The meta kernels of ReLU, LeakyReLU,
    Tanh, BatchNorm2d, Linear and AdaptiveAvgPool2d are Python functions wrapped by torch._compile,
    whose first call imports torch._dynamo (with sympy): about 1 s and 150 MB, paid by the first
    student who opened the builder. Started from the frame on the first page run that finds torch
    loaded, it is paid off any student's request; the process pays the same memory as soon as
    anyone opens the builder anyway. Returns the thread when this call started it.
    """
    if _prepay["started"] or "torch" not in sys.modules:
        return None
    with _prepay_lock:
        if _prepay["started"]:
            return None
        _prepay["started"] = True
    # Not a daemon: a process that exits meanwhile waits for it (killing a thread inside torch's
    # imports aborts the interpreter).
    thread = threading.Thread(target=_first_summary, name="cc-prepay-summaries")
    thread.start()
    return thread
