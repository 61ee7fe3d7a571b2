"""Glossary: every word a student meets on the pages, one entry per heading (`glossary#stride`).

The pages link each term's first mention in their text here; a link opens this page at the entry.
"""

import streamlit as st

from pages.ui.frame import frame
from pages.ui.glossary import entries_markdown

frame("glossary")
st.markdown(
    "The words of CNNs and training, each in one or two plain sentences. On the other pages a word "
    "with a link opens its entry here; hover over it to read the entry where you are.\n\n"
    + entries_markdown()
)
