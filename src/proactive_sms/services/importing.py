"""Importing a calling list from a CSV or tab-separated file.

The file is streamed and written in batches, each batch in one transaction, so a million rows need
no million-row list in memory and nothing accepted is half-written. A file that cannot be a calling
list at all (empty, binary, not UTF-8, no phone column) is refused before anything is written.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from proactive_sms.domain import phone
from proactive_sms.domain.calling_list_fields import MappingError, map_columns
from proactive_sms.domain.calling_record import (
    ParsedRecord,
    RecordParser,
    RowError,
    RowProblem,
)
from proactive_sms.domain.clock import Clock
from proactive_sms.store import calling_lists
from proactive_sms.store.tenancy import BusinessUnit

_UNDECODABLE = re.compile("[\udc80-\udcff]")
KEPT_ERRORS = 1000  # errors kept in memory for the summary; all of them go to --errors FILE
_SNIFF_BYTES = 64 * 1024


class ImportRefused(ValueError):
    """The file cannot be a calling list; nothing was written."""


@dataclass
class ImportSummary:
    list_name: str
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first KEPT_ERRORS
    rejected_by_problem: Counter = field(default_factory=Counter)
    records_in_list: int = 0
    columns: dict[str, str | None] = field(default_factory=dict)  # header -> field


ProgressCallback = Callable[[int, int], None]  # (bytes read, total bytes)


def import_calling_list(
    engine: Engine, bu: BusinessUnit, list_name: str, path: Path, clock: Clock,
    overrides: Mapping[str, str] | None = None, errors_path: Path | None = None,
    progress: ProgressCallback | None = None, batch_size: int = 5000,
) -> ImportSummary:
    raw = path.open("rb")
    try:
        total_bytes = path.stat().st_size
        delimiter = check_file(raw, path)
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        try:
            headers = next(reader)
        except StopIteration as exc:
            raise ImportRefused(f"{path}: the file is empty") from exc
        try:
            mapping = map_columns([h.strip() for h in headers], overrides)
        except MappingError as exc:
            raise ImportRefused(f"{path}: {exc}") from exc

        summary = ImportSummary(list_name=list_name,
                                columns=dict(zip(mapping.headers, mapping.fields, strict=True)))
        parser = RecordParser(mapping, bu.default_region, phone.normalize)
        with engine.begin() as conn:
            stored_list = calling_lists.ensure_list(conn, bu.id, list_name, mapping.field_names,
                                                    clock.now())
        error_writer = _ErrorWriter(errors_path, mapping.headers) if errors_path else None
        seen_ids: dict[str, int] = {}
        batch: list[ParsedRecord] = []
        try:
            for line, row in csv_rows(reader):
                summary.rows_read += 1
                result = _parse(parser, line, row)
                if isinstance(result, ParsedRecord):
                    first = seen_ids.setdefault(result.external_id, line)
                    if first != line:
                        result = RowError(
                            line, RowProblem.DUPLICATE_EXTERNAL_ID,
                            f"duplicate ExternalId '{result.external_id}' "
                            f"(first seen on line {first})", "ExternalId",
                        )
                if isinstance(result, RowError):
                    summary.rejected += 1
                    summary.rejected_by_problem[result.problem] += 1
                    if len(summary.errors) < KEPT_ERRORS:
                        summary.errors.append(result)
                    if error_writer:
                        error_writer.write(row, result)
                    continue
                summary.accepted += 1
                batch.append(result)
                if len(batch) >= batch_size:
                    _write(engine, stored_list.id, batch, clock)
                    batch = []
                    if progress:
                        progress(raw.tell(), total_bytes)
            _write(engine, stored_list.id, batch, clock)
        finally:
            if error_writer:
                error_writer.close()
        if progress:
            progress(total_bytes, total_bytes)
        with engine.connect() as conn:
            summary.records_in_list = calling_lists.count_records(conn, stored_list.id)
        return summary
    finally:
        raw.close()


def check_file(raw, path: Path) -> str:
    """Refuse what cannot be a calling list; return the delimiter of the header line."""
    head = raw.read(_SNIFF_BYTES)
    raw.seek(0)
    if not head.strip():
        raise ImportRefused(f"{path}: the file is empty")
    if b"\x00" in head:
        raise ImportRefused(f"{path}: this is a binary file, not a CSV or tab-separated list")
    first_line = head.split(b"\n", 1)[0]
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A character cut by the end of the sniffed block is not an error of the file.
        cut_at_end = len(head) == _SNIFF_BYTES and exc.start >= len(head) - 3
        if not cut_at_end:
            raise ImportRefused(
                f"{path}: not UTF-8 text (byte 0x{head[exc.start]:02x} at offset {exc.start}); "
                "save the file as UTF-8"
            ) from exc
    return "\t" if first_line.count(b"\t") > first_line.count(b",") else ","


def csv_rows(reader) -> Iterator[tuple[int, list[str] | None]]:
    """Each row with the line it starts on; None for a row the CSV reader cannot read."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start, None
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        yield start, row


def _parse(parser: RecordParser, line: int, row: list[str] | None) -> ParsedRecord | RowError:
    if row is None:
        return RowError(line, RowProblem.BAD_VALUE, "malformed CSV (an unclosed quote?)")
    # A byte that is not UTF-8 reaches us as a lone surrogate (errors="surrogateescape"); an
    # ASCII row cannot hold one, and that flag costs nothing to read.
    joined = "".join(row)
    if not joined.isascii() and _UNDECODABLE.search(joined):
        return RowError(line, RowProblem.BAD_VALUE, "the line is not valid UTF-8 text")
    return parser.parse(line, row)


def _write(engine: Engine, list_id: int, batch: list[ParsedRecord], clock: Clock) -> None:
    if batch:
        with engine.begin() as conn:
            calling_lists.upsert_records(conn, list_id, batch, clock.now())


class _ErrorWriter:
    """Writes rejected rows, as they were, with their line and reason (for --errors FILE)."""

    def __init__(self, path: Path, headers: tuple[str, ...]) -> None:
        self._file = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(["line", "problem", "reason", *headers])

    def write(self, row: list[str] | None, error: RowError) -> None:
        values = [v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                  for v in (row or [])]
        self._writer.writerow([error.line, error.problem.value, error.message, *values])

    def close(self) -> None:
        self._file.close()
