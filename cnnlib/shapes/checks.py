"""ShapeError and the checks of a layer's numbers: whole, in range, typed sensibly.

`check_int` refuses what torch's layers refuse (bools, floats, strings) and values out of range;
`parse_int` reads a number typed in a text box ("1,000", "2**5", "1e3") with a clear message when
it can't. Every number is capped at MAX_VALUE (100,000): no real layer comes near it, and it keeps
the arithmetic, the pictures and the messages sane when someone types 10^12.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["MAX_VALUE", "ShapeError", "check_int", "parse_int"]


MAX_VALUE = 100_000
"""The largest size, kernel, stride, padding, dilation or channel count accepted."""

PADDING_WORDS = ("same", "valid")

_NAMES = {
    "size": "input size",
    "kernel": "kernel size",
    "stride": "stride",
    "padding": "padding",
    "dilation": "dilation",
    "output_padding": "output padding",
    "channels": "number of channels",
    "in_channels": "input channels",
    "out_channels": "output channels",
}
_MINIMUM = {"size": 1, "kernel": 1, "stride": 1, "padding": 0, "dilation": 1, "output_padding": 0}
_WHY_MINIMUM = {
    "size": "an image needs at least one pixel",
    "kernel": "a window needs at least one pixel",
    "stride": "the window moves forward at least one pixel a step (a stride of 0 would never move it)",
    "dilation": "1 means no gaps between kernel taps",
    "padding": "padding adds pixels, it can't remove them",
    "output_padding": "output padding adds pixels, it can't remove them",
}


class ShapeError(ValueError):
    """A layer's settings that PyTorch would refuse, explained in words.

    field: which setting is at fault ("size", "kernel", "stride", "padding", "dilation",
    "output_padding", "channels", ...) or None; layer_index: the layer in a stack, or None.
    """

    def __init__(self, message: str, field: str | None = None, layer_index: int | None = None):
        super().__init__(message)
        self.field = field
        self.layer_index = layer_index


# ----------------------------------------------------------------------------------------------
# Checking and parsing numbers


def check_int(value: object, field: str, minimum: int | None = None, maximum: int = MAX_VALUE) -> int:
    """Return value as an int if it is a whole number in [minimum, maximum], else raise ShapeError.

    bool, float (even 3.0) and str are refused, as torch's layers refuse them.
    """
    name = _NAMES.get(field, field.replace("_", " "))
    if minimum is None:
        minimum = _MINIMUM.get(field, 1)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ShapeError(f"The {name} must be a whole number, like 3 (got {value!r}).", field)
    v = int(value)
    if v < minimum:
        why = _WHY_MINIMUM.get(field)
        least = "can't be negative" if minimum == 0 else f"must be at least {minimum}"
        raise ShapeError(f"The {name} {least} (got {v}){': ' + why if why else ''}.", field)
    if v > maximum:
        raise ShapeError(
            f"The {name} {v:,} is too large: this calculator accepts values up to {maximum:,}.", field
        )
    return v


_POWER = re.compile(r"^([+-]?\d+)\s*(?:\^|\*\*)\s*(\d+)$")


def parse_int(text: str, field: str, minimum: int | None = None, maximum: int = MAX_VALUE) -> int:
    """Read a whole number typed in a text box; ShapeError with a clear message otherwise.

    Accepts surrounding spaces, "+3", "1_000", "1,000" and powers like "10^12" or "2**5" (which
    are then checked against the range like any number).
    """
    name = _NAMES.get(field, field.replace("_", " "))
    s = str(text).strip().replace(",", "").replace("_", "")
    if not s:
        raise ShapeError(f"Type a whole number for the {name}.", field)
    m = _POWER.match(s)
    try:
        if m and int(m.group(2)) <= 64:
            value = int(m.group(1)) ** int(m.group(2))
        elif m:
            value = 10**100  # far too large either way
        else:
            value = int(s)
    except ValueError:
        try:
            f = float(s)
        except ValueError:
            raise ShapeError(
                f"The {name} must be a whole number, like 3 (got {text.strip()!r}).", field
            ) from None
        if math.isfinite(f) and f == int(f):
            value = int(f)  # "1e12" or "3.0": a whole number written as a decimal
        else:
            raise ShapeError(
                f"The {name} must be a whole number, like 3 (got {text.strip()!r}): pixels come whole.", field
            ) from None
    return check_int(value, field, minimum, maximum)


def as_pair(value: Any, field: str) -> tuple[Any, Any]:
    """An int (or anything) -> (value, value); a 2-sequence -> a tuple; refuse other lengths (each
    half is checked by the caller: Any, not a promise of a type)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ShapeError(
                f"The {_NAMES.get(field, field)} must be one number or a (height, width) pair "
                f"(got {list(value)}).",
                field,
            )
        return value[0], value[1]
    return value, value


def normalize_padding(value: object) -> int | str:
    if isinstance(value, str):
        if value not in PADDING_WORDS:
            raise ShapeError(f'Padding must be a whole number, "same" or "valid" (got {value!r}).', "padding")
        return value
    return check_int(value, "padding")
