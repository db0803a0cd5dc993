"""Property: whatever file is imported, the importer refuses it whole (ImportRefused) or reads it
through, and then every row is either imported or reported with its line and a reason, and the
counts add up. Generated files, the real importer, the real database."""

from __future__ import annotations

import csv
import io
import itertools
import re

from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from proactive_sms.domain.calling_record import RowProblem
from proactive_sms.services.importing import ImportRefused, import_calling_list
from proactive_sms.store import calling_lists

_COLUMNS = [
    "PhoneNumber", "SMSPhoneNumber", "ExternalId", "FirstName", "IsCellPhone", "ExpirationDate",
    "TimeZone", "PostalCode", "Notes", "phone", "cell",
]
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_VALUES = st.one_of(
    st.sampled_from([
        "2125550123", "+12125550199", "(212) 555-0100", "212-555-01", "+44 20 7946 0958", "0",
        "yes", "no", "maybe", "2026-02-30", "2026-03-04", "03/04/2026", "America/New_York",
        "", " ", "=cmd()", '"', "a,b", "line\nbreak", "ü", "\u202e", "E1", "E2", "E1",
    ]),
    _TEXT,
)
_row = st.lists(_VALUES, min_size=0, max_size=8)
_names = itertools.count()


def _csv_text(header: list[str], rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")  # quotes any \r or \n
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _counted(row: list[str]) -> bool:
    """Whether the importer reads the written row as a row (blank lines are skipped)."""
    return bool(row) and not (len(row) == 1 and not row[0].strip())


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    header=st.lists(st.one_of(st.sampled_from(_COLUMNS), _TEXT), min_size=1, max_size=6),
    rows=st.lists(_row, max_size=25),
    delimiter=st.sampled_from([",", "\t", ";", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    tail=st.sampled_from([b"", b"\n", b"\xff\xfe bad bytes\n", b'"unclosed,quote\n', b"\r\n",
                          b"\x81 no text anywhere\n"]),
)
@example(header=["PhoneNumber", "x" * 140_000], rows=[["2125550123", "a"]], delimiter=",",
         encoding="utf-8", tail=b"")  # a header cell over the csv field limit: refused, no crash
@example(header=["PhoneNumber", "Notes"], rows=[["2125550123", "y" * 140_000], ["2125550124", "b"]],
         delimiter=",", encoding="utf-8", tail=b"")
def test_every_row_is_imported_or_reported_with_its_line_and_the_counts_add_up(
    engine, bu, clock, tmp_path, header, rows, delimiter, encoding, tail
) -> None:
    name = f"fuzz{next(_names)}"
    path = tmp_path / f"{name}.csv"
    text = _csv_text(header, rows, delimiter)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:  # a character Windows-1252 has not: the file is UTF-8
        encoding, data = "utf-8", text.encode("utf-8")
    if encoding == "utf-16":  # bytes appended to UTF-16 text are a broken character, or a NUL
        tail = tail if tail in (b"", b"\n") else b""
        tail = tail.decode().encode("utf-16-le")
    data += tail
    path.write_bytes(data)
    note(repr(data))
    try:
        summary = import_calling_list(engine, bu, name, path, clock)
    except ImportRefused as refused:
        assert str(path) in str(refused)  # says which file, and (in the rest) why
        return
    # Lines as the importer numbers them: split at \n, \r\n or a lone \r.
    read = data.decode(summary.file_format.codec, errors="replace")
    physical_lines = len(re.split(r"\r\n|\r|\n", read.rstrip("\r\n")))
    assert summary.accepted + summary.rejected == summary.rows_read
    # Where the delimiter is detected right, the count is exact. It cannot be when the header
    # has one column (the importer reads commas, and a tab row with a quoted line break is then
    # two rows), nor when a header cell holds another delimiter ("a;b" in a comma file ties
    # with, or beats, the comma: a file for --delimiter).
    others = set(",\t;|") - {delimiter}
    clear_header = not any(ch in others for cell in header for ch in cell)
    if tail in (b"", b"\n", b"\r\n") and (len(header) > 1 or delimiter == ",") and clear_header:
        assert summary.rows_read == sum(1 for row in rows if _counted(row))
    assert summary.rejected == sum(summary.rejected_by_problem.values())
    lines = [error.line for error in summary.errors]
    assert len(lines) == len(set(lines)) == summary.rejected  # one reason per rejected row
    for error in summary.errors:
        assert 2 <= error.line <= physical_lines
        assert isinstance(error.problem, RowProblem) and error.message
    with engine.connect() as conn:
        stored = calling_lists.find_list(conn, bu.id, name)
        assert calling_lists.count_records(conn, stored.id) == summary.accepted
    assert summary.records_in_list == summary.accepted
