"""Browser: the Training page's live chart redraws in place (no remount, so no flicker), training
goes on while the student visits another page, and the results open after the run.

The chart's <div> is tagged with a JS property once; a remount (what `st.plotly_chart` does on
every new figure in Streamlit 1.67) would create a new node without the tag.
"""

from .conftest import assert_no_exception, open_page, screenshot, wait_idle

CHART = "div.cc-live-plotly"
PROBE = f"""() => {{ const d = document.querySelector('{CHART}');
  return d ? {{tag: d.ccTag || null, draws: d.ccDraws || 0, count: document.querySelectorAll('{CHART}').length}}
           : null; }}"""


def _choose(pg, key: str, option: str) -> None:
    pg.locator(f".st-key-{key} button[aria-label=Open]").click()
    pg.get_by_role("option", name=option, exact=True).click()
    wait_idle(pg)


def _number(pg, key: str, value: int) -> None:
    box = pg.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    wait_idle(pg)


def test_live_chart_keeps_its_node_through_updates_and_results_follow(server, page):
    open_page(page, server, "training")
    page.wait_for_selector(f"{CHART} .main-svg", timeout=120_000)  # plotly.js loaded, empty chart drawn
    _choose(page, "tr_dataset", "Synthetic shapes")
    _number(page, "tr_ep", 3)
    page.locator(".st-key-train_start button").click()
    page.wait_for_function(f"() => (document.querySelector('{CHART}') || {{}}).ccDraws >= 2", timeout=120_000)
    page.evaluate(f"() => {{ document.querySelector('{CHART}').ccTag = 'same node'; }}")
    before = page.evaluate(PROBE)
    page.wait_for_function(
        f"() => (document.querySelector('{CHART}') || {{}}).ccDraws >= {before['draws'] + 3}", timeout=120_000
    )
    during = page.evaluate(PROBE)
    assert during["tag"] == "same node" and during["count"] == 1, during
    screenshot(page, "training_midrun")

    page.wait_for_selector(".st-key-train_to_results button", timeout=300_000)
    wait_idle(page)
    after = page.evaluate(PROBE)
    assert after["tag"] == "same node", "the chart was remounted when the run ended"
    assert "test accuracy" in page.locator("[data-testid=stProgress]").first.inner_text()
    assert_no_exception(page)

    page.locator(".st-key-train_to_results button").click()
    wait_idle(page)
    page.wait_for_selector(".st-key-train_confusion .main-svg", timeout=60_000)
    assert page.get_by_text("Test accuracy").count() >= 1
    assert_no_exception(page)
    screenshot(page, "training_results")


def test_training_goes_on_while_the_student_visits_another_page(server, page):
    open_page(page, server, "training")
    _choose(page, "tr_dataset", "Synthetic shapes")
    _number(page, "tr_ep", 20)
    page.locator(".st-key-train_start button").click()
    page.wait_for_function(f"() => (document.querySelector('{CHART}') || {{}}).ccDraws >= 2", timeout=120_000)
    page.locator("[data-testid='stSidebar']").get_by_text("Kernels", exact=True).click()
    wait_idle(page)
    page.wait_for_timeout(2000)
    page.locator("[data-testid='stSidebar']").get_by_text("Training", exact=True).click()
    wait_idle(page)
    text = page.locator("[data-testid=stProgress]").first.inner_text()
    assert "batch" in text and not text.startswith("Ready"), text
    assert page.locator(".st-key-tr_dataset input").input_value() == "Synthetic shapes"  # settings kept
    page.locator(".st-key-train_stop button").click()
    wait_idle(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stProgress]')].some(e => e.innerText.includes('Stopped'))",
        timeout=60_000,
    )
    assert_no_exception(page)
