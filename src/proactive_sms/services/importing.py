"""Importing a calling list from a CSV file (comma, semicolon, tab or pipe separated).

The file is streamed and written in batches, each batch in one transaction, so a million rows need
no million-row list in memory and nothing accepted is half-written. A file that cannot be a calling
list at all (empty, binary, not readable text anywhere in it, a header the CSV reader cannot read,
no phone column) is refused before anything is written.

Its encoding and delimiter are decided by services.list_files, by a pass over the whole file
before the import starts, rather than by one transaction or by undoing what was written: one
transaction over a million rows would hold SQLite's write lock (and the dispatcher with it) for the
whole import, and undoing an upsert means keeping every record it replaced. The pass is a C-speed
decode of the raw bytes, read in blocks (about 0.1 s per 100 MB, the file then in the page cache
for the import itself), so the offloaded path of large files stays as fast as it was.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

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
from proactive_sms.domain.spreadsheet_cells import csv_writer
from proactive_sms.services import cadences, list_files, offload
from proactive_sms.services.administration import checked_name
from proactive_sms.services.launch_batches import CALM_S, BatchSizes
from proactive_sms.services.list_files import FileFormat, ImportRefused
from proactive_sms.store import calling_lists
from proactive_sms.store.engine import yield_to_writers
from proactive_sms.store.tenancy import BusinessUnit

_UNDECODABLE = re.compile("[\udc80-\udcff]")
KEPT_ERRORS = 1000  # errors kept in memory for the summary; all of them go to --errors FILE
PARALLEL_MIN_BYTES = 4 * 1024 * 1024  # about 60,000 rows: ~1.5 s of parsing
# From this many records written, the database's statistics are brought up to date at the end
# (PostgreSQL: a launch's plan depends on knowing the list is large; store.calling_lists._in_list)
ANALYZE_MIN_RECORDS = 10_000
# The most rows one transaction writes on SQLite (see _Writer): measured at 1,000,000 rows,
# writing them 5,000 to a transaction took 19.7 s of CPU, 20,000 15.2 s, 50,000 13.8 s.
WRITE_ROWS = 50_000

def check_list_name(name: str) -> None:
    """A list's name is typed in URLs and menus (domain.names, as every name)."""
    checked_name("calling list", name)


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
    # records that joined the cadence of a running agent skill of the list, by skill name
    joined_cadences: dict[str, int] = field(default_factory=dict)
    file_format: FileFormat | None = None  # the encoding and delimiter the file was read with


ProgressCallback = Callable[[int, int], None]  # (bytes read, total bytes)


