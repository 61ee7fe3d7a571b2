"""The link keys every page shares, read by the frame before the page's own keys.

present=1       the projector view (large type, sidebar folded, explanations folded)
lesson=<id>     a lesson plan being stepped through (a bundled id, or "upload" for the teacher's own)
step=<n>        its step, from 1
class=<code>    a class session the page belongs to
key=<teacher key>  read once from a teacher's link, kept in the session, then removed from the URL
screen=<seat>   a projector screen's seat (display only), read once like the key, then removed
"""

from __future__ import annotations

import re

from cnnlib.share.fields import Field, LinkSchema

__all__ = ["FRAME_LINK", "FRAME_KEYS"]


_CODE = re.compile(r"^[A-Za-z0-9-]{4,16}$")  # "K7M-Q2R" as shown, or "K7MQ2R"
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_LESSON = re.compile(r"^[a-z0-9_]{1,40}$")
_SEAT = re.compile(r"^[A-Za-z0-9_-]{20,200}$")  # cnnlib.classroom seat tokens (at most 200 characters)


def _match(pattern: re.Pattern[str], what: str):
    def parse(text: str) -> str:
        if not pattern.match(text):
            raise ValueError(f"not a {what}")
        return text

    return parse


FRAME_LINK = LinkSchema(
    "frame",
    (
        Field("present", "bool", False, "projector view"),
        Field("lesson", "custom", None, "lesson", parse_fn=_match(_LESSON, "lesson name"), format_fn=str),
        Field("step", "int", 1, "lesson step", lo=1, hi=99),
        Field(
            "class",
            "custom",
            None,
            "class code",
            parse_fn=lambda t: _match(_CODE, "class code")(t).replace("-", "").upper(),
            format_fn=str,
        ),
        Field("key", "custom", None, "teacher key", parse_fn=_match(_KEY, "teacher key"), format_fn=str),
        Field(
            "screen", "custom", None, "projector screen", parse_fn=_match(_SEAT, "screen seat"), format_fn=str
        ),
    ),
    title="every page",
)
FRAME_KEYS = frozenset(f.key for f in FRAME_LINK.fields)
