"""A page's state as a link: typed fields with short keys, parsed from untrusted query params.

A page declares its link state as a `LinkSchema`: an ordered tuple of fields, each with the key a
human would type (`?kernel=sobel_y&stride=2`), its type, bounds and default. `schema.parse(params)`
turns raw query params (what `st.query_params.to_dict()` or a lesson step gives: str or list of
str) into the values it can use, plus one `Ignored` item per key it could not use, with the reason;
`schema.encode(values)` gives the params back, defaults left out, so the address bar stays short.
For every valid state, parse(encode(state)) gives the state back.

Links are untrusted input (typed by hand, truncated, hostile): the work is bounded before anything
is decoded (at most MAX_KEYS keys, values capped at each field's `max_len`, MAX_QUERY_CHARS in
all), every refusal is a reason in words, and nothing here raises for bad input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Field", "first_value", "Parsed", "LinkSchema", "slug", "slug_choices"]


MAX_KEYS = 40  # a link with more keys than this is not one of ours: the rest are ignored
MAX_QUERY_CHARS = 20_000  # all values together
MAX_VALUE_CHARS = 200  # one value, unless its field says otherwise
SHOWN_CHARS = 40  # how much of a bad value a message repeats

Params = Mapping[str, "str | Sequence[str]"]


@dataclass(frozen=True)
class Ignored:
    """A key of the link that was not used, and why (in words for the person who opened it)."""

    key: str
    reason: str


@dataclass(frozen=True)
class Field:
    """One piece of a page's state in a link.

    kind: "int", "float", "bool", "choice", "text" or "custom". `choices` maps the link's words to
    the page's values for "choice" (the first word of a value is the one written); "custom" fields
    parse with `parse_fn(text) -> value` (raising ValueError with the reason) and write with
    `format_fn(value) -> text`.
    """

    key: str
    kind: str
    default: Any
    label: str = ""  # how the message names it; the key when empty
    lo: float | None = None
    hi: float | None = None
    choices: tuple[tuple[str, Any], ...] = ()
    max_len: int = MAX_VALUE_CHARS
    parse_fn: Callable[[str], Any] | None = None
    format_fn: Callable[[Any], str] | None = None

    @property
    def name(self) -> str:
        return self.label or self.key

    def parse(self, text: str) -> Any:
        """The value for `text`; ValueError with a reason a person can act on."""
        if len(text) > self.max_len:
            raise ValueError(f"too long ({len(text):,} characters; at most {self.max_len:,})")
        t = text.strip()
        if self.kind == "int":
            try:
                v = int(t)
            except ValueError:
                raise ValueError(f"{shown(text)} is not a whole number") from None
            return self._in_range(v)
        if self.kind == "float":
            try:
                x = float(t)
            except ValueError:
                raise ValueError(f"{shown(text)} is not a number") from None
            if not math.isfinite(x):
                raise ValueError(f"{shown(text)} is not an ordinary number")
            return self._in_range(x)
        if self.kind == "bool":
            low = t.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(f"{shown(text)} is not 1 or 0")
        if self.kind == "choice":
            low = t.lower()
            for word, value in self.choices:
                if low == word.lower():
                    return value
            first: dict[Any, str] = {}
            for word, value in self.choices:  # one word per value: the one links write
                first.setdefault(repr(value), word)
            words = ", ".join(first.values())
            raise ValueError(f"{shown(text)} is not one of: {words}")
        if self.kind == "text":
            return t
        if self.kind == "custom" and self.parse_fn is not None:
            return self.parse_fn(t)
        raise ValueError(f"the field {self.key!r} cannot be read")  # a schema bug, said plainly

    def format(self, value: Any) -> str:
        """The text the link carries for `value`."""
        if self.kind == "bool":
            return "1" if value else "0"
        if self.kind == "float":
            return f"{float(value):g}"
        if self.kind == "choice":
            for word, v in self.choices:
                if v == value:
                    return word
            raise ValueError(f"{value!r} is not a value of {self.key!r}")
        if self.kind == "custom" and self.format_fn is not None:
            return self.format_fn(value)
        return str(value)

    def _in_range(self, v: float) -> float:
        if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
            lo = "" if self.lo is None else f"{self.lo:g}"
            hi = "" if self.hi is None else f"{self.hi:g}"
            raise ValueError(f"{v:g} is outside {lo} to {hi}")
        return v


def shown(text: str) -> str:
    """A bad value as a message repeats it: quoted, shortened."""
    t = text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
    return repr(t)


def first_value(raw: str | Sequence[str]) -> str:
    """A query param's value (the last one when the key came several times, as a browser does)."""
    if isinstance(raw, str):
        return raw
    values = [v for v in raw if isinstance(v, str)]
    return values[-1] if values else ""


