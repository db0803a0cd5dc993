"""What an import of a calling-list file would make of it, before anything is written: each
column's field (guessed, or as overridden), and the first rows read exactly as the import reads
them (numbers in E.164, where a text would go, or why the row would be rejected).

The same checks, mapping and row parser as services.importing, so the preview cannot promise
what the import then refuses.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from proactive_sms.domain import calling_list_fields as f
from proactive_sms.domain import phone
from proactive_sms.domain.calling_list_fields import ColumnMapping, MappingError, map_columns
from proactive_sms.domain.calling_record import ParsedRecord, RecordParser, RowError, RowProblem
from proactive_sms.services import list_files
from proactive_sms.services.importing import csv_rows, header_cells, parse_row
from proactive_sms.services.list_files import FileFormat, ImportRefused

PREVIEW_ROWS = 10


@dataclass(frozen=True)
class PreviewRow:
    line: int  # in the file (the header is line 1)
    values: dict[str, str]  # field -> value as stored (numbers in E.164)
    sms_destination: str | None  # where a text would go
    sms_problem: str | None  # why a text could not go (the row is still kept)
    error: RowError | None  # the row would be rejected, and why


@dataclass(frozen=True)
class FilePreview:
    headers: tuple[str, ...]
    file_format: FileFormat  # the encoding and delimiter the import will read it with
    guessed: tuple[str, ...]  # the field each column fills by its name alone
    mapping: ColumnMapping | None  # None when the mapping cannot be used
    mapping_error: str | None  # why (names the column or field)
    rows: list[PreviewRow]

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields the rows fill, in column order."""
        return self.mapping.field_names if self.mapping else ()


def preview_file(path: Path, region: str, overrides: Mapping[str, str] | None = None,
                 rows: int = PREVIEW_ROWS, name: str | None = None,
                 encoding: str | None = None, delimiter: str | None = None,
                 whole_file: bool = True) -> FilePreview:
    """The preview of `path` with these overrides (column -> field, '-' ignores a column).

    `encoding` and `delimiter` as for importing.import_calling_list; `whole_file=False` trusts
    them (or the first bytes) without reading the whole file again (a preview of an upload
    whose format was decided when it came).
    ImportRefused for a file that is no calling list at all (naming it `name`, or its path)."""
    with path.open("rb") as raw:
        return preview_stream(raw, name or str(path), region, overrides, rows, encoding,
                              delimiter, whole_file)


def preview_stream(raw: BinaryIO, shown: str, region: str,
                   overrides: Mapping[str, str] | None = None, rows: int = PREVIEW_ROWS,
                   encoding: str | None = None, delimiter: str | None = None,
                   whole_file: bool = True) -> FilePreview:
    """As preview_file, of a seekable binary file open at its start (a console upload read from
    the database), named `shown` in errors."""
    file_format = list_files.file_format(raw, shown, encoding, delimiter, whole_file)
    reader = csv.reader(file_format.text(raw), delimiter=file_format.delimiter)
    try:
        headers = header_cells(next(reader))
    except StopIteration as exc:
        raise ImportRefused(f"{shown}: the file is empty") from exc
    except csv.Error as exc:
        raise ImportRefused(f"{shown}: the header line cannot be read: {exc}") from exc
    guessed = tuple(f.auto_field(h) for h in headers)
    try:
        mapping = map_columns(headers, overrides)
    except MappingError as exc:
        return FilePreview(tuple(headers), file_format, guessed, None, str(exc), [])
    parser = RecordParser(mapping, region, phone.normalize)
    seen: dict[str, int] = {}
    found = [_row(parse_row(parser, line, row), seen)
             for line, row in itertools.islice(csv_rows(reader), rows)]
    return FilePreview(tuple(headers), file_format, guessed, mapping, None, found)


def _row(result: ParsedRecord | RowError, seen: dict[str, int]) -> PreviewRow:
    if isinstance(result, RowError):
        return PreviewRow(result.line, {}, None, None, result)
    first = seen.setdefault(result.external_id, result.line)
    if first != result.line:  # as the import does across the whole file
        return PreviewRow(result.line, {}, None, None, RowError(
            result.line, RowProblem.DUPLICATE_EXTERNAL_ID,
            f"duplicate ExternalId '{result.external_id}' (first seen on line {first})",
            f.EXTERNAL_ID))
    values = dict(result.fields)
    if result.phone:
        values[f.PHONE] = result.phone
    if f.SMS_PHONE in values and result.sms_destination:
        values[f.SMS_PHONE] = result.sms_destination
    return PreviewRow(result.line, values, result.sms_destination,
                      result.sms_problem.value if result.sms_problem else None, None)
