"""Cells of the CSV files we hand to people, made safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return, which some
programs skip before looking) as a formula: a customer's name of `=HYPERLINK(...)` in a list of
rejected rows would run on the supervisor's machine (CSV injection). A leading apostrophe makes
the spreadsheet show the text as it is; the apostrophe itself is not shown.
"""

from __future__ import annotations

from collections.abc import Iterable

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: object) -> str:
    """The cell as text, with a leading apostrophe when a spreadsheet would run it."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def neutral_row(cells: Iterable[object]) -> list[str]:
    return [neutral(cell) for cell in cells]
