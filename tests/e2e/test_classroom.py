"""Browser: a class session with a teacher and three students, each in a browser context of its own
(separate Streamlit sessions).

The teacher starts a class from the sidebar's "Lesson & class" popover and reads its code; three
students open the class link and join from the invite form (a nickname with HTML is refused, one
with Markdown characters is kept as typed). The teacher asks the Kernels page's predict-first
question; the students answer on their own pages, and the teacher's live strip (a fragment that
refreshes itself) counts the answers without a reload; the teacher reveals the answer and every
student sees it. The teacher then opens the Training page with one epoch on the synthetic shapes,
the students follow, train and post their runs, and the teacher's Class board lists all three
nicknames, as typed, without a reload.
"""

from __future__ import annotations

import re

from .conftest import assert_no_exception, choose, open_page, screenshot, type_into, wait_idle

SIDEBAR = "[data-testid='stSidebar']"
LONG = 120_000  # a slow, shared 2-core machine: every wait is generous, none is a sleep
TRAIN = 420_000  # three one-epoch runs share one training slot on 2 cores: the last one waits its turn
QUESTION = "What will this kernel do to the image?"
RIGHT, WRONG = "Finds vertical edges", "Blurs it"  # Sobel x, the Kernels page's default preset
HTML_NAME = "<b>Ada</b>"
STUDENTS = [("_Ada_", RIGHT), ("Grace", RIGHT), ("Alan", WRONG)]  # (nickname, answer)
CODE = r"Class ([A-Z2-9]{3}-?[A-Z2-9]{3})\b"  # six letters and digits, shown as K7M-Q2R
NO_RELOAD = "() => window.ccNoReload === true"  # set on the teacher's page; a reload would drop it


def new_page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(LONG)
    return ctx, pg


def text_of(pg, key: str) -> str:
    box = pg.locator(f".st-key-{key}")
    return box.first.inner_text() if box.count() else ""


def wait_text(pg, key: str, *patterns: str, timeout: int = LONG) -> None:
    """Wait until the element with key `key` shows text matching every regex in `patterns`."""
    pg.wait_for_function(
        """([key, patterns]) => { const el = document.querySelector('.st-key-' + key);
             return !!el && patterns.every(p => new RegExp(p).test(el.innerText)); }""",
        arg=[key, list(patterns)],
        timeout=timeout,
    )


def go_to(pg, title: str) -> None:
    """Open a page from the sidebar menu (inside the app: the session and its class stay)."""
    pg.locator(SIDEBAR).get_by_text(title, exact=True).click()
    pg.locator("h1").filter(has_text=title).first.wait_for(timeout=LONG)
    wait_idle(pg)


def start_class(pg, server: str) -> str:
    """The teacher starts a class from the sidebar's popover; returns the code the page shows."""
    open_page(pg, server)
    pg.locator(".st-key-frame_class button").first.click()
    pg.get_by_role("tab", name="Start a class").click()
    pg.locator(".st-key-class_title input").fill("CNNs, lesson 3")
    pg.locator(".st-key-class_start_submit button").click()
    wait_idle(pg)
    wait_text(pg, "frame_class", CODE)  # the popover's label names the class
    code = re.search(CODE, text_of(pg, "frame_class")).group(1)
    # The teacher's strip says the same on the page.
    pg.get_by_text(f"0 students in class {code}", exact=False).first.wait_for()
    return code


def join(pg, server: str, code: str, name: str) -> None:
    pg.goto(f"{server}/?class={code}")
    pg.locator(".st-key-class_invite_name input").wait_for(timeout=LONG)
    wait_idle(pg)
    if name == STUDENTS[0][0]:  # first, a nickname with HTML: refused, and said so in words
        pg.locator(".st-key-class_invite_name input").fill(HTML_NAME)
        pg.locator(".st-key-class_invite_submit button").click()
        wait_idle(pg)
        pg.get_by_text("A nickname can use letters, digits", exact=False).first.wait_for()
        assert pg.locator("[data-testid=stMain] b").filter(has_text="Ada").count() == 0
        assert_no_exception(pg)
        screenshot(pg, "class_student_refused")
    pg.locator(".st-key-class_invite_name input").fill(name)
    pg.locator(".st-key-class_invite_submit button").click()
    wait_idle(pg)
    wait_text(pg, "frame_class", f"Class {code}")  # joined: the sidebar's class button names the class
    assert pg.locator(".st-key-class_invite_box").count() == 0
    assert_no_exception(pg)
    if name == STUDENTS[0][0]:  # the class panel names the student as typed, not as Markdown
        pg.locator(".st-key-frame_class button").first.click()
        panel = pg.locator("[data-testid=stPopoverBody]")
        panel.get_by_text("You are in class", exact=False).wait_for()
        assert f"You are in class {code} as {name}." in panel.inner_text()
        assert panel.locator("em").count() == 0
        pg.keyboard.press("Escape")
        panel.wait_for(state="hidden")
        wait_idle(pg)


def answer(pg, option: str) -> None:
    """Answer the class poll on this student's page (it appears by itself, within ~2 s)."""
    poll = pg.locator(".st-key-class_poll")
    poll.get_by_text(QUESTION).wait_for(timeout=LONG)
    poll.get_by_role("radio", name=option, exact=True).click()  # pills are radios
    poll.get_by_text("Sent.", exact=False).wait_for(timeout=LONG)
    wait_idle(pg)


