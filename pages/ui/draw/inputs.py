"""Draw & predict, the input side: the drawing canvas (pen width, undo, clear) or an image upload.

The canvas is streamlit-drawable-canvas 0.13 (white ink on black, 280 x 280, sends the picture
on every mouse up). It is imported inside `canvas_panel` only: the package registers its
component at import time, which fails outside a running script. Clearing gives the canvas a new
key; undo reloads it with its last stroke removed (`initial_drawing` plus a changing marker so
the canvas sees a new drawing each time). The canvas toolbar (hover its top-right corner) has
undo, redo and reset as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import streamlit as st

from cnnlib.inference import MAX_UPLOAD_BYTES, ImageInputError, read_image
from cnnlib.plots import enlarge
from pages.ui.runtime import uploads_release

CANVAS_SIZE = 280
PEN_WIDTHS = list(range(8, 41, 2))  # px on the 280 px canvas (the link's bounds)
# The row under the controls: canvas | answer | Grad-CAM. The answer and Grad-CAM share what is left
# and wrap below the canvas when narrower than 240 px.
ROW_CSS = (
    "<style>.st-key-draw_top > div:has(> .st-key-draw_right), .st-key-draw_top > div:has(> .st-key-draw_cam_col)"
    " { min-width: min(100%, 240px); flex: 1 1 240px; }</style>"
)
PROJECTOR_CANVAS_SIZE = 420
KEY_PREFIX = "draw_canvas_"
MAX_UPLOAD_MB = MAX_UPLOAD_BYTES // (1024 * 1024)
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"]


@dataclass
class DrawingInput:
    """What the student gave: an image (white ink on black; RGBA or grey) or None, and its source."""

    image: np.ndarray | None
    source: str  # "canvas" or "upload"


def canvas_size() -> int:
    """The canvas side: half as big again in the projector view, so the back of the room sees it."""
    return PROJECTOR_CANVAS_SIZE if st.session_state.get("present") else CANVAS_SIZE


def canvas_key() -> str:
    """The canvas's key: a new one after Clear, and another size is another canvas."""
    big = "_big" if canvas_size() != CANVAS_SIZE else ""
    return f"{KEY_PREFIX}{st.session_state.get('draw_canvas_n', 0)}{big}"


# The canvas shrinks (CSS zoom; Fabric maps the pointer through it) so that it ends inside the browser
# window: a projector at 720 px, a lesson bar and a poll leave less than its 420 px (issue 25). Never
# below MIN_FIT_PX; refitted on resize. Its image stays the canvas's own size.
MIN_FIT_PX = 220
_FIT_JS = """
export default function (component) {
  const { data } = component;
  const fit = () => {
    const box = document.querySelector(".st-key-key_draw_canvas");
    if (!box) return;
    const top = box.getBoundingClientRect().top + window.scrollY;
    const room = window.innerHeight - top - 8;
    const z = Math.max(data.least / data.size, Math.min(1, room / data.size));
    const want = z < 0.995 ? String(Math.round(z * 1000) / 1000) : "";
    if (box.style.zoom !== want) box.style.zoom = want;
  };
  window.ccFitCanvas = fit;
  if (!window.ccFitCanvasBound) {
    window.ccFitCanvasBound = true;
    window.addEventListener("resize", () => window.ccFitCanvas && window.ccFitCanvas());
  }
  requestAnimationFrame(fit);
  setTimeout(fit, 400);
  setTimeout(fit, 1500);
}
"""


@lru_cache(maxsize=1)
def _fit_component():
    return st.components.v2.component("cc_fit_canvas", js=_FIT_JS, isolate_styles=False)


def fit_canvas(size: int) -> None:
    """The element that fits the canvas to the window (nothing on screen)."""
    _fit_component()(key="draw_fit_canvas", data={"size": size, "least": min(size, MIN_FIT_PX)}, height=0)


