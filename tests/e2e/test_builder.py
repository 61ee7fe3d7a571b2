"""Browser: the Model builder: load a preset, add layers, see the summary follow, the broken layer
marked, and a file that is not JSON refused."""

from .conftest import assert_no_exception, choose, open_page, screenshot, upload, wait_idle

MAIN = "[data-testid='stMain']"


def table(pg, n: int) -> list[list[str]]:
    """The summary table's rows (cells as text) once it has `n` rows (a Markdown table in the
    container keyed "bsummary")."""
    rows = ".st-key-bsummary table tbody tr"
    pg.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length == n", arg=[rows, n])
    return pg.locator(".st-key-bsummary table").first.evaluate(
        "t => [...t.querySelectorAll('tbody tr')].map(r => [...r.querySelectorAll('td')].map(c => c.innerText))"
    )


def params(pg) -> str:
    box = pg.locator("[data-testid=stMetric]").filter(has_text="Parameters").first
    return box.locator("[data-testid=stMetricValue]").inner_text().strip()


def add_layer(pg, layer_type: str) -> None:
    """Add a layer of this type at the default place: right after the layer being edited."""
    if not pg.locator(".st-key-badd_type").count():  # the "Add" popover, built when opened
        pg.locator(".st-key-badd_box button").first.click()
        pg.locator(".st-key-badd_type").first.wait_for()
    choose(pg, "badd_type", layer_type)
    pg.locator(".st-key-badd_btn button").click()
    wait_idle(pg)


def test_preset_add_layer_break_it_and_bad_json(server, page):
    """Load a preset, add a layer, then break the model and upload a file that is not JSON."""
    open_page(page, server, "model_builder")
    choose(page, "bpreset", "Minimal CNN")
    page.locator(".st-key-bload_preset button").click()
    wait_idle(page)
    assert page.locator(MAIN).get_by_text("Loaded the preset Minimal CNN.").count() == 1
    assert len(table(page, 5)) == 5 and params(page) == "7,890"

    add_layer(page, "BatchNorm2d")  # after layer 1, the Conv2d(1→4): 4 scales + 4 shifts
    rows = table(page, 6)
    assert rows[1][1] == "BatchNorm2d(4)" and params(page) == "7,898", rows

    # A pool after it leaves the Linear(784→10), now layer 7, only 196 features: that layer breaks.
    add_layer(page, "MaxPool2d")
    error = page.locator(f"{MAIN} [data-testid=stAlert]").filter(has_text="cannot run").first
    assert "Layer 7 cannot run" in error.inner_text()  # counted from 1, as on every page
    assert "expects 784 input features but receives 196" in error.inner_text()
    rows = table(page, 7)
    assert [r[2] == "✖ error" for r in rows] == [False] * 6 + [True], rows
    assert page.get_by_text("Totals appear once every layer runs.").count() == 1
    assert page.locator(".st-key-bfix button").count() == 1  # the one-click fix is offered
    assert_no_exception(page)
    page.locator(".st-key-bfix").scroll_into_view_if_needed()
    screenshot(page, "builder_error")

    page.get_by_role("tab").filter(has_text="Save / load JSON").click()
    upload(page, "bupload_*", "model.json", b"this is not json {", "application/json")
    bad = page.locator(f"{MAIN} [data-testid=stAlert]").filter(has_text="Could not load model.json")
    assert bad.count() == 1 and "not valid JSON" in bad.inner_text() and "unchanged" in bad.inner_text()
    assert table(page, 7)[6][2] == "✖ error"  # the model is as it was
    assert_no_exception(page)


def test_diagram_code_and_handoff(server, page):
    """The default model's diagram is drawn (a picture: the page loads no plotly.js), the code tab shows
    the class, and the hand-off says what Training will use before and after sending the model."""
    open_page(page, server, "model_builder")
    picture = page.locator(f"{MAIN} [data-testid=stImage] img").first
    picture.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    assert picture.evaluate("img => img.naturalWidth") == 925  # cnnlib.plots.spec_picture's width
    assert page.locator(f"{MAIN} .cc-live-plotly").count() == 0
    assert not page.evaluate("() => !!window.Plotly")
    screenshot(page, "builder_diagram")

    page.get_by_role("tab").filter(has_text="PyTorch code").click()
    code = page.locator(f"{MAIN} [data-testid=stCode]").filter(has_text="class Net(nn.Module)").first
    code.wait_for()
    assert "nn.Linear(576, 10)" in code.inner_text()  # the Digit CNN's classifier
    assert page.locator(".st-key-bdl_code").count() == 1

    handoff = page.locator(f"{MAIN} [data-testid=stMarkdownContainer]").filter(has_text="Training will train")
    assert "Digit CNN" in handoff.first.inner_text()
    page.locator(".st-key-buse button").first.click()  # a button with help= is drawn twice (tooltip)
    wait_idle(page)
    assert "will train Digit CNN: this model." in handoff.first.inner_text()
    sent = page.locator(f"{MAIN} [data-testid=stAlert]").filter(has_text="Sent: the Training page")
    assert sent.count() == 1
    assert_no_exception(page)
