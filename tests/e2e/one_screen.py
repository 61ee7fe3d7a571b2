"""The one-screen contract (issue 25) measured in Chromium: is each page's key picture, with the
controls that change it, on screen without scrolling, with the lesson bar and a poll showing?

A page marks each key element with a keyed container whose key starts with `key_<view>_`
(`st.container(key="key_kernels_maps")`, drawn with the CSS class `st-key-key_kernels_maps`). This
module finds every such element of a view and checks that its bounding rectangle lies inside the
viewport at the page's initial scroll, once the page is idle.

The class it measures in (`Classroom.setup`): a teacher starts a class and the bundled lesson "Why the
output shrinks" (step 1 is on the Shape calculator, with a question), asks the step's question as a
poll, then stops leading ("Students follow my page" off) so that the poll stays open on every page
the teacher opens; a student joins and follows, and does not answer. The projector is the teacher's
own projector view (`present=1`, sidebar folded), measured at 1920x1080 and 1280x720: what a class
sees when the teacher's screen is on the projector, and the larger of the two projector strips (the
projector-screen link shows the same bar and the poll without the teacher's buttons). The student's
normal view is measured at 1366x768. Every page carries the lesson bar (on the Shape calculator the
step's note and question, elsewhere "this step is on another page") and the open poll.

Used by tests/e2e/test_one_screen.py (a test per view and size) and scripts/one_screen.py (a table).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from .conftest import ARTIFACTS, PlaywrightTimeout, choose, open_page, wait_idle, wait_rerun
from .test_draw import SEVEN

LONG = 120_000
VIEWS = ("kernels", "shapes", "shapes_stack", "builder", "training", "training_live", "draw")
SIZES = ("1920x1080", "1280x720", "1366x768")
PROJECTOR_SIZES = ("1920x1080", "1280x720")  # the teacher's projector view
LAPTOP_SIZES = ("1366x768",)  # the student's normal view
TITLE = {  # view -> the page's title (its menu entry and h1)
    "kernels": "Kernels",
    "shapes": "Shape calculator",
    "shapes_stack": "Shape calculator",
    "builder": "Model builder",
    "training": "Training",
    "training_live": "Training",
    "draw": "Draw & predict",
}
LESSON, LESSON_TITLE = "why_the_output_shrinks", "Why the output shrinks"
STRIP_KEYS = ("lesson_bar", "class_poll", "class_poll_live", "class_follow_row", "class_headline")
CODE = r"Class ([A-Z2-9]{3}-?[A-Z2-9]{3})"
CHART = "div.cc-live-plotly"

# Every element of the view: its key, its rectangle and whether it is shown. Views whose names start
# with this one's and an underscore (shapes -> shapes_stack) are another view's elements.
MEASURE_JS = """([view, others]) => {
  const out = [];
  for (const el of document.querySelectorAll(`[class*="st-key-key_${view}_"]`)) {
    const key = [...el.classList].find(c => c.startsWith('st-key-key_')).slice(7);
    if (!key.startsWith(`key_${view}_`) || others.some(o => key.startsWith(`key_${o}_`))) continue;
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    out.push({key, top: r.top, bottom: r.bottom, left: r.left, right: r.right,
              shown: r.width > 0 && r.height > 0 && s.visibility !== 'hidden'});
  }
  return {boxes: out, width: window.innerWidth, height: window.innerHeight};
}"""
STRIP_JS = """keys => { const out = {};
  for (const k of keys) { const el = document.querySelector('.st-key-' + k);
    if (el) { const r = el.getBoundingClientRect(); out[k] = {top: r.top, bottom: r.bottom, height: r.height}; } }
  const h1 = document.querySelector('[data-testid=stMain] h1');
  if (h1) { const r = h1.getBoundingClientRect(); out.h1 = {top: r.top, bottom: r.bottom, height: r.height}; }
  return out; }"""
# The initial scroll: every scrolled box back to the top (a click or a stroke scrolls the page).
TO_TOP = """() => { for (const el of [document.scrollingElement, ...document.querySelectorAll('*')])
  if (el && (el.scrollTop || el.scrollLeft)) { el.scrollTop = 0; el.scrollLeft = 0; } }"""
OUTLINE = "[class*='st-key-key_'] { outline: 3px dashed #d01c8b !important; outline-offset: -2px; }"


@dataclass
class Box:
    """A key element's rectangle in CSS px, the viewport's top-left corner at (0, 0)."""

    key: str
    top: float
    bottom: float
    left: float
    right: float
    shown: bool = True

    def off(self, width: int, height: int) -> int:
        """How many px of it lie outside the viewport (the largest overflow; 0 when it fits)."""
        over = max(0.0, -self.top, self.bottom - height, -self.left, self.right - width)
        return int(round(over))


@dataclass
class Measure:
    """One view at one size: its key elements, the strip's boxes and the screenshot."""

    view: str
    size: str
    boxes: list[Box] = field(default_factory=list)
    strip: dict[str, dict[str, float]] = field(default_factory=dict)
    shot: Path | None = None
    note: str = ""

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])

    def problems(self) -> list[str]:
        """What breaks the contract, in words (empty when the view keeps it)."""
        if not self.boxes:
            return [f"{self.view} at {self.size}: no key element (no st-key-key_{self.view}_* container)"]
        out = []
        for b in self.boxes:
            if not b.shown:
                out.append(f"{b.key} at {self.size}: not shown (zero size or hidden)")
            elif (px := b.off(self.width, self.height)) > 0:
                out.append(
                    f"{b.key} at {self.size}: {px} px off screen "
                    f"(top {b.top:.0f}, bottom {b.bottom:.0f}, left {b.left:.0f}, right {b.right:.0f})"
                )
        return out