def import_calling_list(
    engine: Engine, bu: BusinessUnit, list_name: str, path: Path, clock: Clock,
    overrides: Mapping[str, str] | None = None, errors_path: Path | None = None,
    progress: ProgressCallback | None = None, batch_size: int = 5000, workers: int | None = None,
    encoding: str | None = None, delimiter: str | None = None,
) -> ImportSummary:
    """Import `path` into the list `list_name` (created if new; known ExternalIds are updated).

    `encoding` (a codec from list_files.parse_encoding) and `delimiter` (from
    list_files.parse_delimiter) override their detection.

    `workers`: 1 parses in a worker process (services.offload) while this one reads and writes,
    0 parses here; None (the default) chooses by size: a worker for files of PARALLEL_MIN_BYTES
    and more, where it saves far more than the few milliseconds it takes to start.
    """
    check_list_name(list_name)
    raw = path.open("rb")
    try:
        total_bytes = path.stat().st_size
        file_format = list_files.file_format(raw, str(path), encoding, delimiter)
        delimiter = file_format.delimiter
        reader = _ChunkReader(file_format.text(raw), delimiter)
        try:
            headers = header_cells(reader.header())
        except StopIteration as exc:
            raise ImportRefused(f"{path}: the file is empty") from exc
        except csv.Error as exc:  # a header over the csv module's field limit, say
            raise ImportRefused(f"{path}: line 1 (the header) cannot be read as CSV: {exc}; "
                                "the first line must name the columns") from exc
        try:
            mapping = map_columns(headers, overrides)
        except MappingError as exc:
            raise ImportRefused(f"{path}: {exc}") from exc

        summary = ImportSummary(list_name=list_name,
                                columns=dict(zip(mapping.headers, mapping.fields, strict=True)),
                                file_format=file_format)
        parser = RecordParser(mapping, bu.default_region, phone.normalize)
        with engine.begin() as conn:
            stored_list = calling_lists.ensure_list(conn, bu.id, list_name, mapping.field_names,
                                                    clock.now())
            to_rows = calling_lists.RecordRows(conn, stored_list.id)
        if workers is None:
            workers = 1 if total_bytes >= PARALLEL_MIN_BYTES else 0
        tally = _Tally(summary, _ErrorWriter(errors_path, mapping.headers) if errors_path else None,
                       delimiter)
        try:
            # Chunks of rows are parsed and turned into rows to store (in a worker process for
            # a large file) while this process reads the next chunk and writes the previous one.
            chunks: deque[Chunk] = deque()  # those in flight, as read
            parse = _ChunkParser(parser, to_rows, delimiter)
            with offload.runner(parse, workers) as work, \
                    _Writer(engine, batch_size) as writer:
                for chunk in reader.chunks(batch_size, keep_rows=not work.alive):
                    summary.rows_read += chunk.rows
                    work.submit((chunk, clock.now()))
                    chunks.append(chunk)
                    # The worker has a chunk in hand and one ahead: enough to keep it busy,
                    # few enough to bound the memory.
                    if work.in_flight >= 2:
                        writer.write(tally.take(chunks.popleft(), work.result()))
                        if progress:
                            progress(raw.tell(), total_bytes)
                while work.in_flight:
                    writer.write(tally.take(chunks.popleft(), work.result()))
        finally:
            tally.close()
        if progress:
            progress(total_bytes, total_bytes)
        if summary.accepted >= ANALYZE_MIN_RECORDS:
            with engine.begin() as conn:
                calling_lists.analyze_records(conn)
        with engine.connect() as conn:
            summary.records_in_list = calling_lists.count_records(conn, stored_list.id)
        # An agent skill already working this list takes the new records into its cadence.
        summary.joined_cadences = cadences.join_new_records(engine, stored_list.id, clock)
        return summary
    finally:
        raw.close()


def header_cells(row: list[str]) -> list[str]:
    """The header's column names as the mapping reads them: trimmed, and without the BOM a file
    read with a BOM-less codec it did not name (UTF-16 LE given for a file with a BOM) keeps."""
    cells = [cell.strip() for cell in row]
    if cells:
        cells[0] = cells[0].lstrip("\ufeff").strip()
    return cells


def csv_rows(reader, offset: int = 0) -> Iterator[tuple[int, list[str] | None]]:
    """Each row with the line it starts on; None for a row the CSV reader cannot read.

    `offset`: how many lines of the file came before the text the reader reads."""
    while True:
        start = offset + reader.line_num + 1
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


class Chunk(NamedTuple):
    """Consecutive rows of the file, as its text: what a csv reader read for them."""

    first_line: int  # the line of the file the text starts on
    text: str
    rows: int  # how many rows (not counting blank lines)
    parsed: list[tuple[int, list[str] | None]] | None  # the rows, when kept (no worker)

    def read(self, delimiter: str) -> Iterable[tuple[int, list[str] | None]]:
        """csv_rows of the chunk: the same rows, with the same lines, as in the whole file."""
        if self.parsed is not None:
            return self.parsed
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=delimiter)
        return csv_rows(reader, self.first_line - 1)


