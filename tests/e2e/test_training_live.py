"""Browser: the Training page on the synthetic shapes: a bad zip is refused; a run trains live (its
chart redraws in place, no remount and so no flicker), goes on while the student visits another
page, stops; a second run finishes and its confusion matrix opens.

The chart's <div> is tagged with a JS property; a remount (what `st.plotly_chart` does on every new
figure in Streamlit 1.67) would create a new node without the tag.
"""

import re

from .conftest import assert_no_exception, choose, open_page, screenshot, type_into, upload, wait_idle

CHART = "div.cc-live-plotly"
PROBE = f"""() => {{ const d = document.querySelector('{CHART}');
  return d ? {{tag: d.ccTag || null, draws: d.ccDraws || 0, count: document.querySelectorAll('{CHART}').length}}
           : null; }}"""
SIDEBAR = "[data-testid='stSidebar']"


def wait_draws(pg, n: int) -> None:
    """Wait until the live chart has been redrawn at least `n` times."""
    pg.wait_for_function(f"() => (document.querySelector('{CHART}') || {{}}).ccDraws >= {n}", timeout=120_000)


def tag_chart(pg) -> dict:
    pg.evaluate(f"() => {{ document.querySelector('{CHART}').ccTag = 'same node'; }}")
    return pg.evaluate(PROBE)


def progress(pg) -> str:
    return pg.locator("[data-testid=stProgress]").first.inner_text()


def batches(pg) -> int:
    """How many batches the run has done, from the progress bar's text ("batch 1,234 of 5,678")."""
    found = re.search(r"batch ([\d,]+) of", progress(pg))
    assert found, progress(pg)
    return int(found.group(1).replace(",", ""))


def wait_progress(pg, text: str, timeout: int = 120_000) -> None:
    pg.wait_for_function(
        "t => [...document.querySelectorAll('[data-testid=stProgress]')].some(e => e.innerText.includes(t))",
        arg=text,
        timeout=timeout,
    )


def test_train_stop_train_again_then_results(server, page):
    """A bad zip, then train on shapes: live chart, leave and come back, stop, train again, results."""
    open_page(page, server, "training")
    # Before any run: the empty panels are a picture, and the page loads no plotly.js.
    page.wait_for_selector("[data-testid=stMain] [data-testid=stImage] img", timeout=120_000)
    assert page.locator(CHART).count() == 0
    assert not page.evaluate("() => !!window.Plotly || !!window.ccPlotly")

    choose(page, "tr_dataset", "Your own images (zip)")
    upload(page, "tr_zip", "classes.zip", b"these bytes are not a zip archive", "application/zip")
    assert page.get_by_text("This file is not a zip archive").count() == 1
    assert_no_exception(page)

    choose(page, "tr_dataset", "Synthetic shapes")
    type_into(page, "tr_ep", "20")  # far longer than the test waits: this run gets stopped
    page.locator(".st-key-train_start button").click()
    wait_draws(page, 2)
    before = tag_chart(page)
    first = batches(page)
    wait_draws(page, before["draws"] + 3)
    page.wait_for_function(  # the first batches come once the training process has started
        "n => { const m = (document.querySelector('[data-testid=stProgress]') || {}).innerText"
        "?.match(/batch ([\\d,]+) of/); return m && Number(m[1].replace(/,/g, '')) > n; }",
        arg=first,
        timeout=60_000,
    )
    assert batches(page) > first, "the progress bar did not move"
    during = page.evaluate(PROBE)
    assert during["tag"] == "same node" and during["count"] == 1, during
    assert_no_exception(page)
    screenshot(page, "training_midrun")

    left_at = batches(page)
    page.locator(SIDEBAR).get_by_text("Home", exact=True).click()
    wait_idle(page)
    page.locator(SIDEBAR).get_by_text("Training", exact=True).click()
    wait_idle(page)
    wait_draws(page, 1)
    assert batches(page) > left_at, "training did not go on while the student was away"
    assert page.locator(".st-key-tr_dataset input").input_value() == "Synthetic shapes"  # settings kept

    page.locator(".st-key-train_stop button").click()
    wait_idle(page)
    wait_progress(page, "Stopped", timeout=60_000)
    page.get_by_text("Stopped by you", exact=False).first.wait_for(timeout=60_000)  # the why, in the alert
    assert_no_exception(page)

    page.locator(
        ".st-key-train_settings_open summary"
    ).first.click()  # folded while training ("More" is inside)
    type_into(page, "tr_ep", "1")
    tag_chart(page)  # tagged before the press: the same node must carry the whole second run
    drawn = page.evaluate(PROBE)["draws"]
    page.locator(".st-key-train_start button").click()
    # Wait for the outcome, not for "Training…": on a busy host a 1-epoch run can finish first.
    wait_progress(page, "Finished 1 epoch(s)", timeout=300_000)
    wait_draws(page, drawn + 1)
    page.wait_for_selector(".st-key-train_to_results button", timeout=60_000)
    wait_idle(page)
    assert page.evaluate(PROBE)["tag"] == "same node", "the chart was remounted when the run ended"
    assert "test accuracy" in progress(page)
    assert_no_exception(page)

    page.locator(".st-key-train_to_results button").click()
    wait_idle(page)
    page.wait_for_selector(".st-key-train_confusion .main-svg", timeout=60_000)
    assert page.get_by_text("Test accuracy").count() >= 1
    assert_no_exception(page)
    screenshot(page, "training_results")
