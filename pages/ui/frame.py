"""The shared frame: page config, the navigation menu, the sidebar and session-state defaults,
the projector view, the share dialog, the lesson bar and the class strip.

Every page, the landing page included, calls `frame(<page key>)` first, so it renders the same
from the menu, a deep link on a fresh server, or AppTest.
"""

from __future__ import annotations

import copy
import os
import sys
import threading

# One torch thread per script run, set before anything imports torch: a class's thirty sessions are
# the server's parallelism, and a second OpenMP thread spinning between tiny operations only burns a
# shared core (measured: a Draw stroke cost 149 ms of server CPU with 2 threads, 59 ms with 1).
# Training runs in processes of their own, which set their own thread count (cnnlib.training).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])

import streamlit as st  # noqa: E402

from cnnlib.classroom import format_code  # noqa: E402
from cnnlib.device import device_label  # noqa: E402
from cnnlib.process import limit_malloc_arenas  # noqa: E402
from cnnlib.share import FRAME_KEYS, FRAME_LINK  # noqa: E402
from pages.ui.classes import classroom, lesson, panel, seat, strip  # noqa: E402
from pages.ui.classes.links import APPLY, url_params  # noqa: E402
from pages.ui.classes.share import PROJECTOR_CSS, share_dialog  # noqa: E402
from pages.ui.glossary import render_glossary, start_page  # noqa: E402
from pages.ui.navigation import PAGE_BY_KEY, PAGE_BY_URL, PAGES, PageInfo  # noqa: E402
from pages.ui.runtime import (  # noqa: E402
    admission,
    batching,
    finished_runs,
    fragment_page,
    uploads_release,
    widget_state,
)

admission.install()  # page opens queue for a slot; clicks, strokes and fragment ticks never wait
batching.install()  # a run's messages wake the event loop once per batch, not once per element
uploads_release.install()  # a closed tab's uploads are released; a session holds 2 x maxUploadSize
finished_runs.install()  # a fragment run starting right after a full run never drops that run's messages
fragment_page.install()  # a fragment's tick sent for the page just left runs on the page on screen
widget_state.install()  # a value widget looks up its own key, not a copy of the whole session state

# Every session's script runs in its own thread: cap malloc's per-thread arenas, or the heap stays
# fragmented (and hundreds of MB larger) after a class has gone (cnnlib/process.py, loadtest/RESULTS.md).
limit_malloc_arenas()


# The browser tab's icon, served by the app (static/, made by scripts/make_favicon.py): a `:material/`
# page icon is fetched by every browser from a Google host, which fails offline and sends each
# student's address out of the school.
FAVICON = "/app/static/favicon.png"
SECRET_KEYS = frozenset({"key", "screen"})  # read once from a link, never written back to the address bar
PRESENT = "cc_present"  # the projector view's truth (the toggle's own key can be dropped on a page switch)

# Session-state keys shared between pages, with their defaults.
DEFAULTS: dict[str, object] = {
    # The session's model: a ModelSpec as a JSON-able dict (None: the default preset is used).
    "model_spec": None,
    "model_spec_name": "",  # its name when one is set ("" reads as "your model"; it said SimpleCNN)
    # Models trained in this session (dicts made by the Training page), newest last.
    "trained_models": [],
}