@dataclass(frozen=True)
class Parsed:
    """The values a link gave (only the keys it had, and could use) and what it could not use."""

    values: dict[str, Any] = field(default_factory=dict)
    ignored: tuple[Ignored, ...] = ()

    def message(self, what: str = "this link") -> str:
        """One sentence naming what was ignored, or "" when nothing was."""
        return ignored_message(self.ignored, what)


def ignored_message(ignored: Sequence[Ignored], what: str = "this link") -> str:
    if not ignored:
        return ""
    parts = [f"'{i.key}' ({i.reason})" for i in ignored[:6]]
    more = f" and {len(ignored) - 6} more" if len(ignored) > 6 else ""
    return f"Part of {what} could not be used and was ignored: {'; '.join(parts)}{more}. The rest is shown."


@dataclass(frozen=True)
class LinkSchema:
    """A page's link state: its fields, in the order they are written."""

    page: str
    fields: tuple[Field, ...]
    title: str = ""  # the page's title, for messages
    shared_keys: frozenset[str] = frozenset()  # keys another layer reads (present, lesson, class, ...)

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @property
    def defaults(self) -> dict[str, Any]:
        return {f.key: f.default for f in self.fields}

    def parse(self, params: Params) -> Parsed:
        """The usable values of `params` and the keys ignored, with why; never raises, bounded work."""
        values: dict[str, Any] = {}
        ignored: list[Ignored] = []
        budget = MAX_QUERY_CHARS
        known = {f.key: f for f in self.fields}
        for n, (raw_key, raw) in enumerate(params.items()):
            key = str(raw_key)[:SHOWN_CHARS]
            if n >= MAX_KEYS:
                ignored.append(Ignored("…", f"the link has more than {MAX_KEYS} keys; the rest were skipped"))
                break
            if key in self.shared_keys:
                continue
            f = known.get(key)
            if f is None:
                ignored.append(Ignored(key, "not a setting of this page"))
                continue
            text = first_value(raw)
            if len(text) > f.max_len:
                ignored.append(Ignored(key, f"too long ({len(text):,} characters; at most {f.max_len:,})"))
                continue
            if len(text) > budget:
                ignored.append(Ignored(key, "the link is too long"))
                continue
            budget -= len(text)
            try:
                values[key] = f.parse(text)
            except ValueError as exc:
                ignored.append(Ignored(key, str(exc)))
        return Parsed(values, tuple(ignored))

    def encode(self, values: Mapping[str, Any]) -> dict[str, str]:
        """The link params for `values` (keys of this schema), in field order, defaults left out."""
        out: dict[str, str] = {}
        for f in self.fields:
            if f.key in values and not same(values[f.key], f.default):
                out[f.key] = f.format(values[f.key])
        return out


def same(a: Any, b: Any) -> bool:
    """a == b for link values: numbers by value (0 == 0.0), arrays never equal to None, no exceptions."""
    if a is b:
        return True
    number = (int, float)
    if (
        isinstance(a, number)
        and isinstance(b, number)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return a == b
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # e.g. arrays: elementwise comparison
        return False


def slug(name: str) -> str:
    """A display name as a link word: "Sobel x" -> "sobel_x", "Gaussian blur 5x5" -> "gaussian_blur_5x5"."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def slug_choices(names: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """(link word, name) pairs for a list of display names; the name itself is accepted too."""
    pairs = [(slug(n), n) for n in names]
    return tuple(pairs + [(n, n) for n in names if slug(n) != n])