class _ChunkReader:
    """Reads the file a chunk of rows at a time, and keeps the text of each chunk.

    A worker process is sent the text, not the rows: one string pickles and unpickles far
    faster than a list of lists of small strings (that took ~5 us a row in the worker). This
    process still parses the CSV, so that a chunk always ends where a row ends (a quoted
    field can span lines), and the worker parses that text again from the same state (the
    start of a row), so it reads the same rows.
    """

    def __init__(self, text: io.TextIOWrapper, delimiter: str) -> None:
        self._lines: list[str] = []
        self._reader = csv.reader(self._tap(text), delimiter=delimiter)

    def _tap(self, text: io.TextIOWrapper) -> Iterator[str]:
        lines = self._lines
        for line in text:
            lines.append(line)
            yield line

    def header(self) -> list[str]:
        row = next(self._reader)
        self._lines.clear()
        return row

    def chunks(self, size: int, keep_rows: bool) -> Iterator[Chunk]:
        """Chunks of `size` rows; with their rows parsed when `keep_rows` (when the chunks are
        parsed in this process: no need to parse their text again)."""
        rows = csv_rows(self._reader)
        while True:
            first_line = self._reader.line_num + 1
            if keep_rows:
                parsed: list | None = list(itertools.islice(rows, size))
                count = len(parsed)  # type: ignore[arg-type]
            else:
                parsed, count = None, sum(1 for _ in itertools.islice(rows, size))
            if not count:
                return
            text = "".join(self._lines)
            self._lines.clear()
            yield Chunk(first_line, text, count, parsed)


def parse_row(parser: RecordParser, line: int, row: list[str] | None) -> ParsedRecord | RowError:
    """One row of the file as the import reads it: a record, or why it is rejected."""
    if row is None:
        return RowError(line, RowProblem.BAD_VALUE, "malformed CSV (an unclosed quote?)")
    # A byte that is not UTF-8 reaches us as a lone surrogate (errors="surrogateescape"); an
    # ASCII row cannot hold one, and that flag costs nothing to read.
    joined = "".join(row)
    if not joined.isascii() and _UNDECODABLE.search(joined):
        return RowError(line, RowProblem.BAD_VALUE, "the line is not text in the file's encoding")
    return parser.parse(line, row)


# What a chunk becomes: the rows to store, the ExternalId and line of each, and the errors of
# the bad rows with the row as read (for --errors FILE), all in line order.
ParsedChunk = tuple[list, list[str], list[int], list[tuple[RowError, list[str] | None]]]


class _ChunkParser:
    """Parses a Chunk into a ParsedChunk. A pure function of the chunk, so it can run in a
    worker process; what needs the whole file (duplicate ExternalIds) is left to `_Tally`,
    which sees the chunks in order."""

    def __init__(self, parser: RecordParser, to_rows: calling_lists.RecordRows,
                 delimiter: str) -> None:
        self._parser = parser
        self._to_rows = to_rows
        self._delimiter = delimiter

    def __call__(self, task: tuple[Chunk, datetime]) -> ParsedChunk:
        chunk, now = task
        parser = self._parser
        records: list[ParsedRecord] = []
        errors: list[tuple[RowError, list[str] | None]] = []
        for line, row in chunk.read(self._delimiter):
            result = parse_row(parser, line, row)
            if result.__class__ is ParsedRecord:
                records.append(result)  # type: ignore[arg-type]
            else:
                errors.append((result, row))  # type: ignore[arg-type]
        return (self._to_rows(records, now), [r.external_id for r in records],
                [r.line for r in records], errors)


class _Tally:
    """Takes parsed chunks in file order: rejects repeated ExternalIds (naming the line of the
    first), counts, keeps the first errors, writes --errors FILE."""

    def __init__(self, summary: ImportSummary, error_writer: _ErrorWriter | None,
                 delimiter: str) -> None:
        self.summary = summary
        self._error_writer = error_writer
        self._delimiter = delimiter
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
            read = dict(chunk.read(self._delimiter)) if self._error_writer else {}
            for i in repeated:
                first = self._seen_ids[external_ids[i]]
                error = RowError(
                    lines[i], RowProblem.DUPLICATE_EXTERNAL_ID,
                    f"duplicate ExternalId '{external_ids[i]}' (first seen on line {first})",
                    "ExternalId",
                )
                errors.append((error, read.get(lines[i])))
            errors.sort(key=lambda pair: pair[0].line)  # one error per line
            dropped = set(repeated)
            rows = [row for i, row in enumerate(rows) if i not in dropped]
        summary = self.summary
        for error, row in errors:
            summary.rejected += 1
            summary.rejected_by_problem[error.problem] += 1
            if len(summary.errors) < KEPT_ERRORS:
                summary.errors.append(error)
            if self._error_writer:
                self._error_writer.write(row, error)
        summary.accepted += len(rows)
        return rows

    def close(self) -> None:
        if self._error_writer:
            self._error_writer.close()