def _objects(key: str) -> list:
    state = st.session_state.get(key) or {}
    raw = (state.get("drawing") or {}).get("raw") or {}
    objects = raw.get("objects") or []
    return objects if isinstance(objects, list) else []


def _clear() -> None:
    st.session_state["draw_canvas_n"] = st.session_state.get("draw_canvas_n", 0) + 1
    st.session_state["draw_initial"] = None
    st.session_state.pop("draw_flash", None)


def _undo() -> None:
    objects = _objects(canvas_key())
    if not objects:
        st.session_state["draw_flash"] = "Nothing to undo: the canvas is empty."
        return
    step = st.session_state.get("draw_undo_n", 0) + 1
    st.session_state["draw_undo_n"] = step
    # A new marker every time, so the canvas reloads even when the same drawing comes back.
    st.session_state["draw_initial"] = {"objects": objects[:-1], "ccUndoStep": step}


def canvas_panel() -> DrawingInput:
    """The canvas and its controls; returns its RGBA picture (None before the first stroke)."""
    from streamlit_drawable_canvas import st_canvas  # only inside a script run (see module doc)

    size = canvas_size()
    st.session_state.setdefault("draw_pen", 20)  # a link may set it before it is drawn
    pen = st.session_state["draw_pen"] * size / CANVAS_SIZE  # the same stroke, relative to the canvas
    with st.container(key="key_draw_canvas"):  # issue 25's one-screen marker: the canvas
        result = st_canvas(
            stroke_width=int(pen),
            stroke_color="#FFFFFF",
            background_color="#000000",
            width=size,
            height=size,
            drawing_mode="freedraw",
            initial_drawing=st.session_state.get("draw_initial"),
            return_image_data=True,
            update_streamlit=True,
            key=canvas_key(),
        )
    row = st.container(horizontal=True, vertical_alignment="bottom")  # one block for the canvas's controls
    row.button("Undo", icon=":material/undo:", on_click=_undo, key="draw_undo")
    row.button("Clear", icon=":material/delete:", on_click=_clear, key="draw_clear")
    # A selectbox, not a slider: the slider's code (moment.js, numbro: 122 kB) is the Draw page's only use.
    row.selectbox("Pen (px)", PEN_WIDTHS, key="draw_pen", width=110)
    with row:
        fit_canvas(size)
    if flash := st.session_state.pop("draw_flash", None):
        st.info(flash)
    try:
        image = result.image_data
    except (ValueError, OSError) as err:  # a truncated picture from the browser: wait for the next one
        st.warning(f"The canvas sent a picture that could not be read ({err}); draw another stroke.")
        image = None
    return DrawingInput(image, "canvas")


def upload_panel() -> DrawingInput:
    """An image upload for devices where drawing is awkward; bad files get a clear message."""
    file = st.file_uploader(
        "Upload a photo or scan of **one** digit (dark on light or light on dark)",
        type=UPLOAD_TYPES,
        key="draw_upload",
        max_upload_size=MAX_UPLOAD_MB,  # the browser refuses bigger files before they are sent
        help=uploads_release.budget_help(),
    )
    if file is None:
        st.caption("Tip: crop the photo close to the digit; the app works out ink and paper itself.")
        return DrawingInput(None, "upload")
    try:
        grey = read_image(file.getvalue())  # [H, W] uint8, white ink on black
    except ImageInputError as err:
        st.error(str(err), icon=":material/error:")
        return DrawingInput(None, "upload")
    st.image(enlarge(grey / 255.0, CANVAS_SIZE), caption="Your image, as white ink on black")
    return DrawingInput(grey, "upload")


def mode_choice() -> str:
    """Draw or upload (a radio, in the page's row of controls)."""
    return str(st.radio("Input", ["Draw", "Upload an image"], horizontal=True, key="draw_mode"))


def input_panel(mode: str) -> DrawingInput:
    """The chosen panel: the canvas or the upload."""
    return canvas_panel() if mode == "Draw" else upload_panel()
