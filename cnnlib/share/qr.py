"""QR codes of links, large and high-contrast, for students to scan from a projector (segno).

segno is pure Python (no Pillow needed for SVG or PNG) and makes a code in a few milliseconds.
Error correction "M" (15 % of the code can be unreadable) survives a projector's glare and a
camera at an angle without making the code much denser.
"""

from __future__ import annotations

import io

__all__ = ["QRError", "qr_png"]


MAX_LINK_CHARS = 2000  # a QR code of a longer link gets too dense to scan from the back of a room


class QRError(ValueError):
    """A link that cannot become a scannable QR code."""


def _make(link: str):
    import segno

    if not link or len(link) > MAX_LINK_CHARS:
        raise QRError(
            f"This link is {len(link):,} characters long; a QR code scanned from across a room holds about "
            f"{MAX_LINK_CHARS:,}. Copy the link instead, or share a shorter state (a preset model)."
        )
    return segno.make(link, error="m", micro=False)


def qr_svg(link: str, scale: int = 8, border: int = 4) -> str:
    """The link's QR code as an inline SVG: black modules on white, `border` modules of quiet zone."""
    return _make(link).svg_inline(scale=scale, border=border, dark="#000000", light="#ffffff")


def qr_png(link: str, scale: int = 10, border: int = 4) -> bytes:
    """The link's QR code as PNG bytes (for a download, or for a test to decode)."""
    buf = io.BytesIO()
    _make(link).save(buf, kind="png", scale=scale, border=border, dark="#000000", light="#ffffff")
    return buf.getvalue()