def frame(page_key: str) -> PageInfo:
    """Set up the page: config, menu, sidebar, state defaults, title, the lesson bar and the class
    strip. Returns the page's info."""
    page = PAGE_BY_KEY[page_key]
    start_page()  # each glossary term is linked once on this run's page
    ss = st.session_state
    ss["page_url"] = page.url
    # The projector toggle is drawn on every page, but Streamlit drops a widget's value on some page
    # switches (Training -> Class board: the toggle came back off). The session's own key PRESENT is
    # the truth; the widget is set from it on every run and writes it back when clicked.
    ss["present"] = bool(ss.get(PRESENT, False))
    link = read_frame_link()
    st.set_page_config(
        page_title=f"{page.title} · CNN Classroom" if page.key != "home" else "CNN Classroom",
        page_icon=FAVICON,
        layout="wide",
        # "auto": open on a laptop, folded on a phone (open, it covered the join form of a scanned QR code).
        initial_sidebar_state="collapsed" if ss.get("present") else "auto",
    )
    for key, value in DEFAULTS.items():
        if key not in ss:
            ss[key] = copy.deepcopy(value)  # never share a mutable default between sessions
    if "class" in link or ss.get("class") or not ss.get("seat_checked"):
        classroom.adopt_link(link)  # a teacher link, a projector link, a class invite, or this browser's seat
    if ss.pop("class_screen_new", False):
        ss["present"] = ss[PRESENT] = True  # a projector screen starts in the projector view
    keep = frame_keys()
    if ss.get("present"):
        st.html(PROJECTOR_CSS)
    if ss.get("lesson") or ss.get("class"):
        st.html(strip.STRIP_CSS)  # the slim lesson bar and poll
    with st.sidebar:
        st.markdown("### :material/school: CNN Classroom")
        # The tools first: the class popover then opens with the sidebar's height below it (on a
        # 720 px projector, under the page list, it had 360 px and hid the lesson plan).
        tools(page)
        for p in PAGES:
            st.page_link(p.path, label=p.title if p.key != "home" else "Home", icon=p.icon, query_params=keep)
        if page.key != "glossary":  # the page itself holds the whole glossary
            render_glossary()
        if page.key != "home":  # the landing page says it in its text
            st.caption(f"Compute: {device_label()}")
    if ss.get(APPLY) not in (None, page.key):
        ss.pop(APPLY)  # meant for a page that did not open
    if page.key != "home":
        st.title(f"{page.icon} {page.title}")
    for notice in ("frame_notice", "class_notice"):
        if ss.get(notice):
            st.warning(ss.pop(notice), icon=":material/link_off:")
    lesson_strip(page)
    if ss.get("class"):
        strip.live(classroom.app_link(page.url, url_params()), go)
    elif ss.get("class_invite"):
        classroom.invite()
    seat.sync()  # the browser keeps this session's class seat (a cookie), or forgets it
    prepay_model_summaries()  # once per process, in the background, after a lesson page loaded torch
    return page


def read_frame_link() -> dict:
    """The frame's keys from the URL (projector view, lesson and step, class, teacher key) into the
    session. Returns the values the link gave."""
    ss = st.session_state
    given = {k: v for k, v in url_params().items() if k in FRAME_KEYS}  # the page reads the rest
    mine = {k: v for k, v in given.items() if k not in SECRET_KEYS}
    if mine == ss.get("frame_written", {}) and not SECRET_KEYS & given.keys():
        return {}  # what this session wrote itself: its own widgets are the truth
    parsed = FRAME_LINK.parse(given)
    values = parsed.values
    if parsed.ignored:
        ss["frame_notice"] = parsed.message("this link's classroom settings")
    ss["frame_written"] = mine
    if "present" in values:
        ss["present"] = ss[PRESENT] = values["present"]
    if "lesson" in values:
        ss["lesson"] = values["lesson"]
        ss["step"] = values.get("step", 1)
    elif "step" in values and ss.get("lesson"):
        ss["step"] = values["step"]
    return values


def frame_keys() -> dict[str, str]:
    """The frame's keys every link of this session carries (and the menu keeps across pages)."""
    ss = st.session_state
    keep: dict[str, str] = {}
    if ss.get("present"):
        keep["present"] = "1"
    if ss.get("lesson"):
        keep["lesson"] = ss["lesson"]
        keep["step"] = str(ss.get("step", 1))
    if ss.get("class"):
        keep["class"] = ss["class"]["code"]
    ss["frame_params"] = keep
    return keep


def go(url_name: str, params: dict[str, str]) -> None:
    """Open a page of the app with these params (a lesson step, the teacher's page)."""
    target = PAGE_BY_URL.get(url_name)
    if target is None:
        return
    st.session_state[APPLY] = target.key  # its settings apply even when all are the page's defaults
    st.switch_page(target.path, query_params={**frame_keys(), **params})


