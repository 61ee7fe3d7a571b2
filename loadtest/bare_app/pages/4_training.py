"""Bare one-line page (Training) for the load test's floor."""

import streamlit as st

st.write("Training")