def size_of(size: str) -> dict[str, int]:
    w, h = size.split("x")
    return {"width": int(w), "height": int(h)}


def measure(pg, view: str, size: str, shot: bool = True) -> Measure:
    """Measure `view`'s key elements on this page as it stands, at the page's initial scroll."""
    pg.set_viewport_size(size_of(size))
    time.sleep(0.6)  # the layout and the charts follow the new width
    wait_idle(pg, settle=0.2)
    pg.evaluate(TO_TOP)
    others = [v for v in VIEWS if v != view and v.startswith(view + "_")]
    found = pg.evaluate(MEASURE_JS, [view, others])
    m = Measure(view, size, [Box(**b) for b in found["boxes"]])
    m.strip = pg.evaluate(STRIP_JS, list(STRIP_KEYS))
    if shot:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        m.shot = ARTIFACTS / f"one_screen_{view}_{size}.png"
        handle = pg.add_style_tag(content=OUTLINE)
        pg.screenshot(path=str(m.shot))  # the viewport: one screen, as the class sees it
        handle.evaluate("e => e.remove()")
    return m


# ------------------------------------------------------------------------------- the class


def new_person(browser, size: str):
    ctx = browser.new_context(viewport=size_of(size))
    pg = ctx.new_page()
    pg.set_default_timeout(LONG)
    return ctx, pg


def popover(pg):
    """Open the frame's "Lesson & class" popover; returns its body."""
    pg.locator(".st-key-frame_class button").first.click()
    body = pg.locator("[data-testid=stPopoverBody]")
    body.first.wait_for()
    wait_idle(pg)
    return body


def close_popover(pg) -> None:
    pg.keyboard.press("Escape")
    pg.locator("[data-testid=stPopoverBody]").first.wait_for(state="hidden")
    wait_idle(pg)


def wait_text(pg, key: str, pattern: str, timeout: int = LONG) -> None:
    pg.wait_for_function(
        "([key, p]) => { const el = document.querySelector('.st-key-' + key);"
        " return !!el && new RegExp(p).test(el.textContent); }",
        arg=[key, pattern],
        timeout=timeout,
    )


def go_to(pg, title: str) -> None:
    """Open a page from the frame's menu inside the app (the session, its class, lesson and
    projector view stay); the link is clicked in the page, so a folded sidebar stays folded."""
    link = pg.locator("[data-testid=stSidebar]").get_by_text(title, exact=True)
    link.first.evaluate("e => e.closest('a').click()")
    pg.locator("h1").filter(has_text=title).first.wait_for(timeout=LONG)
    wait_idle(pg)


def fold_sidebar(pg) -> None:
    """The projector view's folded sidebar (folded at a fresh load; the toggle leaves it open)."""
    button = pg.locator("[data-testid=stSidebarCollapseButton] button")
    if button.count():
        pg.locator("[data-testid=stSidebar]").first.hover()
        button.first.click(force=True)
        time.sleep(0.5)  # the slide-out


