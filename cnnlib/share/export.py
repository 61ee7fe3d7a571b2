"""Text that leaves the app for a spreadsheet: cells that a spreadsheet would run as formulas.

The class board's table can be downloaded as CSV (Streamlit's table toolbar), and a nickname or a
model name is typed by a student: `=HYPERLINK("http://...","click")` would open in Excel or
LibreOffice as a live formula (CSV injection). `spreadsheet_safe` puts an apostrophe before a cell
that starts with = + - @, a tab or a carriage return (OWASP's rule), so it is read as text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["spreadsheet_safe"]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """`value` with a leading apostrophe when it is text a spreadsheet would read as a formula.

    Numbers and None pass through unchanged (a negative number is a number, not a formula).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
