"""A fragment's rerun always runs on the page the session shows now, never on the page it came from.

The blank page of issue 23, third cause (found with the rehearsal's recorded websocket frames,
scripts/replay_frames.py). The class strip is a `run_every` fragment on every page, with the same
fragment id on each (the id is the function and its place on the page). When it follows the teacher
(`st.switch_page` inside the fragment), the browser may already have sent its next timer ticks for
the old page: rerun requests that name the fragment and the *old* page's script hash. Streamlit 1.67
runs them after the new page's full run, and takes the request's page hash as the page of the run:
to it, that is a page change. It resets the page's widget state, filters the query parameters for
the old page, and announces the old page to the browser (`new_session`), which clears its tree for
a page it will never get; the fragment's first block then lands in an empty page: "Bad delta path
index 2 (should be between [0, 0])", a white page.

Recorded in Chromium (Ana, laptop, "Your first CNN" step 2 -> 3, Model builder -> Training): fragment
run 456554 switched the page; full run b60667 drew Training; fragment runs 072432 and 329343 followed
with the Model builder's hash 68f04ee9.

The fix: a fragment-only rerun whose page hash is not the page the session's last run showed runs on
that page instead (the fragment runs there if it exists there, as the class strip does, and is
skipped by Streamlit if not). Full runs, and fragment runs of the page on screen, are untouched.

It wraps `ScriptRunner._run_script` of Streamlit 1.67 (outside pages/ui/runtime/admission.py's wrapper) and
installs only where that method, `_get_script_run_ctx` and the `RerunData` fields it reads are the
ones it was written for (pages/ui/runtime/guard.py); `CNN_CLASSROOM_FRAGMENT_PAGE=0` or
`CNN_CLASSROOM_PATCHES=0` turns it off. The upstream fix it stands for: a fragment rerun request for
a page that is no longer the session's page should be dropped (or run on the current page), never
treated as a page change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pages.ui.runtime import guard

ENV_FRAGMENT_PAGE = "CNN_CLASSROOM_FRAGMENT_PAGE"
RERUN_FIELDS = ("page_script_hash", "fragment_id_queue")


def on_current_page(rerun_data: Any, current_page: str) -> Any:
    """The rerun as it should run: a fragment-only rerun for another page moves to `current_page`."""
    stale = (
        rerun_data.fragment_id_queue
        and current_page
        and rerun_data.page_script_hash
        and rerun_data.page_script_hash != current_page
    )
    return dataclasses.replace(rerun_data, page_script_hash=current_page) if stale else rerun_data


def install() -> bool:
    """Wrap ScriptRunner._run_script once per process; False if not installed."""
    if not guard.switched_on(ENV_FRAGMENT_PAGE):
        return False

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def _run_script(self: Any, rerun_data: Any) -> Any:
            try:
                current = getattr(self._get_script_run_ctx(), "page_script_hash", "") or ""
            except Exception:  # noqa: BLE001 - no context yet: run as asked
                current = ""
            return original(self, on_current_page(rerun_data, current))

        return _run_script

    also = [("_get_script_run_ctx", ("self",))]
    return guard.wrap_run_script("fragment page", "cc_fragment_page", RERUN_FIELDS, wrap, also)
