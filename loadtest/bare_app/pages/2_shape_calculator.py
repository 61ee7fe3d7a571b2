"""Bare one-line page (Shape calculator) for the load test's floor."""

import streamlit as st

st.write("Shape calculator")
