"""Importing a calling list from a CSV or tab-separated file.

The file is streamed and written in batches, each batch in one transaction, so a million rows need
no million-row list in memory and nothing accepted is half-written. A file that cannot be a calling
list at all (empty, binary, not UTF-8, no phone column) is refused before anything is written.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
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
from proactive_sms.services import offload
from proactive_sms.store import calling_lists
from proactive_sms.store.tenancy import BusinessUnit

_UNDECODABLE = re.compile("[\udc80-\udcff]")
KEPT_ERRORS = 1000  # errors kept in memory for the summary; all of them go to --errors FILE
_SNIFF_BYTES = 64 * 1024
PARALLEL_MIN_BYTES = 4 * 1024 * 1024  # about 60,000 rows: ~1.5 s of parsing
_CHUNKS_AHEAD = 2  # chunks parsed or being parsed while one is written: bounds the memory


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
    progress: ProgressCallback | None = None, batch_size: int = 5000, workers: int | None = None,
) -> ImportSummary:
    """Import `path` into the list `list_name` (created if new; known ExternalIds are updated).

    `workers`: 1 parses in a worker process (services.offload) while this one reads and writes,
    0 parses here; None (the default) chooses by size: a worker for files of PARALLEL_MIN_BYTES
    and more, where it saves far more than the few milliseconds it takes to start.
    """
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
            to_rows = calling_lists.RecordRows(conn, stored_list.id)
        if workers is None:
            workers = 1 if total_bytes >= PARALLEL_MIN_BYTES else 0
        tally = _Tally(summary, _ErrorWriter(errors_path, mapping.headers) if errors_path else None)
        try:
            # Chunks of rows are parsed and turned into rows to store (in a worker process for
            # a large file) while this process reads the next chunk and writes the previous one.
            chunks: deque[Chunk] = deque()  # those in flight, as read
            with offload.runner(_ChunkParser(parser, to_rows), in_worker=workers > 0) as work:
                for chunk in _chunks(csv_rows(reader), batch_size):
                    summary.rows_read += len(chunk)
                    work.submit((chunk, clock.now()))
                    chunks.append(chunk)
                    if work.in_flight >= _CHUNKS_AHEAD:
                        _write(engine, tally, chunks.popleft(), work.result())
                        if progress:
                            progress(raw.tell(), total_bytes)
                while work.in_flight:
                    _write(engine, tally, chunks.popleft(), work.result())
        finally:
            tally.close()
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


def _chunks(rows: Iterator[tuple[int, list[str] | None]],
            size: int) -> Iterator[list[tuple[int, list[str] | None]]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


# What a chunk becomes: the rows to store, the ExternalId and line of each, and the errors of
# the bad rows, all in line order.
ParsedChunk = tuple[list, list[str], list[int], list[RowError]]
Chunk = list[tuple[int, list[str] | None]]


class _ChunkParser:
    """Parses a chunk of (line, row) into a ParsedChunk. A pure function of the chunk, so it
    can run in a worker process; what needs the whole file (duplicate ExternalIds) is left to
    `_Tally`, which sees the chunks in order."""

    def __init__(self, parser: RecordParser, to_rows: calling_lists.RecordRows) -> None:
        self._parser = parser
        self._to_rows = to_rows

    def __call__(self, task: tuple[Chunk, datetime]) -> ParsedChunk:
        chunk, now = task
        parser = self._parser
        records: list[ParsedRecord] = []
        errors: list[RowError] = []
        for line, row in chunk:
            result = _parse(parser, line, row)
            if result.__class__ is ParsedRecord:
                records.append(result)  # type: ignore[arg-type]
            else:
                errors.append(result)  # type: ignore[arg-type]
        return (self._to_rows(records, now), [r.external_id for r in records],
                [r.line for r in records], errors)


class _Tally:
    """Takes parsed chunks in file order: rejects repeated ExternalIds (naming the line of the
    first), counts, keeps the first errors, writes --errors FILE."""

    def __init__(self, summary: ImportSummary, error_writer: _ErrorWriter | None) -> None:
        self.summary = summary
        self._error_writer = error_writer
        self._seen_ids: dict[str, int] = {}

    def take(self, chunk: Chunk, parsed: ParsedChunk) -> list:
        """The chunk's rows to store (without repeated ExternalIds); records its errors."""
        rows, external_ids, lines, errors = parsed
        setdefault = self._seen_ids.setdefault
        repeated: list[int] = []
        for i, (external_id, line) in enumerate(zip(external_ids, lines, strict=True)):
            if setdefault(external_id, line) != line:
                repeated.append(i)
        if repeated:
            for i in repeated:
                first = self._seen_ids[external_ids[i]]
                error = RowError(
                    lines[i], RowProblem.DUPLICATE_EXTERNAL_ID,
                    f"duplicate ExternalId '{external_ids[i]}' (first seen on line {first})",
                    "ExternalId",
                )
                errors.append(error)
            errors.sort(key=lambda error: error.line)  # one error per line
            dropped = set(repeated)
            rows = [row for i, row in enumerate(rows) if i not in dropped]
        summary = self.summary
        read = dict(chunk) if errors and self._error_writer else {}
        for error in errors:
            summary.rejected += 1
            summary.rejected_by_problem[error.problem] += 1
            if len(summary.errors) < KEPT_ERRORS:
                summary.errors.append(error)
            if self._error_writer:
                self._error_writer.write(read[error.line], error)
        summary.accepted += len(rows)
        return rows

    def close(self) -> None:
        if self._error_writer:
            self._error_writer.close()


def _write(engine: Engine, tally: _Tally, chunk: Chunk, parsed: ParsedChunk) -> None:
    rows = tally.take(chunk, parsed)
    if rows:
        with engine.begin() as conn:
            calling_lists.write_record_rows(conn, rows)


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
