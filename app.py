"""CNN Classroom: the landing page. Every page of the app opens with the shared frame."""

import streamlit as st

from pages.ui.frame import PAGES, device_label, frame

frame("home")

st.title("🏫 CNN Classroom")
st.markdown(
    "#### See, touch and train convolutional neural networks, live.\n"
    "A convolutional neural network (CNN) learns small **kernels** that slide over an image and "
    "light up where they find a pattern. Each page below lets you play with one idea, from a "
    "single 3×3 kernel to a trained network that reads your handwriting. Every number is computed "
    "by PyTorch."
)

cols = st.columns(len(PAGES) - 1)
for col, page in zip(cols, PAGES[1:], strict=True):
    with col.container(border=True, height="stretch"):
        st.page_link(page.path, label=f"**{page.title}**", icon=page.icon)
        st.write(page.blurb)

st.markdown(
    "**Suggested lesson path:** Kernels → Shape calculator → Model builder → Training → "
    "Draw & predict. Each page stands alone too, so a teacher can jump straight to one."
)
st.info(f"**Compute device:** {device_label()}", icon="🖥️")
