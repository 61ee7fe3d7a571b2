"""Browser: one browser is one student, even with a tab opened before it joined (issue 24).

A student opens the class link in two tabs of one browser (both show the join form: neither had
the seat cookie when it connected), joins in the first, then goes back to the second. The second
tab's join form reads the browser's cookie when the tab comes back into view (pages/ui/classes/seat.py's
reader) and takes the same seat: it names the same nickname, the class counts one student, and
joining again from that tab does not make a second student.
"""

from __future__ import annotations

from .conftest import assert_no_exception, wait_idle
from .test_classroom import LONG, join, new_page, start_class, text_of, wait_text


def test_a_tab_opened_before_joining_takes_the_same_seat(server, browser):
    ctx_t, teacher = new_page(browser)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        code = start_class(teacher, server)
        first, second = ctx.new_page(), ctx.new_page()
        for pg in (first, second):
            pg.set_default_timeout(LONG)
            pg.goto(f"{server}/?class={code}")
            pg.locator(".st-key-class_invite_name input").wait_for()
            wait_idle(pg)
        join(first, server, code, "Grace")  # the first tab joins; the browser keeps the seat cookie
        first.wait_for_function("() => document.cookie.includes('cc_seat=')", timeout=LONG)
        second.bring_to_front()  # back to the tab that was opened before: its form takes the seat
        second.evaluate("() => window.dispatchEvent(new Event('focus'))")
        wait_text(second, "frame_class", f"Class {code}")
        wait_idle(second)  # the sidebar's label comes first; the form leaves when the run ends
        second.locator(".st-key-class_invite_box").wait_for(state="detached")
        second.get_by_text("in another tab: this tab is in your seat too", exact=False).first.wait_for()
        assert_no_exception(second)
        teacher.get_by_text(f"1 student in class {code}", exact=False).first.wait_for(timeout=LONG)
        assert "2 students" not in text_of(teacher, "class_headline")
    finally:
        ctx.close()
        ctx_t.close()
