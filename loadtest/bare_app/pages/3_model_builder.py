"""Bare one-line page (Model builder) for the load test's floor."""

import streamlit as st

st.write("Model builder")
