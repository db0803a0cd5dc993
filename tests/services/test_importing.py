"""Calling-list import: good rows kept, every bad row reported with line and reason."""

from __future__ import annotations

import csv
import random

import pytest

from proactive_sms.domain.calling_record import RowProblem
from proactive_sms.services import importing
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.store import calling_lists
from tests.factories import HEADER, person, write_csv


def _import(engine, bu, clock, path, **kwargs):
    return importing.import_calling_list(engine, bu, "people", path, clock, **kwargs)


def _records(engine, bu, name="people"):
    with engine.connect() as conn:
        lst = calling_lists.find_list(conn, bu.id, name)
        return [r for batch in calling_lists.record_batches(conn, lst.id, 0, 1000) for r in batch]


BAD_ROWS = [  # (row maker, expected problem)
    (lambda i: person(i, PhoneNumber="555-0100"), RowProblem.BAD_NUMBER),
    (lambda i: person(i, PhoneNumber="hello"), RowProblem.BAD_NUMBER),
    (lambda i: person(i, PhoneNumber=""), RowProblem.MISSING_FIELD),
    (lambda i: person(i, ExternalId=""), RowProblem.MISSING_FIELD),
    (lambda i: person(i)[:4], RowProblem.WRONG_COLUMN_COUNT),
    (lambda i: [*person(i), "extra"], RowProblem.WRONG_COLUMN_COUNT),
    (lambda i: person(0), RowProblem.DUPLICATE_EXTERNAL_ID),  # repeats record 0's ExternalId
    (lambda i: person(i, IsCellPhone="maybe"), RowProblem.BAD_VALUE),
]


def test_ten_thousand_rows_with_fifty_bad_keeps_good_and_reports_bad(engine, bu, clock,
                                                                   tmp_path):
    rng = random.Random(7)
    bad_positions = set(rng.sample(range(1, 10_000), 50))
    rows, expected = [], {}
    for i in range(10_000):
        if i in bad_positions:
            maker, problem = BAD_ROWS[len(expected) % len(BAD_ROWS)]
            rows.append(maker(i))
            expected[i + 2] = problem  # line 1 is the header
        else:
            rows.append(person(i))
    path = write_csv(tmp_path / "list.csv", rows)

    summary = _import(engine, bu, clock, path, errors_path=tmp_path / "errors.csv")

    assert summary.rows_read == 10_000
    assert summary.accepted == 9_950
    assert summary.rejected == 50
    assert {e.line: e.problem for e in summary.errors} == expected
    assert summary.records_in_list == 9_950
    with (tmp_path / "errors.csv").open() as handle:
        written = list(csv.DictReader(handle))
    assert [int(r["line"]) for r in written] == sorted(expected)
    assert all(r["reason"] for r in written)

    again = _import(engine, bu, clock, path)
    assert again.accepted == 9_950
    assert again.records_in_list == 9_950


