"""AppTest: every page links each glossary term its text mentions; the Glossary page has every entry.

Each page is opened through app.py; the markdown and captions it shows in its main area are read,
and every glossary term mentioned there (cnnlib.terms.find_mentions: prose only, not code, LaTeX or a
link's own text) must be linked to its entry at least once on that page.
"""

import re

import pytest

from cnnlib.glossary import GLOSSARY, anchor
from cnnlib.terms import GLOSSARY_PAGE, linked_terms, mentioned_terms
from pages.ui.navigation import PAGES
from tests.conftest import open_app

TEXT_PAGES = [p for p in PAGES if p.key != "glossary"]
CASES = [pytest.param(p, id=p.key) for p in TEXT_PAGES]
_LINK = re.compile(r"\]\(" + GLOSSARY_PAGE + r"#([a-z0-9-]+)")


def _page_text(at) -> list[str]:
    return [el.value for kind in ("markdown", "caption") for el in at.main.get(kind)]


@pytest.mark.parametrize("page", CASES)
def test_every_term_a_page_mentions_is_linked_there(page):
    at = open_app(None if page.key == "home" else page.path)
    texts = _page_text(at)
    assert texts, f"{page.key}: no text found"
    mentioned = set().union(*(mentioned_terms(t) for t in texts))
    linked = set().union(*(linked_terms(t) for t in texts))
    missing = sorted(mentioned - linked)
    assert not missing, f"{page.key} mentions {missing} without a link to the glossary"


@pytest.mark.parametrize("page", CASES)
def test_a_page_links_each_term_once(page):
    """One link per term per page, not one per element: the page stays readable."""
    at = open_app(None if page.key == "home" else page.path)
    links = [a for t in _page_text(at) for a in _LINK.findall(t)]
    twice = sorted({a for a in links if links.count(a) > 1})
    assert not twice, f"{page.key} links {twice} more than once"


def test_glossary_page_has_an_anchored_entry_per_term():
    at = open_app("pages/7_glossary.py")
    text = "\n".join(_page_text(at))
    for term, entry in GLOSSARY.items():
        assert f"](#{anchor(term)})" in text, term  # the index links to the heading
        assert entry in text, term
    assert at.title[0].value.endswith("Glossary")


def test_landing_page_shows_the_pipeline_picture_and_no_plotly():
    at = open_app()
    assert len(at.main.get("image")) == 1
    assert not [el for el in at.main.get("plotly_chart")]
    assert linked_terms(_page_text(at)[0]) >= {"kernel"}


def test_linked_counts_terms_per_page_run():
    from pages.ui.glossary import linked, start_page

    start_page()
    assert linked_terms(linked("A stride and some padding.")) == {"stride", "padding"}
    assert linked_terms(linked("The stride again, and a kernel.")) == {"kernel"}
    assert linked_terms(linked("A box of its own: stride.", once=False)) == {"stride"}
    assert linked_terms(linked("Padding once more.")) == set()  # the box above left the tally alone
    start_page()  # the next run links afresh
    assert linked_terms(linked("Padding.")) == {"padding"}