@dataclass
class Classroom:
    """A teacher (projector view) and a student (normal view) in one class, a poll open."""

    teacher: object = None
    student: object = None
    contexts: list = field(default_factory=list)
    code: str = ""
    done: dict[str, dict[str, Measure]] = field(default_factory=dict)

    def setup(self, browser, base: str) -> Classroom:
        tctx, tp = new_person(browser, "1920x1080")
        sctx, sp = new_person(browser, "1366x768")
        self.contexts, self.teacher, self.student = [tctx, sctx], tp, sp
        open_page(tp, base)
        body = popover(tp)
        tp.get_by_role("tab", name="Start a class").click()
        tp.locator(".st-key-class_title input").fill("One screen")
        tp.locator(".st-key-class_start_submit button").click()
        wait_idle(tp)
        wait_text(tp, "frame_class", CODE)
        found = re.search(CODE, tp.locator(".st-key-frame_class").first.text_content() or "")
        assert found, "the class code is not on the teacher's class button"
        self.code = found.group(1)
        close_popover(tp)

        sp.goto(f"{base}/?class={self.code.replace('-', '')}")
        sp.locator(".st-key-class_invite_name input").wait_for()
        wait_idle(sp)
        sp.locator(".st-key-class_invite_name input").fill("Ana")
        sp.locator(".st-key-class_invite_submit button").click()
        wait_idle(sp)
        wait_text(sp, "frame_class", r"Class [A-Z2-9]")
        popover(sp)
        sp.locator(".st-key-class_auto label").first.click()  # follows the teacher without asking
        wait_idle(sp)
        close_popover(sp)

        body = popover(tp)
        choose(tp, "lesson_choice", LESSON_TITLE)
        body.locator(".st-key-lesson_start button").click()
        wait_text(tp, "lesson_bar", r"step 1 of")
        wait_idle(tp)
        tp.locator(".st-key-class_ask_lesson_1 button").click()
        wait_idle(tp)
        wait_text(sp, "lesson_bar", r"step 1 of")  # the student followed to the step
        sp.locator(".st-key-class_poll").first.wait_for()
        wait_idle(sp)
        popover(tp)
        tp.locator(".st-key-class_lead label").first.click()  # stop leading: the poll stays open
        wait_idle(tp)
        close_popover(tp)
        tp.locator(".st-key-present label").first.click()  # the projector view
        wait_idle(tp)
        fold_sidebar(tp)
        return self

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()

    def run_view(self, view: str, sizes: tuple[str, ...] = SIZES, shots: bool = True) -> dict[str, Measure]:
        """Measure `view` at `sizes` (each person once per view, all its sizes at once); cached."""
        have = self.done.setdefault(view, {})
        for pg, mine in ((self.teacher, PROJECTOR_SIZES), (self.student, LAPTOP_SIZES)):
            todo = [s for s in mine if s in sizes and s not in have]
            if not todo:
                continue
            go_to(pg, TITLE[view])
            note = prepare(pg, view)
            try:
                for size in todo:
                    have[size] = measure(pg, view, size, shots)
                    have[size].note = note
            finally:
                cleanup(pg, view)
        return {s: have[s] for s in sizes if s in have}


# ------------------------------------------------------------------------------- per view


def prepare(pg, view: str) -> str:
    """Bring the page to the state the view measures; returns a note when it could not."""
    if view == "shapes_stack":
        pg.locator(".st-key-sc_mode label").filter(has_text="Stack of layers").first.click()
        wait_idle(pg)
    elif view == "training_live":
        pg.locator(".st-key-train_start button").first.click()
        wait_idle(pg)
        try:  # the run's process starts, then the live chart draws its first points
            pg.wait_for_function(
                f"() => (document.querySelector('{CHART}') || {{}}).ccDraws >= 2", timeout=LONG
            )
        except PlaywrightTimeout:
            return "the live chart did not draw within 120 s"
    elif view == "draw":
        stroke(pg)
        try:  # the answer (hidden from a student while a poll is open) and Grad-CAM
            pg.wait_for_function(
                "() => !!document.querySelector('[data-testid=draw-answer]')"
                " || document.body.innerText.includes('Reveal the answer first')",
                timeout=60_000,
            )
        except PlaywrightTimeout:
            return "no answer after the stroke"
        wait_idle(pg, settle=1.0)
    return ""


def cleanup(pg, view: str) -> None:
    """Leave the page as a next view expects it (the run stopped, the one-layer mode back)."""
    if view == "training_live":
        pg.evaluate(TO_TOP)
        pg.locator(".st-key-train_stop button").first.click()
        wait_idle(pg)
    elif view == "shapes_stack":
        pg.locator(".st-key-sc_mode label").filter(has_text="One layer").first.click()
        wait_idle(pg)
    elif view == "draw":
        clear = pg.locator(".st-key-draw_clear button")
        if clear.count():
            clear.first.click()
            wait_rerun(pg)


def stroke(pg) -> None:
    """One stroke (a 7) on the canvas, scaled to the canvas's size on screen."""
    canvas = pg.locator("[data-testid=stBidiComponentIsolated]").first.locator("canvas.upper-canvas")
    canvas.wait_for(timeout=LONG)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = box["width"] / 280
    (sx, sy), *rest = [(x * scale, y * scale) for x, y in SEVEN[0]]
    pg.mouse.move(box["x"] + sx, box["y"] + sy)
    pg.mouse.down()
    for x, y in rest:
        pg.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    pg.mouse.up()
    wait_rerun(pg)


# ------------------------------------------------------------------------------- the table


def table(measures: list[Measure]) -> str:
    """Per view and size: each key element's box and how many px it is off screen; the strip."""
    lines = ["view          size       key element                     top  bottom  left  right  off"]
    for m in measures:
        if not m.boxes:
            lines.append(f"{m.view:13} {m.size:10} (no key element)")
        for b in m.boxes:
            off = "hidden" if not b.shown else b.off(m.width, m.height)
            lines.append(
                f"{m.view:13} {m.size:10} {b.key:30} {b.top:5.0f} {b.bottom:7.0f} {b.left:5.0f} {b.right:6.0f}  {off}"
            )
        strip = ", ".join(
            f"{k} {v['top']:.0f}-{v['bottom']:.0f} ({v['height']:.0f} px)" for k, v in m.strip.items()
        )
        lines.append(f"{'':13} {'':10} strip: {strip}" + (f"; {m.note}" if m.note else ""))
    return "\n".join(lines)
