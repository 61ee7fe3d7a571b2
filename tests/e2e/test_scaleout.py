"""Browser, scaled out (issue 17): two `streamlit run app.py` processes behind nginx with sticky
sessions and one PostgreSQL (the real recipe, deploy/scaleout.py, through the `scaleout_stack`
harness of tests/classroom/scaleout.py).

A student whose route cookie sends them to process A joins the class from its link, trains a run
and posts it from the Training page's results; the teacher, routed to process B, watches the
class board there and sees the entry arrive without a reload. The response headers name the
process (X-CNN-Upstream), so the test checks that the two really were different processes.
"""

from __future__ import annotations

import secrets

import pytest

from cnnlib.classroom import ClassStore
from tests.classroom.scaleout import scaleout_stack  # noqa: F401 - the fixture

from .conftest import assert_no_exception, screenshot, type_into, wait_idle

pytestmark = pytest.mark.slow


def route_cookies(stack) -> dict[int, str]:
    """A route-cookie value that nginx sends to each app process (its port)."""
    found: dict[int, str] = {}
    for _ in range(200):
        value = secrets.token_hex(8)
        _, headers, _ = stack.get("/_stcore/health", cookie=value)
        found.setdefault(int(headers["x-cnn-upstream"].rsplit(":", 1)[1]), value)
        if len(found) == len(stack.ports):
            return found
    pytest.fail(f"nginx sent 200 cookies to {sorted(found)} only, not to every process {stack.ports}")


def routed_page(browser, stack, cookie: str):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_cookies([{"name": "cnn_route", "value": cookie, "url": stack.base}])
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    return ctx, pg


def upstream(response) -> int:
    return int(response.headers["x-cnn-upstream"].rsplit(":", 1)[1])


def test_a_run_posted_through_one_process_shows_on_the_board_served_by_the_other(scaleout_stack, browser):  # noqa: F811
    stack = scaleout_stack
    port_a, port_b = stack.ports
    cookies = route_cookies(stack)
    with ClassStore.open(stack.db_url) as store:
        info = store.create_class("Scale-out lesson")

    teacher_ctx, teacher = routed_page(browser, stack, cookies[port_b])
    student_ctx, student = routed_page(browser, stack, cookies[port_a])
    try:
        # The teacher's board on process B (the teacher's link carries the key once; the app strips it).
        resp = teacher.goto(f"{stack.base}/class_board?class={info.code}&key={info.teacher_key}")
        assert upstream(resp) == port_b
        teacher.get_by_text("No runs yet", exact=False).first.wait_for()
        assert "key=" not in teacher.url
        assert_no_exception(teacher)

        # The student on process A: the class link with the training settings, join, train one epoch.
        resp = student.goto(f"{stack.base}/training?class={info.code}&data=shapes&epochs=1")
        assert upstream(resp) == port_a
        type_into(student, "class_invite_name", "Ada on A")  # Enter submits the join form
        student.wait_for_function(  # joined: the sidebar's class button names the class
            "() => (document.querySelector('.st-key-frame_class') || {}).innerText?.includes('Class ')"
        )
        assert student.locator(".st-key-class_invite_box").count() == 0
        assert student.locator(".st-key-tr_dataset input").input_value() == "Synthetic shapes"
        student.locator(".st-key-train_start button").click()
        student.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stProgress]')]"
            ".some(e => e.innerText.includes('Finished 1 epoch'))",
            timeout=300_000,
        )
        student.wait_for_selector(".st-key-train_to_results button")
        wait_idle(student)
        student.locator(".st-key-train_to_results button").click()
        wait_idle(student)
        student.locator(".st-key-class_post button").click()
        try:
            student.get_by_text("See it on the Class board", exact=False).first.wait_for()  # the toast
        except Exception:
            screenshot(student, "scaleout_student_post_failed")
            raise
        assert_no_exception(student)

        # Process B reads it from the shared database and the teacher's board shows it, no reload.
        teacher.locator("[data-testid=stDataFrame]").first.wait_for(timeout=60_000)
        teacher.wait_for_function(  # the grid's accessible table holds the cells' text
            "() => [...document.querySelectorAll('[data-testid=stDataFrame] td')]"
            ".some(td => td.innerText.includes('Ada on A'))",
            timeout=60_000,
        )
        with ClassStore.open(stack.db_url) as store:
            (entry,) = store.board(info.code)
        assert entry["nickname"] == "Ada on A"
        assert_no_exception(teacher)
        screenshot(teacher, "scaleout_teacher_board")
    finally:
        student_ctx.close()
        teacher_ctx.close()
