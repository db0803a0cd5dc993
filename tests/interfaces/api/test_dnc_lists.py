"""DNC lists over HTTP: the tenant's lists, their entries, bulk import with a report of every bad
row, export as CSV that imports back the same."""

from __future__ import annotations

import csv
import io

import pytest

from tests.factories import us_number


def _import(client, headers, data: bytes, name: str = "default", filename: str = "dnc.csv"):
    return client.post(f"/v1/dnc/lists/{name}/imports", headers=headers,
                       files={"file": (filename, data, "text/csv")})


def _entries(client, headers, name="default"):
    return client.get(f"/v1/dnc/lists/{name}/entries", headers=headers).json()["items"]


def test_an_import_keeps_good_rows_and_reports_each_bad_one_by_line(client, key_a):
    data = ("number,note\n"
            f"{us_number(1)},asked by phone\n"
            "12,typo\n"
            f"+1{us_number(2)},\n"
            ",no number\n"
            f"({us_number(3)[:3]}) {us_number(3)[3:6]}-{us_number(3)[6:]},lawyer\n"
            f"{us_number(1)},again\n").encode()
    report = _import(client, key_a, data).json()
    assert (report["list_name"], report["rows_read"], report["added"],
            report["already_listed"], report["rejected"]) == ("default", 6, 3, 1, 2)
    assert [(r["line"], r["field"]) for r in report["rejected_rows"]] == [
        (3, "number"), (5, "number")]
    assert report["rejected_rows"][0]["reason"] == "'12' is too short for a US number"
    entries = {e["number"]: (e["source"], e["note"]) for e in _entries(client, key_a)}
    assert entries == {"+1" + us_number(1): ("import", "asked by phone"),
                       "+1" + us_number(2): ("import", "imported from dnc.csv"),
                       "+1" + us_number(3): ("import", "lawyer")}


def test_a_bare_list_of_numbers_imports_into_a_new_group(client, key_a):
    data = f"{us_number(5)}\n{us_number(6)}\nnot-a-number\n".encode()
    report = _import(client, key_a, data, name="legal").json()
    assert (report["list_name"], report["added"], report["rejected"]) == ("legal", 2, 1)
    assert report["rejected_rows"][0]["line"] == 3
    lists = client.get("/v1/dnc/lists", headers=key_a).json()["items"]
    assert [(x["name"], x["is_default"]) for x in lists] == [("default", True),
                                                               ("legal", False)]
    assert client.get(f"/v1/dnc/numbers/{us_number(5)}", headers=key_a).json()["lists"] == [
        "legal"]


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"),
    (b"\x00\x01\x02binary\x00", "binary"),
    (b"name,city\nAnn,Paris\n", "no number column"),
    (b"number\n\x81t\x81\n", "not UTF-8, UTF-16 or Windows-1252"),  # 0x81: none of them
])
def test_a_file_that_is_not_a_list_of_numbers_is_refused(client, key_a, data, reason):
    response = _import(client, key_a, data, filename="upload.csv")
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "file" and reason in problem["detail"]
    assert "upload.csv" in problem["detail"]
    assert _entries(client, key_a) == []


def test_an_export_imports_back_to_the_same_list(client, key_a):
    numbers = [us_number(i) for i in range(2500)]  # more than one export page
    client.post("/v1/dnc/numbers", headers=key_a, json={"numbers": numbers[:2],
                                                       "note": "said \"never\", twice"})
    _import(client, key_a, ("number\n" + "\n".join(numbers[2:])).encode())
    exported = client.get("/v1/dnc/lists/default/export", headers=key_a)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["number"] for r in rows] == ["+1" + n for n in numbers]
    assert rows[0]["note"] == 'said "never", twice'

    report = _import(client, key_a, exported.content, name="copy").json()
    assert (report["added"], report["rejected"]) == (2500, 0)
    copy = client.get("/v1/dnc/lists/copy/export", headers=key_a).text
    copied = list(csv.DictReader(io.StringIO(copy)))
    assert [(r["number"], r["note"]) for r in copied] == [(r["number"], r["note"])
                                                          for r in rows]


def test_an_unknown_list_answers_404(client, key_a):
    for path in ("/v1/dnc/lists/nope/entries", "/v1/dnc/lists/nope/export"):
        response = client.get(path, headers=key_a)
        assert response.status_code == 404 and response.json()["errors"][0]["field"] == (
            "DNC_list")


def test_the_existing_add_remove_check_routes_still_work(client, key_a):
    number = us_number(9)
    assert client.post("/v1/dnc/numbers", headers=key_a,
                       json={"numbers": [number]}).json()["changed"] == 1
    assert client.get(f"/v1/dnc/numbers/{number}", headers=key_a).json()["lists"] == [
        "default"]
    assert client.post("/v1/dnc/removals", headers=key_a,
                       json={"numbers": [number]}).json()["changed"] == 1
    assert _entries(client, key_a) == []
