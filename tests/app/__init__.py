"""Tests of the pages, driven through app.py with Streamlit's AppTest."""
