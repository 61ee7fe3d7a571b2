"""Bare Streamlit app for the load test's floor: a landing page and five one-line pages."""

import streamlit as st

st.write("CNN Classroom (bare)")
