"""CNN Classroom: the landing page. Every page of the app opens with the shared frame.

A whole class opens this page at once, so it is a handful of elements: each lesson's card is a
single page link (its label holds the blurb; the style below turns the links into cards).
"""

from pathlib import Path

import streamlit as st

import cnnlib
from cnnlib.device import device_label
from pages.ui.classes.links import write_params
from pages.ui.frame import frame
from pages.ui.glossary import explain
from pages.ui.navigation import LESSON_PAGES, PAGES

CARDS_CSS = (
    "<style>"
    ".st-key-home_cards {align-items: stretch !important;}"  # cards of a row share its height
    ".st-key-home_cards > [data-testid='stElementContainer'] {flex: 1 1 15rem; width: auto !important;}"
    ".st-key-home_cards [data-testid='stPageLink'], .st-key-home_cards [data-testid='stPageLink'] > div"
    " {height: 100%;}"
    ".st-key-home_cards a[data-testid='stPageLink-NavLink'] {height: 100%; align-items: flex-start;"
    " padding: 0.75rem 1rem; border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem;}"
    ".st-key-home_cards a[data-testid='stPageLink-NavLink'] * {white-space: normal; overflow: visible;"
    " text-overflow: clip;}"
    ".st-key-home_cards p {font-size: 1rem; line-height: 1.5;}"
    "</style>"
)


@st.cache_resource(show_spinner=False)
def landing_picture() -> bytes:
    """cnnlib.plots.LANDING_PICTURE (a sample digit through the pretrained model), read once per process
    without importing cnnlib.plots or cnnlib.data: both import torch, and this page stays light."""
    return (Path(cnnlib.__file__).parent / "data" / "files" / "landing_pipeline.png").read_bytes()


frame("home")

st.title(":material/school: CNN Classroom")
explain(
    "#### See, touch and train convolutional neural networks, live.\n"
    "A convolutional neural network (CNN) learns small **kernels** that slide over an image and "
    "light up where they find a pattern. Each page below lets you play with one idea, from a "
    "single 3×3 kernel to a trained network that reads your handwriting. Every number is computed "
    "by PyTorch."
)
st.html(CARDS_CSS)  # a style only (no element); HTML in markdown would load rehype-raw, 188 kB of JS
st.image(
    landing_picture(),
    caption="What the app does, computed live by the bundled digit model on an MNIST digit: the image, "
    "the first conv layer's feature maps (its strongest eight, bright = strong), the class probabilities.",
    width=900,
)
with st.container(horizontal=True, key="home_cards"):
    for page in [p for p in PAGES[1:] if p.key in LESSON_PAGES]:
        st.page_link(page.path, label=f"**{page.title}**  \n{page.blurb}", icon=page.icon, width=240)
st.markdown(
    f"**:material/memory: Compute device:** {device_label()}. Training uses a GPU (CUDA or Apple MPS) "
    "when the server has one.\n\n"
    "**Suggested lesson path:** Kernels → Shape calculator → Model builder → Training → "
    "Draw & predict. Each page stands alone too, so a teacher can jump straight to one.\n\n"
    "**:material/menu_book: New words** are underlined where a page first uses them: hover one to read "
    "what it means, click it for its entry on the Glossary page."
)

write_params("home", {})  # the address keeps the projector view, lesson and class of this session
