"""POST /v1/calling-lists/{name}/imports with list files as people have them: the fixtures
imported with their encoding and delimiter reported, the `delimiter` and `encoding` form fields,
and a 422 naming the line for a file that cannot be read (nothing created)."""

from __future__ import annotations

import pytest

from tests.services.test_list_files import FIXTURE_CASES, FIXTURES


def _upload(client, key, name: str, data: bytes, filename: str = "people.csv", **form: str):
    return client.post(f"/v1/calling-lists/{name}/imports", headers=key,
                       files={"file": (filename, data, "text/csv")}, data=form)


def _records(client, key, name: str) -> dict[str, dict]:
    page = client.get(f"/v1/calling-lists/{name}/records", headers=key,
                      params={"limit": 100}).json()
    return {r["external_id"]: r for r in page["items"]}


@pytest.mark.parametrize("file_name", sorted(FIXTURE_CASES))
def test_each_real_world_file_imports_with_its_format_and_counts(client, key_a, file_name):
    expected = FIXTURE_CASES[file_name]
    answer = _upload(client, key_a, "people", (FIXTURES / file_name).read_bytes(), file_name)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["encoding"], report["delimiter"]) == (expected.encoding, expected.delimiter)
    assert report["rows_read"] == expected.rows
    assert report["accepted"] == expected.rows - len(expected.rejected)
    assert {r["line"]: r["problem"] for r in report["rejected_rows"]} == {
        line: str(problem) for line, problem in expected.rejected.items()}
    records = _records(client, key_a, "people")
    assert len(records) == report["accepted"]
    for external_id, (first, last) in expected.names.items():
        fields = records[external_id]["fields"]
        assert (fields.get("FirstName"), fields.get("LastName", "")) == (first, last)


def test_the_delimiter_and_encoding_fields_override_the_detection(client, key_a):
    data = "Id:FirstName:PhoneNumber\r\n1:RenÃ©e:2125550100\r\n2:Zoé:2125550101\r\n".encode(
        "cp1252")
    refused = _upload(client, key_a, "odd", data, "odd.csv")
    assert refused.status_code == 422
    assert "odd.csv: cannot read the file: it mixes encodings" in refused.json()["detail"]
    report = _upload(client, key_a, "odd", data, "odd.csv", delimiter=":",
                     encoding="Windows-1252").json()
    assert (report["encoding"], report["delimiter"], report["accepted"]) == (
        "Windows-1252", ":", 2)
    assert {r["fields"]["FirstName"] for r in _records(client, key_a, "odd").values()} == {
        "RenÃ©e", "Zoé"}


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("delimiter", "ab", "cannot be a delimiter"),
    ("encoding", "klingon", "not an encoding this import knows"),
])
def test_a_bad_delimiter_or_encoding_field_is_named(client, key_a, field, value, reason):
    answer = _upload(client, key_a, "people", (FIXTURES / "pipe_delimited.txt").read_bytes(),
                     **{field: value})
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["field"] == field and reason in error["reason"]


def test_a_file_no_encoding_can_read_is_refused_whole_naming_its_line(client, key_a):
    data = b"Id;PhoneNumber\r\n1;2125550100\r\n2;21255501\x8101\r\n"
    answer = _upload(client, key_a, "people", data, "export.csv")
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        "export.csv: cannot read the file: it is not UTF-8, UTF-16 or Windows-1252 (byte 0x81 "
        "at line 3); save it as UTF-8: nothing was imported")
    assert client.get("/v1/calling-lists", headers=key_a).json()["items"] == []
