"""Training page: the dataset a student picks, loaded: a bundled one, a torchvision download (only
after the student asks, failures remembered for a minute) or an uploaded zip of class folders."""

from __future__ import annotations

import time

import streamlit as st

from cnnlib.data import (
    CLASS_DRAWINGS,
    DATASETS,
    MAX_IMAGE_SIDE,
    MIN_IMAGE_SIDE,
    DatasetBundle,
    DatasetError,
    load_dataset,
)
from pages.ui.classes import dataset as class_dataset
from pages.ui.resources import get_dataset
from pages.ui.runtime import uploads_release
from pages.ui.runtime.session_alive import session_gone_check
from pages.ui.training.kept import keep, kept

__all__ = ["DOWNLOAD_RETRY_S", "bundle_for", "load_download", "load_upload"]

DOWNLOAD_RETRY_S = 60  # a failed download is not retried on every rerun


def load_download(name: str) -> DatasetBundle | None:
    """A torchvision dataset, fetched only after the student asks; failures remembered for a minute."""
    failures = st.session_state.setdefault("tr_download_failures", {})
    asked = st.session_state.setdefault("tr_download_asked", set())
    info = DATASETS[name]
    if name not in asked:
        st.caption(f":material/download: {info.description} It needs an internet connection the first time.")
        if st.button(f"Load {info.title}", key=f"tr_fetch_{name}"):
            asked.add(name)
            failures.pop(name, None)
        else:
            return None
    failed = failures.get(name)
    if not failed or time.monotonic() - failed[1] >= DOWNLOAD_RETRY_S:
        try:
            return get_dataset(name)
        except DatasetError as err:
            failed = failures[name] = (str(err), time.monotonic())
    st.error(failed[0], icon=":material/wifi_off:")
    if st.button("Try the download again", key=f"tr_retry_{name}"):
        failures.pop(name, None)
        st.rerun()
    return None


def load_upload() -> DatasetBundle | None:
    """A zip of class folders, resized to the chosen size; kept in this session only."""
    c1, c2, c3 = st.columns([3, 1, 1])
    up = c1.file_uploader(
        "Zip of class folders (cats/…, dogs/…)",
        type=["zip"],
        key="tr_zip",
        help=uploads_release.budget_help(),
    )
    side = keep(
        "tr_zip_size",
        c2.number_input(
            "Image size (px)",
            MIN_IMAGE_SIDE,
            MAX_IMAGE_SIDE,
            kept("tr_zip_size", 32),
            step=4,
            key="tr_zip_size",
        ),
    )
    gray = keep("tr_zip_gray", c3.checkbox("Grayscale", kept("tr_zip_gray", False), key="tr_zip_gray"))
    cache = st.session_state.get("tr_upload_cache")
    if up is None:
        st.caption(DATASETS["upload"].description)
        if cache and cache["bundle"] is not None:
            st.caption("Using the zip you uploaded earlier; upload another to replace it.")
            return cache["bundle"]
        return None
    # One decode per upload and setting: keyed by the upload's file_id (no hash of 20 MB per rerun).
    ident = (up.file_id, int(side), bool(gray))
    if not cache or cache["ident"] != ident:
        st.session_state.pop("tr_upload_cache", None)  # the old bundle goes before the new is decoded
        try:
            with st.spinner("Reading your images…"):
                bundle, error = (
                    load_dataset(
                        "upload",
                        data=up.getvalue(),
                        image_size=int(side),
                        grayscale=bool(gray),
                        should_stop=session_gone_check(),
                    ),
                    None,
                )
        except DatasetError as err:
            bundle, error = None, str(err)
        cache = {"ident": ident, "bundle": bundle, "error": error}
        st.session_state["tr_upload_cache"] = cache
    if cache["error"]:
        st.error(cache["error"], icon=":material/folder_zip:")
    return cache["bundle"]


def bundle_for(name: str) -> DatasetBundle | None:
    if name == CLASS_DRAWINGS:  # issue 26: the class's drawn dataset, from the class store
        return class_dataset.class_bundle()
    if name == "upload":
        return load_upload()
    if not DATASETS[name].offline:
        return load_download(name)
    try:
        return get_dataset(name)
    except DatasetError as err:
        st.error(str(err))
        return None
