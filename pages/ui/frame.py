"""The shared frame: page config, the navigation menu, the sidebar and session-state defaults.

Every page, the landing page included, calls `frame(<page key>)` first, so it renders the same
from the menu, a deep link on a fresh server, or AppTest.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass

# Cap torch's thread pools before anything imports torch: one small server serves a whole class.
os.environ.setdefault("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1)))
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])

import streamlit as st  # noqa: E402

from cnnlib.process import limit_malloc_arenas  # noqa: E402
from pages.ui.glossary import render_glossary  # noqa: E402

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
        st.divider()
        render_glossary()
        st.caption(f"Compute: {device_label()}")
    if page.key != "home":
        st.title(f"{page.icon} {page.title}")
    return page


@st.cache_resource(show_spinner=False)
def device_label() -> str:
    """The compute device in words (cached once per process)."""
    from cnnlib.device import describe_device, pick_device

    return describe_device(pick_device())
