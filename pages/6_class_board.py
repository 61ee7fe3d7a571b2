"""Class board page: every finished run the class posted, ranked, live on the projector."""

from pages.ui.frame import frame

frame("board")

import streamlit as st

from pages.ui.classes import board, classroom, dataset
from pages.ui.classes.links import write_params
from pages.ui.classes.share import intro

intro(
    "When a class session is on, every student can post a finished training run here from the "
    "Training page's results. The board ranks them by **test accuracy**, and by **accuracy per "
    "parameter** (who got the most out of the smallest model?). Open an entry's settings to train the "
    "same model yourself."
)
if classroom.member() is None:
    st.info(
        "Join a class (or start one) from **Lesson & class** in the sidebar to see its board.",
        icon=":material/groups:",
    )
else:
    dataset.board_section()  # the class's drawn dataset, when the teacher opened one (issue 26)
    board.board_view()
write_params("board", {})