def test_reimport_updates_records_by_external_id(engine, bu, clock, tmp_path):
    _import(engine, bu, clock, write_csv(tmp_path / "a.csv", [person(1), person(2)]))
    _import(engine, bu, clock, write_csv(tmp_path / "b.csv",
                                         [person(1, FirstName="Renamed"), person(3)]))
    records = {r.external_id: r for r in _records(engine, bu)}
    assert sorted(records) == ["C000001", "C000002", "C000003"]
    assert records["C000001"].fields["FirstName"] == "Renamed"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"Name,Email\nAnn,ann@example.com\n", "no phone column"),
        (b"Name,Phone\nRen\x81,2125550123\n",  # 0x81: no character of Windows-1252
         "not UTF-8, UTF-16 or Windows-1252 .byte 0x81 at line 2"),
        ("Name,Phone\nRenée,2125550123\n".encode() + b"Ren\xe9,2125550124\n",
         "mixes encodings: line 2 has UTF-8 text but line 3 has byte 0xe9, which is not UTF-8"),
        (b"\xff\xfe\x00\x00N\x00\x00\x00", "UTF-32"),
        ("Name,Phone\r\nAnn,2125550123\r\n".encode("utf-16") + b"\x00\xd8A\x00",  # lone surrogate
         r"starts as UTF-16 LE but line 3 does not read as UTF-16 \(bytes 0x00 0xd8"),
    ],
)
def test_a_file_that_cannot_be_a_calling_list_is_refused_and_nothing_written(
        engine, bu, clock, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(importing.ImportRefused, match=message):
        _import(engine, bu, clock, path)
    with engine.connect() as conn, pytest.raises(LookupError):
        calling_lists.find_list(conn, bu.id, "people")


def test_tab_separated_with_bom_and_aliases_and_custom_fields(engine, bu, clock, tmp_path):
    header = ["Customer ID", "first_name", "Mobile", "Home Phone", "Balance Due"]
    rows = [["X1", "Ann", "(212) 555-0123", "212-555-0199", "12.50"]]
    path = write_csv(tmp_path / "list.tsv", rows, header, delimiter="\t", bom=True)
    summary = _import(engine, bu, clock, path)
    assert summary.accepted == 1
    assert summary.columns == {"Customer ID": "ExternalId", "first_name": "FirstName",
                               "Mobile": "SMSPhoneNumber", "Home Phone": "PhoneNumber",
                               "Balance Due": "Balance Due"}
    (record,) = _records(engine, bu)
    assert record.external_id == "X1"
    assert record.sms_destination == "+12125550123"
    assert record.phone == "+12125550199"
    assert record.fields["Balance Due"] == "12.50"


def test_map_option_names_columns_and_an_unknown_column_is_refused(engine, bu, clock, tmp_path):
    path = write_csv(tmp_path / "l.csv", [["7", "2125550123"]], ["Ref", "Tel Nr"])
    summary = _import(engine, bu, clock, path, overrides={"Tel Nr": "SMSPhoneNumber",
                                                         "Ref": "ExternalId"})
    assert summary.accepted == 1
    with pytest.raises(importing.ImportRefused, match="'Nope'"):
        _import(engine, bu, clock, path, overrides={"Nope": "PhoneNumber"})


@pytest.mark.parametrize(
    ("values", "destination", "problem"),
    [
        ({"PhoneNumber": "2125550123", "IsCellPhone": "yes"}, "+12125550123", None),
        ({"PhoneNumber": "2125550123", "IsCellPhone": "no"}, None, "no_mobile_number"),
        ({"PhoneNumber": "2125550123", "IsCellPhone": ""}, None, "no_mobile_number"),
        ({"PhoneNumber": "2125550123", "SMSPhoneNumber": "2125550177", "IsCellPhone": "no"},
         "+12125550177", None),
        ({"PhoneNumber": "2125550123", "SMSPhoneNumber": "555", "IsCellPhone": "yes"},
         None, "invalid_number"),
    ],
)
def test_sms_destination_rules(engine, bu, clock, tmp_path, values, destination, problem):
    header = ["ExternalId", "PhoneNumber", "SMSPhoneNumber", "IsCellPhone"]
    row = ["1", values.get("PhoneNumber", ""), values.get("SMSPhoneNumber", ""),
           values.get("IsCellPhone", "")]
    _import(engine, bu, clock, write_csv(tmp_path / "l.csv", [row], header))
    (record,) = _records(engine, bu)
    assert (record.sms_destination, record.sms_problem) == (destination, problem)


def test_bad_date_and_malformed_rows_name_line_and_field(engine, bu, clock, tmp_path):
    header = [*HEADER, "ExpirationDate"]
    rows = [[*person(1), "2026-12-31"], [*person(2), "31st of never"], [*person(3), "12/31/2026"]]
    summary = _import(engine, bu, clock, write_csv(tmp_path / "l.csv", rows, header))
    assert summary.accepted == 2
    (error,) = summary.errors
    assert (error.line, error.problem, error.field) == (3, RowProblem.BAD_DATE, "ExpirationDate")
    assert "31st of never" in error.message


def _big_file_with_a_late_line(path, first_name: str, late: bytes):
    """About 2.6 MB of rows, then one whose FirstName is the raw bytes `late` (line 60002)."""
    good = [",".join(person(i, FirstName=first_name if i == 1 else f"Ann{i}")).encode()
            for i in range(60_000)]
    bad = ",".join(person(70_000)).encode().replace(b"Ann70000", late)
    path.write_bytes(",".join(HEADER).encode() + b"\n" + b"\n".join(good) + b"\n" + bad + b"\n")
    assert path.stat().st_size > 2 * 1024 * 1024
    return path


@pytest.mark.parametrize(("first_name", "late", "reason"), [
    # a byte no encoding taken can read
    ("Ann", b"Ann\x81", "not UTF-8, UTF-16 or Windows-1252 .byte 0x81 at line 60002"),
    # UTF-8 for megabytes, then a Windows-1252 byte: neither reading is right for all of it
    ("Renée", b"Ren\xe9e", "mixes encodings: line 3 has UTF-8 text but line 60002 has byte 0xe9"),
])
def test_a_stray_bad_byte_after_the_first_megabytes_refuses_the_whole_file(
        engine, bu, clock, tmp_path, first_name, late, reason):
    # README: a file that cannot be read is refused and nothing is written, wherever the bad
    # byte is: past the first blocks read, past the first batches written, in a worker or not.
    path = _big_file_with_a_late_line(tmp_path / "l.csv", first_name, late)
    for workers in (0, 1):
        with pytest.raises(importing.ImportRefused, match=reason) as refused:
            importing.import_calling_list(engine, bu, "people", path, clock, batch_size=500,
                                          workers=workers)
        assert "nothing was imported" in str(refused.value)
        with engine.connect() as conn, pytest.raises(LookupError):
            calling_lists.find_list(conn, bu.id, "people")


def test_an_ascii_file_with_one_windows_1252_name_megabytes_in_is_read_as_windows_1252(
        engine, bu, clock, tmp_path):
    # ASCII reads the same in UTF-8 and Windows-1252: the late é decides it, nothing garbled.
    path = _big_file_with_a_late_line(tmp_path / "l.csv", "Ann", b"Ren\xe9e")
    summary = importing.import_calling_list(engine, bu, "people", path, clock, batch_size=5000,
                                            workers=1)
    assert (summary.accepted, summary.rejected) == (60_001, 0)
    assert summary.file_format.encoding == "Windows-1252"
    names = {r.external_id: r.fields["FirstName"] for r in _records(engine, bu)}
    assert names["C070000"] == "Renée" and names["C000001"] == "Ann"


def test_a_header_over_the_csv_field_limit_is_refused_with_a_reason(engine, bu, clock,
                                                                    tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(b'"' + b"x" * 200_000 + b'",PhoneNumber\nC1,2125550123\n')
    with pytest.raises(importing.ImportRefused, match="line 1 .the header. cannot be read"):
        _import(engine, bu, clock, path)
    with engine.connect() as conn, pytest.raises(LookupError):
        calling_lists.find_list(conn, bu.id, "people")


def test_rejected_rows_written_name_their_field_and_run_no_formula(engine, bu, clock, tmp_path):
    path = write_csv(tmp_path / "list.csv", [person(1, PhoneNumber="12",
                                                   FirstName="=HYPERLINK(\"x\")")])
    _import(engine, bu, clock, path, errors_path=tmp_path / "errors.csv")
    with (tmp_path / "errors.csv").open() as handle:
        (written,) = list(csv.DictReader(handle))
    assert written["field"] == "PhoneNumber" and written["line"] == "2"
    assert written["FirstName"] == "'=HYPERLINK(\"x\")"


@pytest.mark.parametrize("name", ["", "   ", "a/b", "tab\there", "x" * 201])
def test_a_list_name_that_urls_and_menus_cannot_show_is_refused(engine, bu, clock, tmp_path,
                                                                name):
    path = write_csv(tmp_path / "list.csv", [person(1)])
    with pytest.raises(InvalidRequest) as refused:
        importing.import_calling_list(engine, bu, name, path, clock)
    assert refused.value.field == "name"
