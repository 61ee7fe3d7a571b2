"""JSON in a link: compact JSON, zlib, URL-safe base64, behind a version prefix ("v1.<base64>").

For state that does not fit in a few readable keys (a whole model, a stack of layers). Unpacking
is for untrusted input: the token's length is capped before anything is decoded, decompression
stops at `max_json` characters (a "zip bomb" that would unpack to megabytes is refused after at most
that much work), and every refusal is a PackError saying what is wrong in words.

`loads_untrusted` is the JSON reader for everything a student or a link can send (tokens, lesson
files, model specs): nesting deeper than MAX_JSON_DEPTH (json.loads would recurse until a
RecursionError), a number of more than MAX_NUMBER_CHARS characters (a 5,000-digit int costs
quadratic time to convert) and NaN or infinities are refused with a PackError before they reach
any other code; malformed JSON raises json.JSONDecodeError, as json.loads does.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import zlib
from typing import Any

__all__ = ["PackError", "loads_untrusted", "pack", "unpack"]


VERSION = "v1"
MAX_TOKEN_CHARS = 6000
MAX_JSON_CHARS = 64_000
MAX_JSON_DEPTH = 16  # a model spec nests 4 deep, a lesson 5
MAX_NUMBER_CHARS = 40  # one number as written: "0.0001", "64", "-1.5e-3"
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_B64 = re.compile(r"^[A-Za-z0-9_-]*$")


class PackError(ValueError):
    """A token that cannot be unpacked; the message says why."""


def json_depth(text: str) -> int:
    """How deeply a JSON text nests its arrays and objects (brackets inside strings do not count)."""
    depth = deepest = 0
    for ch in _BRACKETS.findall(_STRING.sub('""', text)):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads_untrusted(
    text: str | bytes,
    what: str = "link",
    *,
    max_depth: int = MAX_JSON_DEPTH,
    max_number_chars: int = MAX_NUMBER_CHARS,
) -> Any:
    """json.loads for untrusted text: PackError for deep nesting, huge numbers, NaN or infinities.

    The nesting is measured on the text before parsing, so nothing recurses; each number is checked
    as written, before Python converts it. Malformed JSON raises json.JSONDecodeError (a ValueError).
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    depth = json_depth(text)
    if depth > max_depth:
        raise PackError(
            f"The {what} is nested too deeply ({depth:,} levels); nothing of this app nests more than "
            f"{max_depth}."
        )

    def number(kind: type) -> Any:
        def parse(s: str) -> Any:
            if len(s) > max_number_chars:
                raise PackError(
                    f"The {what} holds a number of {len(s):,} characters; this app's numbers are short "
                    f"(at most {max_number_chars})."
                )
            value = kind(s)
            if kind is float and not math.isfinite(value):
                raise PackError(f"The {what} holds a number too large to use ({s[:12]}).")
            return value

        return parse

    def constant(s: str) -> Any:
        raise PackError(f"The {what} holds {s}, which is not a number this app can use.")

    try:
        return json.loads(text, parse_int=number(int), parse_float=number(float), parse_constant=constant)
    except RecursionError:  # not reachable past the depth check; kept as a second line
        raise PackError(f"The {what} is nested too deeply.") from None


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
        return loads_untrusted(raw.decode("utf-8"), what)
    except PackError:
        raise
    except (UnicodeDecodeError, ValueError):
        raise PackError(f"The {what} does not hold what it should (its content is not JSON).") from None