def train_and_post(pg) -> None:
    """Wait for this student's one-epoch run to finish, open its results and post it."""
    pg.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stProgress]')]"
        ".some(e => e.innerText.includes('Finished 1 epoch'))",
        timeout=TRAIN,
    )
    pg.locator(".st-key-train_to_results button").wait_for(timeout=LONG)
    wait_idle(pg)
    pg.locator(".st-key-train_to_results button").click()
    wait_idle(pg)
    pg.locator(".st-key-class_post button").click()
    pg.wait_for_function(  # the toast, or (once it has gone) the caption that replaces the button
        "() => ['See it on the Class board', 'Posted to the class board']"
        ".some(t => document.body.innerText.includes(t))",
        timeout=LONG,
    )
    assert_no_exception(pg)


def board_names(pg) -> list[str]:
    """The "who" cells of the board's table (the grid's accessible table holds the cells' text)."""
    return pg.evaluate(
        "() => [...document.querySelectorAll('[data-testid=stDataFrame] td')].map(td => td.innerText.trim())"
    )


def test_a_class_session_poll_and_board(server, browser):
    contexts = []
    try:
        # 1. The teacher starts a class and opens the Kernels page's predict-first question.
        ctx, teacher = new_page(browser)
        contexts.append(ctx)
        code = start_class(teacher, server)
        assert_no_exception(teacher)
        go_to(teacher, "Kernels")
        teacher.locator(".st-key-k_predict label").first.click()
        wait_idle(teacher)
        teacher.locator(".st-key-class_ask_kernels button").wait_for()

        # 2. Three students join from the class link.
        students = []
        for name, _ in STUDENTS:
            ctx, pg = new_page(browser)
            contexts.append(ctx)
            join(pg, server, code, name)
            students.append(pg)
        teacher.get_by_text(f"3 students in class {code}", exact=False).first.wait_for()

        # 3. The teacher asks the class; the answers arrive on the teacher's page by themselves.
        teacher.locator(".st-key-class_ask_kernels button").click()
        wait_idle(teacher)
        wait_text(teacher, "class_poll_live", re.escape(QUESTION), r"\b0 answers\b")
        teacher.evaluate("() => { window.ccNoReload = true; }")
        for pg, (_, option) in zip(students, STUDENTS, strict=True):
            answer(pg, option)
        screenshot(students[2], "class_student_poll")
        wait_text(
            teacher,
            "class_poll_live",
            r"\b3 answers\b",
            rf"\b2 · {RIGHT}",
            rf"\b1 · {WRONG}",
            r"\b0 · Sharpens it",
        )
        assert teacher.evaluate(NO_RELOAD), "the teacher's page was reloaded"
        assert_no_exception(teacher)
        screenshot(teacher, "class_teacher_poll")

        teacher.locator(".st-key-class_reveal button").click()
        wait_text(teacher, "class_poll_live", rf"{RIGHT} ✓")
        assert teacher.locator(".st-key-class_reveal").count() == 0
        for pg, (_, option) in zip(students, STUDENTS, strict=True):
            verdict = "You got it." if option == RIGHT else f"You said {option}."
            wait_text(pg, "class_poll", re.escape(f"The answer: {RIGHT}. {verdict}"))
            assert_no_exception(pg)
        screenshot(students[2], "class_student_revealed")

        # 4. The teacher opens the Training page set to one epoch on the shapes; the students follow,
        #    train and post, while the teacher watches the Class board.
        go_to(teacher, "Training")
        choose(teacher, "tr_dataset", "Synthetic shapes")
        type_into(teacher, "tr_ep", "1")
        teacher.wait_for_function(
            "() => { const p = new URLSearchParams(location.search);"
            " return p.get('data') === 'shapes' && p.get('epochs') === '1'; }"
        )
        for pg in students:
            pg.locator("[data-testid=stAlert]").filter(
                has_text="Your teacher is on Training"
            ).first.wait_for()
            pg.locator(".st-key-class_follow button").click()
            pg.locator("h1").filter(has_text="Training").first.wait_for(timeout=LONG)
            wait_idle(pg)
            assert pg.locator(".st-key-tr_dataset input").input_value() == "Synthetic shapes"
            assert pg.locator(".st-key-tr_ep input").input_value() == "1"
            assert f"class={code.replace('-', '')}" in pg.url
            pg.locator(".st-key-train_start button").click()
            wait_idle(pg)
            assert_no_exception(pg)

        go_to(teacher, "Class board")
        teacher.get_by_text("No runs yet", exact=False).first.wait_for()
        teacher.evaluate("() => { window.ccNoReload = true; }")
        for pg in students:
            train_and_post(pg)

        teacher.locator("[data-testid=stDataFrame]").first.wait_for(timeout=LONG)
        names = [name for name, _ in STUDENTS]
        teacher.wait_for_function(
            "names => { const cells = [...document.querySelectorAll('[data-testid=stDataFrame] td')]"
            ".map(td => td.innerText.trim()); return names.every(n => cells.includes(n)); }",
            arg=names,
            timeout=LONG,
        )
        assert teacher.evaluate(NO_RELOAD), "the teacher's page was reloaded"
        cells = board_names(teacher)
        assert HTML_NAME not in cells and "Ada" not in cells  # the Markdown nickname is kept as typed
        # The revealed poll closed when the teacher moved on to Training: the headline stands alone.
        wait_text(teacher, "class_headline", rf"3 students in class {code} · 3 runs on the board")
        assert_no_exception(teacher)
        screenshot(teacher, "class_teacher_board")
        for pg in students:
            assert_no_exception(pg)
    finally:
        for ctx in contexts:
            ctx.close()