def tools(page: PageInfo) -> None:
    """Share, projector view, lessons and the class: one row in the sidebar, the rest opened on demand."""
    ss = st.session_state
    row = st.container(horizontal=True, vertical_alignment="center")  # one block on every page
    if row.button("Share", icon=":material/qr_code_2:", key="frame_share",
                    help="This page as it is now: a link and a QR code to scan"):  # fmt: skip
        share_dialog(page.url)
    row.toggle("Projector", key="present", help="Large type for the back of the room (present=1 in links)",
               on_change=lambda: ss.__setitem__(PRESENT, bool(ss["present"])))  # fmt: skip
    label = f"Class {format_code(ss['class']['code'])}" if ss.get("class") else "Lesson & class"
    with st.popover(
        label, icon=":material/groups:", width="stretch", key="frame_class", on_change="rerun"
    ) as box:
        if box.open:
            m = ss.get("class")
            if not m or m.get("role") == "teacher":  # students and the projector screen follow the lesson
                # First: on a 720 px projector the panel scrolls, and the lesson is the next thing to do.
                st.markdown("#### Lesson plan")
                if ss.get("lesson"):
                    st.caption("A lesson is on: its bar sits at the top of the page. End it there.")
                else:
                    lesson.picker(start_lesson)
            st.markdown("#### Class session")
            panel.panel(page.url)


def start_lesson(lesson_id: str, step: int) -> None:
    ss = st.session_state
    ss["lesson"], ss["step"] = lesson_id, step
    open_step(step)


def open_step(step: int) -> None:
    """Go to a lesson step: its page, with its state."""
    current = lesson.current()
    if current is None:
        return
    step = max(1, min(step, len(current.steps)))
    st.session_state["step"] = step
    s = current.steps[step - 1]
    go(PAGE_BY_KEY[s.page].url, dict(s.state))


def end_lesson() -> None:
    ss = st.session_state
    ss.pop("lesson", None)
    ss.pop("step", None)
    for key in ("lesson", "step"):
        if key in st.query_params:
            del st.query_params[key]
    ss["frame_written"] = {k: v for k, v in frame_keys().items()}


def lesson_strip(page: PageInfo) -> None:
    """The lesson's bar when a lesson is on (nothing otherwise: no cost for a page without one)."""
    ss = st.session_state
    if not ss.get("lesson"):
        return
    current = lesson.current()
    if current is None:
        ss.pop("lesson", None)
        st.warning(
            "That lesson is not available here (an uploaded lesson stays on the computer that loaded it)."
        )
        return
    lesson.bar(current, int(ss.get("step", 1)), page.key, open_step, end_lesson)


_prepay = {"started": False}
_prepay_lock = threading.Lock()


def _first_summary() -> None:
    from cnnlib import spec as S

    S.summarize_partial(S.PRESETS[S.DEFAULT_PRESET])


def prepay_model_summaries() -> threading.Thread | None:
    """Once torch is loaded (a lesson page), make the first model summary in a background thread.

    The Model builder runs each layer on PyTorch's meta device. The meta kernels of ReLU, LeakyReLU,
    Tanh, BatchNorm2d, Linear and AdaptiveAvgPool2d are Python functions wrapped by torch._compile,
    whose first call imports torch._dynamo (with sympy): about 1 s and 150 MB, paid by the first
    student who opened the builder. Started from the frame on the first page run that finds torch
    loaded, it is paid off any student's request; the process pays the same memory as soon as
    anyone opens the builder anyway. Returns the thread when this call started it.
    """
    if _prepay["started"] or "torch" not in sys.modules:
        return None
    with _prepay_lock:
        if _prepay["started"]:
            return None
        _prepay["started"] = True
    # Not a daemon: a process that exits meanwhile waits for it (killing a thread inside torch's
    # imports aborts the interpreter: SIGABRT at exit). Said explicitly, since a thread inherits the
    # daemon flag of the thread that starts it, and Streamlit's script threads are daemons.
    thread = threading.Thread(target=_first_summary, name="cc-prepay-summaries", daemon=False)
    thread.start()
    return thread
