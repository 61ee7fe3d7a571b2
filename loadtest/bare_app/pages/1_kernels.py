"""Bare one-line page (Kernels) for the load test's floor."""

import streamlit as st

st.write("Kernels")
