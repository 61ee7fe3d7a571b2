"""Glossary terms in a page's text: where they are mentioned, and the text with them linked.

`link_terms(markdown)` turns the first mention of each glossary term into a Markdown link to the
term's entry on the Glossary page (`glossary#stride`), with the entry as the link's title, so a
student sees it on hover and reaches it with a click. Whole words only, plurals and the spellings in
`cnnlib.glossary.FORMS` included, case ignored ("ReLU", "relu"); where terms overlap the longer one
wins ("batch norm" over "batch"). Text inside a link, inline or fenced code, LaTeX ($...$, $$...$$),
an HTML tag or a `<style>` block, a Streamlit icon or a coloured span is left alone.
"""

from __future__ import annotations

import functools
import re

from cnnlib.glossary import FORMS, GLOSSARY, anchor

__all__ = ["GLOSSARY_PAGE", "find_mentions", "link_terms", "linked_terms", "mentioned_terms"]

GLOSSARY_PAGE = "glossary"  # the Glossary page's URL name, relative to the page the link is on

# Regions where a word is not prose: each is skipped whole, in this order of preference.
_PROTECTED = re.compile(
    r"```.*?```"  # fenced code
    r"|<style\b.*?</style>|<script\b.*?</script>"  # CSS or script inside markdown
    r"|`+[^`\n]*`+"  # inline code
    r"|\$\$.*?\$\$|(?<!\\)\$[^$\n]+\$"  # LaTeX, display and inline
    r'|!?\[[^\]\n]*\]\((?:[^)"\n]|"(?:[^"\\\n]|\\.)*")*\)'  # a link or an image (its title may hold ")")
    r"|<[^<>\n]+>"  # an HTML tag or an autolink
    r"|https?://\S+"  # a bare address
    r"|:material/[a-z0-9_]+:"  # a Streamlit icon
    r"|:[a-z]+(?:-background)?\[[^\]\n]*\]",  # a coloured span, :red[...]
    re.DOTALL,
)
_LINK = re.compile(r"\[[^\]\n]*\]\(" + re.escape(GLOSSARY_PAGE) + r"#([a-z0-9-]+)")


def _norm(text: str) -> str:
    return " ".join(re.split(r"[\s-]+", text.lower()))


def _form_pattern(form: str) -> str:
    return r"[\s-]+".join(re.escape(part) for part in re.split(r"[\s-]+", form))


_FORM_TERM: dict[str, str] = {}
for _term in GLOSSARY:
    for _form in (_term, *FORMS.get(_term, ())):
        _FORM_TERM[_norm(_form)] = _term
_TERM_RE = re.compile(
    r"(?<![\w./#-])(?:"
    + "|".join(_form_pattern(f) for f in sorted(_FORM_TERM, key=len, reverse=True))
    + r")(?:e?s)?(?![\w/-])(?!\.\w)",
    re.IGNORECASE,
)
_ANCHOR_TERM = {anchor(term): term for term in GLOSSARY}


def _term_of(word: str) -> str:
    norm = _norm(word)
    for candidate in (norm, norm[:-1], norm[:-2]):
        if candidate in _FORM_TERM:
            return _FORM_TERM[candidate]
    raise KeyError(word)  # cannot happen: the pattern is made of these forms


def find_mentions(markdown: str) -> list[tuple[int, int, str]]:
    """Every mention of a glossary term in the prose of `markdown`: (start, end, term), in order."""
    found: list[tuple[int, int, str]] = []
    pos = 0
    for region in [*_PROTECTED.finditer(markdown), None]:
        end = region.start() if region else len(markdown)
        for m in _TERM_RE.finditer(markdown, pos, end):
            found.append((m.start(), m.end(), _term_of(m.group())))
        pos = region.end() if region else end
    return found


def mentioned_terms(markdown: str) -> set[str]:
    """The glossary terms the prose of `markdown` mentions (links, code and LaTeX left out)."""
    return {term for _, _, term in find_mentions(markdown)}


def linked_terms(markdown: str) -> set[str]:
    """The glossary terms `markdown` links to their entries on the Glossary page."""
    return {_ANCHOR_TERM[a] for a in _LINK.findall(markdown) if a in _ANCHOR_TERM}


def _title(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


@functools.lru_cache(maxsize=2048)
def link_terms(markdown: str, skip: frozenset[str] = frozenset(), page: str = GLOSSARY_PAGE) -> str:
    """`markdown` with the first mention of each glossary term linked to its entry on `page`.

    Terms in `skip`, and terms the text already links, are left as they are. The link's title is
    the entry itself (a tooltip on hover).
    """
    done = set(skip) | linked_terms(markdown)
    out: list[str] = []
    pos = 0
    for start, end, term in find_mentions(markdown):
        if term in done:
            continue
        done.add(term)
        word = markdown[start:end]
        out.append(markdown[pos:start])
        out.append(f'[{word}]({page}#{anchor(term)} "{_title(GLOSSARY[term])}")')
        pos = end
    out.append(markdown[pos:])
    return "".join(out)
