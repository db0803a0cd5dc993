"""Bulk import of numbers onto a DNC list from a CSV file: a number column, an optional note.

Like a calling-list import: the file is streamed and written in batches (each one transaction),
every bad row is reported with its line and reason and the good rows are kept, and a file that
cannot be a list of numbers (empty, binary, not readable text (services.list_files), no
number column) is refused before
anything is written.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from proactive_sms.domain import phone
from proactive_sms.domain.clock import Clock
from proactive_sms.services import list_files
from proactive_sms.services.administration import checked_name
from proactive_sms.services.importing import KEPT_ERRORS, ImportRefused, csv_rows
from proactive_sms.store import dnc
from proactive_sms.store.tenancy import BusinessUnit

# Header names (blind to case, spaces, '_' and '-') of the number and the note columns.
NUMBER_HEADERS = ("number", "phone", "phonenumber", "mobile", "cell", "cellphone",
                  "smsphonenumber", "msisdn", "e164", "telephone")
NOTE_HEADERS = ("note", "notes", "comment", "reason")


@dataclass(frozen=True)
class DncRowError:
    line: int  # 1-based line in the file
    field: str  # the column the problem is in
    reason: str


@dataclass
class DncImportSummary:
    list_name: str
    rows_read: int = 0
    added: int = 0  # new on the list
    already_listed: int = 0  # valid, but on the list already (or twice in the file)
    rejected: int = 0
    errors: list[DncRowError] = field(default_factory=list)  # the first KEPT_ERRORS


def _key(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch.isalnum())


@dataclass(frozen=True)
class _Columns:
    number: int
    note: int | None
    has_header: bool


def _columns(first_row: list[str], region: str, name: str) -> _Columns:
    keys = [_key(h) for h in first_row]
    number = next((i for i, k in enumerate(keys) if k in NUMBER_HEADERS), None)
    if number is not None:
        note = next((i for i, k in enumerate(keys) if k in NOTE_HEADERS), None)
        return _Columns(number, note, has_header=True)
    if first_row and phone.normalize(first_row[0], region).e164:
        return _Columns(0, None, has_header=False)  # a bare list of numbers, no header
    raise ImportRefused(f"{name}: no number column; name one 'number' or 'phone' (the header "
                        f"has: {', '.join(first_row) or 'nothing'})")


def import_numbers(engine: Engine, bu: BusinessUnit, clock: Clock, path: Path,
                   list_name: str | None = None, file_name: str | None = None,
                   batch_size: int = 5000,
                   on_error: Callable[[DncRowError], None] | None = None) -> DncImportSummary:
    """Add the file's numbers to a DNC group (created if missing) or the tenant default list
    (no name, or 'default'). `file_name` is how errors name the file; `on_error` sees every
    rejected line (the summary keeps the first KEPT_ERRORS)."""
    name = file_name or path.name
    if list_name and list_name != "default":
        checked_name("DNC group", list_name)
    with path.open("rb") as raw:
        # Decided over the whole file: refused whole, as a calling list is.
        file_format = list_files.file_format(raw, name)
        rows = csv_rows(csv.reader(file_format.text(raw), delimiter=file_format.delimiter))
        first = next(rows, None)
        if first is None or first[1] is None:
            raise ImportRefused(f"{name}: the first line is not readable CSV")
        columns = _columns(first[1], bu.default_region, name)
        with engine.begin() as conn:
            target = _target(conn, bu, list_name, clock)
        summary = DncImportSummary(target.name)
        batch: list[tuple[str, str]] = []
        pending = [] if columns.has_header else [first]
        for line, row in _chain(pending, rows):
            summary.rows_read += 1
            parsed = _parse(line, row, columns, bu.default_region, f"imported from {name}")
            if isinstance(parsed, DncRowError):
                summary.rejected += 1
                if len(summary.errors) < KEPT_ERRORS:
                    summary.errors.append(parsed)
                if on_error:
                    on_error(parsed)
                continue
            batch.append(parsed)
            if len(batch) >= batch_size:
                _write(engine, target.id, batch, clock, summary)
                batch = []
        _write(engine, target.id, batch, clock, summary)
    return summary


def _target(conn, bu: BusinessUnit, list_name: str | None, clock: Clock) -> dnc.DncList:
    if not list_name:
        return dnc.find_list(conn, bu.tenant_id)
    try:
        return dnc.find_list(conn, bu.tenant_id, list_name)
    except LookupError:
        return dnc.ensure_group(conn, bu.tenant_id, list_name, clock.now())


def _chain(first, rest):
    yield from first
    yield from rest


def _parse(line: int, row: list[str] | None, columns: _Columns, region: str,
           default_note: str) -> tuple[str, str] | DncRowError:
    if row is None:
        return DncRowError(line, "row", "malformed CSV (an unclosed quote?)")
    if any("\udc80" <= ch <= "\udcff" for value in row for ch in value):
        return DncRowError(line, "row", "the line is not valid UTF-8 text")
    raw = row[columns.number] if columns.number < len(row) else ""
    result = phone.normalize(raw, region)
    if result.e164 is None:  # the detail quotes the value and says what is wrong with it
        return DncRowError(line, "number", result.detail)
    note = (row[columns.note].strip() if columns.note is not None and columns.note < len(row)
            else "")
    return result.e164, note or default_note


def _write(engine: Engine, list_id: int, batch: list[tuple[str, str]], clock: Clock,
           summary: DncImportSummary) -> None:
    if not batch:
        return
    with engine.begin() as conn:
        added = dnc.add_entries(conn, list_id, batch, "import", clock.now())
    summary.added += added
    summary.already_listed += len(batch) - added
