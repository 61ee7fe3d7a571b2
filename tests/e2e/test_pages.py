"""Browser: every page opens from a deep link and from the menu, with the frame and no exception.

These run first (see conftest), so the first request the fresh server gets is a deep link to a page,
not the landing page: the case where Streamlit's pages-folder mode would show a page without a frame.
"""

import pytest

from .conftest import assert_no_exception, open_page, screenshot, wait_idle

PAGES = [
    ("kernels", "kernels", "Kernels"),
    ("shape_calculator", "shape_calculator", "Shape calculator"),
    ("model_builder", "model_builder", "Model builder"),
    ("training", "training", "Training"),
    ("draw_and_predict", "draw_and_predict", "Draw & predict"),
    ("", "home", "CNN Classroom"),
]
MENU = ["Kernels", "Shape calculator", "Model builder", "Training", "Draw & predict"]


@pytest.fixture(scope="module")
def context(browser):
    """One browser context for these tests: the frontend's files load once, each page is a new session."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    pg.close()


@pytest.mark.parametrize(("slug", "name", "title"), PAGES)
def test_deep_link_renders_with_frame(server, page, slug, name, title):
    """A deep link on the server renders the page with our menu and no error."""
    open_page(page, server, slug)
    assert_no_exception(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    for label in ("Home", "Kernels", "Shape calculator", "Model builder", "Training", "Draw & predict"):
        assert sidebar.get_by_text(label, exact=True).count() >= 1
    assert title in page.locator("h1").first.inner_text()
    screenshot(page, name)


def test_menu_navigation_visits_every_page(server, page):
    """Clicking through the sidebar menu reaches every page without an error."""
    open_page(page, server)
    for title in MENU:
        page.locator("[data-testid='stSidebar']").get_by_text(title, exact=True).click()
        page.wait_for_function(
            "t => document.querySelector('h1') && document.querySelector('h1').innerText.includes(t)",
            arg=title,
        )
        wait_idle(page)
        assert_no_exception(page)


def test_lazy_sections_fill_when_opened(server, page):
    """The glossary popover and the Kernels comparison are built only when opened: a click fills them."""
    open_page(page, server, "kernels")
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_role("button", name="Glossary").click()
    page.get_by_text("A grid of numbers with any number of dimensions", exact=False).first.wait_for()
    page.keyboard.press("Escape")
    wait_idle(page)
    main = page.locator("[data-testid='stMain']")
    assert main.get_by_text("Second kernel", exact=True).count() == 0
    main.get_by_text("Compare with a second kernel").click()
    main.get_by_text("Second kernel", exact=True).first.wait_for()
    wait_idle(page)
    assert_no_exception(page)
    assert main.locator(".cchm-panel").count() >= 4  # input and feature map + two to compare (canvas panels)
