"""Shared, read-only resources loaded once per server process (`st.cache_resource`).

Every session of the class gets the same objects: never mutate what these return (the student's
own model and uploads live in `st.session_state`). Several pages add loaders here; keep others'.
"""

from __future__ import annotations

import streamlit as st

from cnnlib.data import DatasetBundle, load_dataset


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=6)
def get_dataset(name: str) -> DatasetBundle:
    """The named dataset's bundle (shared by all sessions). Raises DatasetError (not cached)."""
    return load_dataset(name)


@st.cache_resource(show_spinner="Loading the pretrained digit model…", max_entries=2)
def get_pretrained(name: str = "mnist"):
    """The bundled pretrained model (a cnnlib.inference.PretrainedBundle, eval mode, frozen, CPU).

    Shared by all sessions: never train or modify it. Raises PretrainedError (not cached), so a
    fixed file is picked up on the next rerun.
    """
    from cnnlib.inference import load_pretrained_bundle

    return load_pretrained_bundle(name)
