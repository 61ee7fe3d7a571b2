"""CNN Classroom: the landing page. Every page of the app opens with the shared frame."""

import streamlit as st

from pages.ui.frame import PAGES, device_label, frame

frame("home")

st.title(":material/school: CNN Classroom")
st.markdown(
    "#### See, touch and train convolutional neural networks, live.\n"
    "A convolutional neural network (CNN) learns small **kernels** that slide over an image and "
    "light up where they find a pattern. Each page below lets you play with one idea, from a "
    "single 3×3 kernel to a trained network that reads your handwriting. Every number is computed "
    "by PyTorch."
)

lessons = PAGES[1:]
cells = [c for _ in range(2) for c in st.columns(3)]
for cell, page in zip(cells, lessons, strict=False):
    with cell.container(border=True, height="stretch"):
        st.page_link(page.path, label=f"**{page.title}**", icon=page.icon)
        st.write(page.blurb)
with cells[len(lessons)].container(border=True, height="stretch"):
    st.markdown("**:material/memory: Compute device**")
    st.write(f"{device_label()}. Training uses a GPU (CUDA or Apple MPS) when the server has one.")

st.markdown(
    "**Suggested lesson path:** Kernels → Shape calculator → Model builder → Training → "
    "Draw & predict. Each page stands alone too, so a teacher can jump straight to one."
)
