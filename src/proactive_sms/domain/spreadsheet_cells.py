"""Every CSV we write is opened in a spreadsheet sooner or later: a cell must not become a formula.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some spreadsheets
skip before reading one of those) is a formula to Excel, LibreOffice and Google Sheets: a DNC note
or a rejected row typed by anyone can then run `=HYPERLINK(...)`, `=WEBSERVICE(...)` or DDE when a
supervisor opens the file. So such a cell gets a leading apostrophe (`'=1+2`): shown as text,
never evaluated (OWASP's "CSV injection" advice).

One exception keeps our own data usable: a cell that is only a number — digits with an optional
leading sign and decimals, such as an E.164 phone number `+15551234567` or an amount `-12.50` —
is left as it is. A spreadsheet reads it as a number, and a number calls nothing; phone numbers
in our exports are E.164, validated digits, so they always take this path and stay searchable
and joinable as written.

Every CSV writer of the project (rejected rows, DNC exports, reports, error files) is made by
`csv_writer` here, in the CLI, the API and the services alike.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def neutral(value: Any) -> Any:
    """`value`, or for a text a spreadsheet would read as a formula, the text behind an `'`."""
    if (isinstance(value, str) and value.startswith(_FORMULA_STARTS)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


class _NeutralWriter:
    """csv.writer's writerow/writerows, each cell passed through `neutral`."""

    def __init__(self, writer) -> None:
        self._writer = writer

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutral(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(file, **options: Any) -> _NeutralWriter:
    """A csv.writer on `file` (any object with write) whose cells cannot become formulas."""
    return _NeutralWriter(csv.writer(file, **options))
