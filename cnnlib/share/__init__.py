"""Sharing what is on screen: page states as links, QR codes, lesson plans. No torch, no Streamlit.

A page's state travels in its URL (query params), so the address bar is always a link to what is
on screen: a teacher shares it as a link or a QR code, a lesson plan is a list of such states, and
a class session sends the teacher's state to the students. Links are untrusted input.

This package's public face is this module; the modules inside it:

    fields.py   Field, LinkSchema: typed, bounded parsing of query params; Ignored items and the message
    tokens.py   pack / unpack: JSON in a link ("v1." + base64 of zlib), with limits against bombs;
                loads_untrusted: json.loads refusing deep nesting, huge numbers, NaN (PackError)
    export.py   spreadsheet_safe: a cell a spreadsheet would run as a formula, made plain text
    qr.py       qr_svg / qr_png: a link as a QR code for the projector (segno)
    lessons.py  parse_lesson: lesson plans (steps of page states, notes, questions); the bundled ones
    files/      the bundled lessons (JSON)

The page schemas live with their pages' domains (cnnlib.kernels.link, cnnlib.shapes.link,
cnnlib.spec.link, cnnlib.training.link, cnnlib.inference.link); FRAME_LINK here holds the keys every
page shares (projector view, lesson step, class code).
"""

from __future__ import annotations

from cnnlib.share import export, fields, frame, lessons, qr, tokens
from cnnlib.share.export import *  # noqa: F403
from cnnlib.share.fields import *  # noqa: F403
from cnnlib.share.frame import *  # noqa: F403
from cnnlib.share.lessons import *  # noqa: F403
from cnnlib.share.qr import *  # noqa: F403
from cnnlib.share.tokens import *  # noqa: F403

__all__ = [*export.__all__, *fields.__all__, *frame.__all__, *lessons.__all__, *qr.__all__, *tokens.__all__]
