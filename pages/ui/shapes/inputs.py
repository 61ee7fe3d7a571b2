"""Shape calculator UI pieces: whole-number text fields with their message beside them.

Text boxes (not number inputs) so that a student can type anything, "3.5", "abc" or "10^12"
included, and get a message that says what is wrong right under the field. Fields set side by
side share one message slot under their row, as wide as the row, so a long message stays readable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from cnnlib.shapes import ShapeError, parse_int


class Slots:
    """Message slots under fields, by field name, so a later check can put its message there."""

    def __init__(self) -> None:
        self._slots: dict[str, list] = {}
        self.bad = False  # some field could not be read

    def add(self, field: str, slot) -> None:
        self._slots.setdefault(field, []).append(slot)

    def show(self, err: ShapeError) -> bool:
        """Put err's message beside its field; False if the field has no slot here."""
        slots = self._slots.get(err.field or "")
        if not slots:
            return False
        slots[0].error(str(err), icon=":material/warning:")
        return True


def int_field(
    label: str,
    key: str,
    default: int | str,
    field: str,
    slots: Slots,
    minimum: int | None = None,
    help: str | None = None,
    allow_blank: bool = False,
    placeholder: str | None = None,
    slot=None,
    prefix: str = "",
) -> int | None:
    """A text box read as a whole number; a clear message under it (and None) if it isn't one.

    slot: where the message goes (a container under the field's row); by default right under it.
    """
    st.session_state.setdefault(key, str(default))
    text = st.text_input(label, key=key, help=help, placeholder=placeholder)
    slot = st.container() if slot is None else slot
    slots.add(field, slot)
    if allow_blank and not text.strip():
        return None
    try:
        return parse_int(text, field, minimum)
    except ShapeError as e:
        slot.error(f"{prefix}{e}", icon=":material/warning:")
        slots.bad = True
        return None


def pair_field(
    label: str,
    key: str,
    default: int | str,
    field: str,
    slots: Slots,
    square: bool,
    minimum: int | None = None,
    help: str | None = None,
    allow_blank: bool = False,
    placeholder: str | None = None,
    slot=None,
) -> tuple[int | None, int | None]:
    """One field when square, else a height and a width field side by side (one slot under both)."""
    field_box = functools.partial(
        int_field, minimum=minimum, help=help, allow_blank=allow_blank, placeholder=placeholder
    )
    if square:
        v = field_box(label, f"{key}_h", default, field, slots, slot=slot)
        return v, v
    st.session_state.setdefault(f"{key}_w", st.session_state.get(f"{key}_h", str(default)))
    left, right = st.columns(2)
    row_slot = st.container()
    with left:
        h = field_box(
            f"{label} (height)", f"{key}_h", default, field, slots, slot=row_slot, prefix="Height: "
        )
    with right:
        w = field_box(f"{label} (width)", f"{key}_w", default, field, slots, slot=row_slot, prefix="Width: ")
    return h, w


class FieldRows:
    """Lay fields out `per_row` side by side; each row gets one message slot under it, full width."""

    def __init__(self, per_row: int = 2, widths: list[int] | None = None) -> None:
        self.per_row = per_row
        self.widths = widths  # the columns' relative widths (default: equal)
        self._free: list = []
        self.slot = None

    def cell(self):
        """The next free place in the row (a new row, with its message slot, when it is full).

        A row is `per_row` columns: unlike a horizontal container's, its fields never wrap to a
        second line in a narrow column (the settings sit beside the picture, one screen, issue 25)."""
        if not self._free:
            self._free = list(
                st.columns(self.widths or self.per_row, gap="small", vertical_alignment="bottom")
            )
            self.slot = st.container()
        return self._free.pop(0)

    def new_row(self) -> None:
        self._free = []


def stepper(n: int, key: str, label: str) -> int:
    """A slider with previous / next buttons over 1..n; returns the 0-based position."""
    if n <= 1:
        return 0
    st.session_state.setdefault(key, 1)
    st.session_state[key] = max(1, min(int(st.session_state[key]), n))

    def move(delta: int) -> Callable[[], None]:
        def go() -> None:
            st.session_state[key] = max(1, min(int(st.session_state[key]) + delta, n))

        return go

    row = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")  # one block, not four
    row.button(
        "", icon=":material/chevron_left:", key=f"{key}_prev", on_click=move(-1), help="Previous position"
    )
    row.slider(label, 1, n, key=key)
    row.button("", icon=":material/chevron_right:", key=f"{key}_next", on_click=move(1), help="Next position")
    return int(st.session_state[key]) - 1
