"""Bare one-line page (Draw & predict) for the load test's floor."""

import streamlit as st

st.write("Draw & predict")
