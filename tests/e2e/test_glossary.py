"""Browser: a glossary link on the Kernels page opens the Glossary page at that word's entry, in the
new tab Streamlit opens for a markdown link, and the student's own tab keeps its page and settings."""

from .conftest import assert_no_exception, choose, open_page, screenshot, type_into, wait_idle

SIDEBAR = "[data-testid='stSidebar']"


def test_a_glossary_link_opens_the_entry_in_a_new_tab_and_keeps_the_page(server, page):
    open_page(page, server, "kernels")
    choose(page, "k_preset", "Box blur")  # some state of the student's own, to find again after
    type_into(page, "k_stride", "2")
    before = page.url
    assert "/kernels" in before

    # The layer's settings are explained beside them, in the sidebar's folded "What is a kernel? ..."
    # (the main area keeps its room for the maps: issue 25).
    page.locator(SIDEBAR).get_by_text("What is a kernel?").first.click()
    link = page.locator(f"{SIDEBAR} a[href*='glossary#stride']")
    link.first.wait_for(timeout=30_000)
    assert link.count() == 1, "the Kernels page's sidebar links 'stride' once"
    link.scroll_into_view_if_needed()
    assert link.get_attribute("title").startswith("How many pixels")  # the entry, on hover
    with page.context.expect_page() as opened:
        link.click()
    glossary = opened.value
    glossary.set_default_timeout(60_000)
    glossary.wait_for_load_state()
    glossary.locator("h1").first.wait_for(timeout=120_000)
    wait_idle(glossary)
    assert glossary.url.split("?")[0].endswith("/glossary#stride")
    assert "Glossary" in glossary.locator("h1").first.inner_text()
    entry = glossary.locator("h3#stride")
    assert entry.inner_text().strip().startswith("Stride")
    # The page opens at the entry: its heading is on screen, not below the fold.
    glossary.wait_for_function(
        "() => { const r = document.getElementById('stride').getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight; }",
        timeout=20_000,
    )
    assert_no_exception(glossary)
    screenshot(glossary, "glossary_from_kernels_link")

    # The student's tab is where it was: same page, same preset and stride.
    assert page.url == before
    assert page.locator(".st-key-k_preset input").first.input_value() == "Box blur"
    assert page.locator(".st-key-k_stride input").input_value() == "2"
    assert_no_exception(page)
    glossary.close()
