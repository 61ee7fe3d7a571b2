"""JSON in a link: compact JSON, zlib, URL-safe base64, behind a version prefix ("v1.<base64>").

For state that does not fit in a few readable keys (a whole model, a stack of layers). Unpacking
is for untrusted input: the token's length is capped before anything is decoded, decompression
stops at `max_json` characters (a "zip bomb" that would unpack to megabytes is refused after at most
that much work), and every refusal is a PackError saying what is wrong in words.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from typing import Any

VERSION = "v1"
MAX_TOKEN_CHARS = 6000
MAX_JSON_CHARS = 64_000
_B64 = re.compile(r"^[A-Za-z0-9_-]*$")


class PackError(ValueError):
    """A token that cannot be unpacked; the message says why."""


def pack(obj: Any) -> str:
    """`obj` (JSON-able) as "v1." + URL-safe base64, no padding, of zlib(compact JSON)."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    return f"{VERSION}." + base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 9)).decode(
        "ascii"
    ).rstrip("=")


def unpack(token: str, what: str = "link", max_json: int = MAX_JSON_CHARS) -> Any:
    """The JSON value a token holds; PackError naming what is wrong (`what` names the token)."""
    if not isinstance(token, str) or not token.strip():
        raise PackError(f"The {what} is empty.")
    if len(token) > MAX_TOKEN_CHARS:
        raise PackError(
            f"The {what} is {len(token):,} characters long; ours are at most {MAX_TOKEN_CHARS:,}."
        )
    version, dot, body = token.strip().partition(".")
    if not dot or version != VERSION:
        raise PackError(
            f"The {what} does not start with '{VERSION}.': it was cut short, or made by another version."
        )
    if not _B64.match(body):
        raise PackError(f"The {what} has characters a link of ours never has: was it cut or edited?")
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise PackError(f"The {what} is not valid base64: it was probably cut short.") from None
    unpacker = zlib.decompressobj()
    try:
        raw = unpacker.decompress(packed, max_json)
    except zlib.error:
        raise PackError(f"The {what} could not be unpacked: it was probably cut short or edited.") from None
    if unpacker.unconsumed_tail:
        raise PackError(
            f"The {what} unpacks to more than {max_json:,} characters: nothing of this app is that big."
        )
    if not unpacker.eof:
        raise PackError(f"The {what} is incomplete: it was probably cut short.")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PackError(f"The {what} does not hold what it should (its content is not JSON).") from None
