"""List files as people have them: the fixtures of tests/fixtures/calling_lists (Excel's
semicolon CSV in Windows-1252, "CSV UTF-8" with a BOM, "Unicode text" in UTF-16, pipes, quoted
fields over several lines) imported with the right counts and names intact; the encoding and
delimiter rules; clear refusals naming the line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from proactive_sms.domain.calling_record import RowProblem
from proactive_sms.services import importing, list_files
from proactive_sms.services.import_preview import preview_file
from proactive_sms.services.list_files import ImportRefused, choose_delimiter
from proactive_sms.store import calling_lists

FIXTURES = Path(__file__).parent.parent / "fixtures" / "calling_lists"


class Expected:
    """What importing a fixture must give."""

    def __init__(self, encoding: str, delimiter: str, rows: int,
                 rejected: dict[int, RowProblem], names: dict[str, tuple[str, str]],
                 fields: dict[str, dict[str, str]] | None = None):
        self.encoding, self.delimiter, self.rows = encoding, delimiter, rows
        self.rejected = rejected  # line -> problem
        self.names = names  # ExternalId -> (first, last name) as stored
        self.fields = fields or {}  # ExternalId -> custom fields as stored


FIXTURE_CASES = {
    "excel_fr_semicolon_ansi.csv": Expected(
        "Windows-1252", ";", 5, {5: RowProblem.BAD_NUMBER}, {},
        # No ExternalId column: the number is the record's id; French headers are custom fields.
        {"+33612345678": {"Prénom": "Hélène", "Nom": "Lefèvre", "Solde dû": "12,50",
                          "Ville": "Besançon"},
         "+33734567890": {"Nom": "Müller; née Roß", "Solde dû": "0,99"},
         "+33656789012": {"Prénom": "Anaïs", "Nom": "Œillet", "Solde dû": "€ 5,00"}}),
    "excel_csv_utf8_bom.csv": Expected(
        "UTF-8 with BOM", ",", 4, {},
        {"U001": ("José", "Núñez"), "U002": ("Łukasz", "Wójcik"), "U003": ("민준", "김"),
         "U004": ("أحمد", "الهاشمي")},
        {"U003": {"Notes": 'called "Min"'}}),
    "excel_unicode_text.txt": Expected(
        "UTF-16 LE", "\t", 6, {5: RowProblem.BAD_NUMBER},
        {"T001": ("Siobhán", "Ó Briain"), "T002": ("伟", "王"), "T003": ("Emoji 😀", "Tab\tInside"),
         "T005": ("Đorđe", "Šećerović"), "T006": ("Ørjan", "Ødegård")},
        {"T002": {"Balance": "20.50"}}),
    "windows_1252_names.csv": Expected(
        "Windows-1252", ",", 4, {},
        {"W001": ("Renée", "Côté"), "W002": ("Sørina", "Ångström"), "W004": ("Gaëlle", "Brontë")},
        {"W001": {"Notes": "owes €20 – call after 5"}, "W002": {"Notes": "said “not today”"},
         "W004": {"Notes": "it’s fine"}}),
    "pipe_delimited.txt": Expected(
        "UTF-8", "|", 5, {5: RowProblem.DUPLICATE_EXTERNAL_ID},
        {"P001": ("Mary", "O'Neil, Jr."), "P002": ("Dmitri", "Волков")}),
    "multiline_notes.csv": Expected(
        "UTF-8 with BOM", ",", 5, {9: RowProblem.BAD_NUMBER},
        {"M005": ("Ed", "")},
        {"M001": {"Notes": "line one\nline two\nline three"},
         "M003": {"Notes": 'said:\n"call me, later"'},  # trimmed, as every value
         "M005": {"Notes": "a\r\nwindows break"}}),
}


def _records(engine, bu, name: str) -> dict:
    with engine.connect() as conn:
        found = calling_lists.find_list(conn, bu.id, name)
        return {r.external_id: r
                for batch in calling_lists.record_batches(conn, found.id, 0, 1000)
                for r in batch}


def check_imported(engine, bu, list_name: str, summary, expected: Expected) -> None:
    """The summary's counts and format, and the stored records' names, as `expected` says."""
    assert summary.file_format.encoding == expected.encoding
    assert summary.file_format.delimiter == expected.delimiter
    assert summary.rows_read == expected.rows
    assert {e.line: e.problem for e in summary.errors} == expected.rejected
    assert summary.accepted == expected.rows - len(expected.rejected)
    check_records(engine, bu, list_name, expected)


def check_records(engine, bu, list_name: str, expected: Expected) -> None:
    """The stored records: as many as accepted, their names and fields intact."""
    records = _records(engine, bu, list_name)
    assert len(records) == expected.rows - len(expected.rejected)
    for external_id, (first, last) in expected.names.items():
        fields = records[external_id].fields
        assert (fields.get("FirstName"), fields.get("LastName", "")) == (first, last)
    for external_id, values in expected.fields.items():
        assert {k: records[external_id].fields[k] for k in values} == values


@pytest.mark.parametrize("file_name", sorted(FIXTURE_CASES))
def test_real_world_files_import_with_the_right_counts_and_names_intact(
        engine, bu, clock, file_name):
    expected = FIXTURE_CASES[file_name]
    summary = importing.import_calling_list(engine, bu, "people", FIXTURES / file_name, clock)
    check_imported(engine, bu, "people", summary, expected)


@pytest.mark.parametrize("file_name", sorted(FIXTURE_CASES))
def test_the_preview_reads_each_fixture_as_the_import_does(file_name):
    expected = FIXTURE_CASES[file_name]
    preview = preview_file(FIXTURES / file_name, "US")
    assert (preview.file_format.encoding, preview.file_format.delimiter) == (
        expected.encoding, expected.delimiter)
    assert {r.line: r.error.problem for r in preview.rows if r.error} == expected.rejected
    assert len(preview.rows) == expected.rows


@pytest.mark.parametrize(("sample", "delimiter"), [
    ("ExternalId,Name,Phone\n1,Ann,2125550100\n", ","),
    ("Id;Name;Phone;Balance\r\n1;Lee, Ann;2125550100;12,50\r\n", ";"),  # decimal commas
    ("Id\tName\tPhone\n1\tLee, Ann\t2125550100\n", "\t"),
    ("Last, First\tPhone\nLee, Ann\t2125550100\n", "\t"),  # a tie goes to the tab
    ("Id|Name|Phone\n1|Ann, Jr.|2125550100\n", "|"),
    ('Id,"Name; full",Phone\n1,"Lee; Ann",2125550100\n2,Bo,2125550101\n', ","),
    ("A,B;C,D\n1,2;3,4\n", ","),  # ambiguous: more header columns wins
    ("Id;Name,Phone\n1;Ann,Lee\n2;Bo,Ray\n", ";"),  # a true tie: the semicolon before the comma
    ("Phone\n2125550100\n", ","),  # one column: commas
    ("PhoneNumber\n212;555\n", ","),
])
def test_the_delimiter_is_the_one_that_reads_the_header_and_rows_as_a_table(sample, delimiter):
    assert choose_delimiter(sample) == delimiter


def test_a_cut_last_row_of_the_sample_does_not_decide_the_delimiter():
    sample = "Id;Name;Phone\n1;Ann;2125550100\n2;Bo;2125550101\n3;C"
    assert choose_delimiter(sample, complete=False) == ";"


@pytest.mark.parametrize(("given", "delimiter"), [
    (",", ","), (";", ";"), ("|", "|"), ("\t", "\t"), ("tab", "\t"), ("TAB", "\t"),
    ("\\t", "\t"), ("semicolon", ";"), ("pipe", "|"), ("comma", ","), (":", ":"),
])
def test_a_delimiter_is_named_by_its_character_or_its_name(given, delimiter):
    assert list_files.parse_delimiter(given) == delimiter


@pytest.mark.parametrize("given", ["", "ab", "x", '"', "\n", " "])
def test_a_delimiter_that_cannot_be_one_is_refused_saying_what_is_taken(given):
    with pytest.raises(ValueError, match="give one of , ; . or tab"):
        list_files.parse_delimiter(given)


@pytest.mark.parametrize(("given", "codec"), [
    ("UTF-8", "utf-8-sig"), ("utf8", "utf-8-sig"), ("UTF-8 with BOM", "utf-8-sig"),
    ("UTF-16", "utf-16"), ("utf-16le", "utf-16-le"), ("Windows-1252", "cp1252"),
    ("cp1252", "cp1252"), ("ANSI", "cp1252"), ("latin-1", "iso8859-1"),
])
def test_an_encoding_is_named_as_people_name_it(given, codec):
    assert list_files.parse_encoding(given) == codec


@pytest.mark.parametrize("given", ["klingon", "base64", "zlib", "rot13", "undefined",
                                   "unicode_escape", "a\x00b", "x" * 300])
def test_a_name_that_is_no_text_encoding_is_refused(given):
    with pytest.raises(ValueError, match="UTF-8, UTF-16 or Windows-1252"):
        list_files.parse_encoding(given)


def test_an_override_reads_what_detection_would_refuse(engine, bu, clock, tmp_path):
    # "RenÃ©e" typed in a Windows-1252 file looks like UTF-8 beside its é: refused as mixed
    # unless the encoding is named.
    path = tmp_path / "l.csv"
    path.write_bytes("Id,FirstName,Phone\r\n1,RenÃ©e,2125550100\r\n2,Zoé,2125550101\r\n"
                     .encode("cp1252"))
    with pytest.raises(ImportRefused, match="mixes encodings: line 2 has UTF-8 text but line 3"):
        importing.import_calling_list(engine, bu, "people", path, clock)
    summary = importing.import_calling_list(engine, bu, "people", path, clock,
                                            encoding=list_files.parse_encoding("windows-1252"))
    assert summary.accepted == 2 and summary.file_format.encoding == "Windows-1252"
    assert {r.fields["FirstName"] for r in _records(engine, bu, "people").values()} == {
        "RenÃ©e", "Zoé"}


def test_a_named_encoding_the_file_is_not_in_is_refused_whole_naming_the_line(
        engine, bu, clock, tmp_path):
    path = FIXTURES / "windows_1252_names.csv"
    with pytest.raises(ImportRefused, match=r"cannot read the file as UTF-8: line 2 does not "
                                            r"read as UTF-8 \(byte 0xe9\); nothing was imported"):
        importing.import_calling_list(engine, bu, "people", path, clock, encoding="utf-8-sig")
    with engine.connect() as conn, pytest.raises(LookupError):
        calling_lists.find_list(conn, bu.id, "people")


def test_a_named_delimiter_overrides_the_detected_one(engine, bu, clock, tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("Id,Note,PhoneNumber;Fax\n1,a,2125550100;x\n2,b,2125550101;y\n")
    assert choose_delimiter(path.read_text()) == ","
    summary = importing.import_calling_list(engine, bu, "people", path, clock,
                                            overrides={"Id,Note,PhoneNumber": "PhoneNumber"},
                                            delimiter=";")
    assert summary.columns == {"Id,Note,PhoneNumber": "PhoneNumber", "Fax": "Fax"}
    assert summary.rejected == 2  # "1,a,2125550100" is no number: read as asked


def test_utf16_without_a_bom_is_known_by_its_nuls(engine, bu, clock, tmp_path):
    path = tmp_path / "l.txt"
    path.write_bytes("Id\tFirstName\tPhoneNumber\r\n1\tSiân\t2125550100\r\n".encode("utf-16-le"))
    summary = importing.import_calling_list(engine, bu, "people", path, clock)
    assert summary.file_format.describe() == "UTF-16 LE, tab-separated"
    assert _records(engine, bu, "people")["1"].fields["FirstName"] == "Siân"


def test_the_bad_byte_is_named_on_its_physical_line_past_quoted_lines_and_lone_crs(
        engine, bu, clock, tmp_path):
    # Line 2 holds a quoted note over three lines (CRLF, then a bare LF); line 5 ends with a
    # lone CR (old Mac); the bad byte is on line 6, as the CSV reader numbers its lines.
    path = tmp_path / "l.csv"
    path.write_bytes(b'Id,PhoneNumber,Note\r\n1,2125550100,"one\r\ntwo\nthree"\r\n'
                     b"2,2125550101,x\r3,2125550102,\x81\r\n")
    with pytest.raises(ImportRefused, match=r"\(byte 0x81 at line 6\)"):
        importing.import_calling_list(engine, bu, "people", path, clock)


def test_a_bad_row_after_quoted_lines_is_named_on_its_physical_line(engine, bu, clock):
    summary = importing.import_calling_list(engine, bu, "people",
                                            FIXTURES / "multiline_notes.csv", clock)
    (error,) = summary.errors
    assert error.line == 9 and error.field == "PhoneNumber"


def test_a_preview_given_the_format_trusts_it_without_reading_the_whole_file(tmp_path):
    path = tmp_path / "l.csv"
    path.write_bytes(b"Id;PhoneNumber\n1;2125550100\n" + b"2;2125550101\n" * 10 + b"\x81\n")
    with pytest.raises(ImportRefused, match="byte 0x81 at line 13"):
        preview_file(path, "US", name="l.csv")
    preview = preview_file(path, "US", encoding="utf-8-sig", delimiter=";", whole_file=False)
    assert preview.file_format.describe() == "UTF-8, semicolon-separated"
    assert preview.rows[0].values["PhoneNumber"] == "+12125550100"


def test_a_utf8_character_cut_between_two_read_blocks_still_marks_a_mixed_file():
    # The é straddles the first 1 MB block read; the Windows-1252 é is on line 3.
    filler = b"x" * (list_files._BLOCK_BYTES - len(b"Id,Name\n") - 1)
    data = b"Id,Name\n" + filler + "é".encode() + b"\n" + b"a,\xe9\n"
    with pytest.raises(ImportRefused, match="line 2 has UTF-8 text but line 3 has byte 0xe9"):
        list_files.file_format(io.BytesIO(data), "l.csv")


@pytest.mark.parametrize(("data", "encoding"), [
    (b"Id,Name\r\n1,Ren\xe9e \xe9\xbb\r\n", "Windows-1252"),  # "é»": a lead and a continuation
    ("Id,Name\r\n1,Renée\r\n".encode(), "UTF-8"),
    (b"Id,Name\r\n1,Ann\r\n", "UTF-8"),
])
def test_windows_1252_bytes_that_only_look_like_the_start_of_utf8_stay_windows_1252(
        data, encoding):
    assert list_files.file_format(io.BytesIO(data), "l.csv").encoding == encoding