class _Writer:
    """Stores the chunks' rows in file order.

    On PostgreSQL each chunk is a transaction of its own, written in a thread while this process
    reads, tallies and hands out the next ones: the server's work (the upsert, the indexes, the
    foreign key) and ours overlap instead of taking turns. One chunk in flight at a time, so the
    chunks still commit in file order, and a failure is raised here at the next chunk or at the
    end.

    On SQLite (one writer at a time, whose writes hold the GIL) everything runs here, several
    chunks to a transaction when nobody waits for the write lock. Each transaction rewrites
    every page it touched of calling_record's two numbers' indexes, which are written in random
    order: at a million records a 5,000-row transaction touches most of their pages, so fewer,
    larger transactions write far less (WRITE_ROWS). The sizes follow services.launch_batches:
    the first transactions are one chunk each, later ones grow to WRITE_ROWS, and they shrink
    back to about 0.1 s of lock for a while after a writer (a dispatcher's claim) was found
    waiting.
    """

    def __init__(self, engine: Engine, chunk_rows: int) -> None:
        self._engine = engine
        self._thread = (ThreadPoolExecutor(1, "psms-import-write")
                        if engine.dialect.name == "postgresql" else None)
        self._writing: Future | None = None
        self._sizes = BatchSizes(max(chunk_rows, WRITE_ROWS), time.monotonic(),
                                 one_write_lock=True, first=chunk_rows, calm_s=CALM_S)
        self._kept: list = []  # SQLite: rows waiting for a transaction large enough

    def write(self, rows: list) -> None:
        if self._thread is None:
            self._kept += rows
            if len(self._kept) >= self._sizes.size:
                self._store_kept()
            return
        if not rows:
            return
        self.wait()
        self._writing = self._thread.submit(_store, self._engine, rows)

    def _store_kept(self) -> None:
        rows, self._kept = self._kept, []
        if not rows:
            return
        with self._engine.begin() as conn:
            began = time.monotonic()  # the write lock is ours from here to the commit
            calling_lists.write_record_rows(conn, rows)
        held_s = time.monotonic() - began
        waited = yield_to_writers(self._engine) > 0  # a dispatcher's claim goes first
        self._sizes.after(len(rows), held_s, waited, time.monotonic())

    def wait(self) -> None:
        """Until the chunk in flight is stored (raising its error if it failed); on SQLite,
        until the rows kept are stored."""
        if self._thread is None:
            self._store_kept()
        if self._writing is not None:
            done, self._writing = self._writing, None
            done.result()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, exc_type, *_exc: object) -> None:
        try:
            if exc_type is None:
                self.wait()
            elif self._writing is not None:  # leaving on an error: the chunk in flight ends
                futures.wait([self._writing])
        finally:
            if self._thread is not None:
                self._thread.shutdown()


def _store(engine: Engine, rows: list) -> None:
    with engine.begin() as conn:
        calling_lists.write_record_rows(conn, rows)
    yield_to_writers(engine)  # a dispatcher's claim waiting for the lock goes first


class _ErrorWriter:
    """Writes rejected rows, as they were, with their line, field and reason (for --errors FILE
    and the console's download); cells a spreadsheet would run as formulas are neutralized."""

    def __init__(self, path: Path, headers: tuple[str, ...]) -> None:
        self._file = path.open("w", encoding="utf-8", newline="")
        self._writer = csv_writer(self._file)
        self._writer.writerow(["line", "field", "problem", "reason", *headers])

    def write(self, row: list[str] | None, error: RowError) -> None:
        values = [v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                  for v in (row or [])]
        self._writer.writerow([error.line, error.field or "", error.problem.value,
                               error.message, *values])

    def close(self) -> None:
        self._file.close()
