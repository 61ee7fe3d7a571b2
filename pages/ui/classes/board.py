"""The class's results board on screen, and the button that posts a finished run to it.

Runs come from cnnlib.classroom (ranked there by accuracy and by accuracy per parameter); each
entry carries its settings as an app link, so a click opens the Training page set up the same way.
The table downloads as CSV, so the text students typed goes through `spreadsheet_safe`.
"""

from __future__ import annotations

import streamlit as st

from cnnlib.classroom import ClassError
from cnnlib.share import spreadsheet_safe
from pages.ui.classes.classroom import STUDENT_EVERY_S, code, fail, member, split_link, store
from pages.ui.classes.share import page_link_url

ss = st.session_state


@st.fragment(run_every=STUDENT_EVERY_S)
def board_view() -> None:
    """The class's posted runs, ranked, refreshed every couple of seconds (one small query)."""
    m, s = member(), store()
    if m is None or s is None:
        return
    order = st.segmented_control(
        "Rank by", ["accuracy", "accuracy per parameter"], default="accuracy", key="board_order"
    )
    try:
        rows = s.board(m["code"], limit=200, viewer=m.get("sid"))
    except ClassError as err:
        fail(err)
        return
    if not rows:
        st.info(
            "No runs yet. Train on the Training page, then post your run from its results.",
            icon=":material/leaderboard:",
        )
        return
    per_param = order == "accuracy per parameter"
    rows = sorted(rows, key=lambda r: r["rank_per_param"]) if per_param else rows
    table = [
        {
            "rank": r["rank_per_param"] if per_param else r["rank"],
            # typed by students, and the table downloads as CSV: no cell may run as a formula
            "who": spreadsheet_safe(r["nickname"]) + (" (you)" if r.get("mine") else ""),
            "test accuracy": round(100 * r["accuracy"], 1),
            "parameters": r["params"],
            "accuracy per 1k parameters": round(100_000 * r["per_param"], 3),
            "model": spreadsheet_safe(r["model"]),
            "dataset": spreadsheet_safe(r["dataset"]),
            "seconds": None if r["seconds"] is None else round(r["seconds"], 1),
            "settings": page_link_url(*_link_parts(r["link"])) if r["link"] else None,
        }
        for r in rows
    ]
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "test accuracy": st.column_config.NumberColumn(format="%.1f %%"),
            "parameters": st.column_config.NumberColumn(format="localized"),
            "settings": st.column_config.LinkColumn(
                display_text="open", help="Open Training with this run's settings", width="small"
            ),
        },
        key="board_table",
    )


def _link_parts(link: str) -> tuple[str, dict[str, str]]:
    url_name, params = split_link(link)
    return url_name or "training", {**params, "class": code() or ""}


def post_button(record: dict, key: str = "class_post") -> None:
    """On a finished run's results: post it to the class board (students and the teacher alike)."""
    m, s = member(), store()
    if m is None or s is None:
        return
    posted = ss.setdefault("class_posted", set())
    if record.get("run_id") in posted:
        st.caption(":material/check: Posted to the class board.")
        return
    if st.button("Post to the class board", key=key, icon=":material/leaderboard:", type="primary"):
        if m["role"] == "teacher":
            st.warning("The board holds the students' runs: join as a student to post one.")
            return
        try:
            s.post_run(m["code"], m["sid"], {k: v for k, v in record.items() if k != "run_id"})
            posted.add(record.get("run_id"))
            st.toast("Posted. See it on the Class board.", icon=":material/leaderboard:")
        except ClassError as err:
            fail(err)
