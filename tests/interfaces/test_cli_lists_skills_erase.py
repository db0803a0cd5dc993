"""`psms list|skill|campaign list/show/rename/set/remove`, `psms list find|record` and
`psms erase`: their --json and exit codes (0 ok, 1 failed, 2 bad input), run in-process on a
real SQLite database."""

from __future__ import annotations

import json

import pytest

from tests.factories import person, us_number, write_csv
from tests.interfaces.cli_runner import sales_cli


@pytest.fixture
def psms(tmp_path, monkeypatch):
    """BU sales: list 'people' of 3, code 55501, campaign 'spring', draft skill 'alert'."""
    run = sales_cli(tmp_path, monkeypatch)
    write_csv(tmp_path / "people.csv", [person(i) for i in range(3)])
    run("list", "import", str(tmp_path / "people.csv"), "--name", "people")
    run("registration", "add", "55501", "--kind", "short", "--throughput", "100")
    run("campaign", "create", "spring")
    run("skill", "create", "alert", "--registration", "55501", "--list", "people",
        "--campaign", "spring")
    return run


def test_list_list_show_rename_json(psms):
    listed = json.loads(psms("list", "list", "--json"))
    assert [(lst["name"], lst["records"], lst["skills"]) for lst in listed] == [
        ("people", 3, ["alert"])]
    shown = json.loads(psms("list", "show", "people", "--json"))
    assert shown["records"] == 3 and shown["version"] == 1 and shown["archived"] is False
    assert "people" in psms("list", "list")  # the table
    renamed = json.loads(psms("list", "rename", "people", "staff", "--json"))
    assert renamed["name"] == "staff" and renamed["version"] == 2
    assert "no calling list 'people'" in psms("list", "show", "people", code=2)
    assert "bad/name" in psms("list", "rename", "staff", "bad/name", code=2)


def test_list_remove_fails_while_a_draft_uses_it(psms):
    out = psms("list", "remove", "people", code=1)
    assert "alert" in out
    assert json.loads(psms("skill", "remove", "alert", "--json")) == {
        "name": "alert", "outcome": "deleted"}
    assert json.loads(psms("list", "remove", "people", "--json")) == {
        "name": "people", "outcome": "deleted"}
    assert json.loads(psms("list", "list", "--json")) == []
    psms("list", "remove", "people", code=2)


def test_list_find_and_record(psms):
    number = us_number(1)
    found = json.loads(psms("list", "find", "people", "--number",
                            f"({number[:3]}) {number[3:6]}-{number[6:]}", "--json"))
    assert [r["external_id"] for r in found] == ["C000001"]
    by_id = json.loads(psms("list", "find", "people", "--external-id", "C000002", "--json"))
    assert [r["phone"] for r in by_id] == ["+1" + us_number(2)]
    psms("list", "find", "people", "--external-id", "NOPE", code=1)
    psms("list", "find", "people", code=2)  # neither given
    psms("list", "find", "people", "--number", "12ab", code=2)
    record = json.loads(psms("list", "record", "people", "C000000", "--json"))
    assert record["fields"]["FirstName"] == "Ann0"
    assert "Ann0" in psms("list", "record", "people", "C000000")
    psms("list", "record", "people", "NOPE", code=2)


def test_skill_list_show_set_remove(psms):
    listed = json.loads(psms("skill", "list", "--json"))
    assert [(s["name"], s["status"]) for s in listed] == [("alert", "draft")]
    shown = json.loads(psms("skill", "show", "alert", "--json"))
    assert shown["settings"]["calling_list"] == "people" and shown["version"] == 1
    changed = json.loads(psms("skill", "set", "alert", "--max-segments", "2", "--json"))
    assert changed["max_segments"] == 2 and changed["version"] == 2
    psms("skill", "set", "alert", code=2)  # nothing to change
    # Every setting the API's PATCH takes, from the CLI too; window parts not given stay.
    changed = json.loads(psms("skill", "set", "alert", "--weekday-hours", "09:00-17:00",
                              "--forbid-day", "sunday", "--no-reply-pacing",
                              "--reply-rate-prior", "0.1", "--direction", "ltr", "--json"))
    assert changed["settings"]["calling_window"] == {
        "weekday": "09:00-17:00", "weekend": "08:00-21:00", "forbidden_days": ["sunday"]}
    assert changed["settings"]["reply_pacing"] is False
    assert changed["settings"]["reply_rate_prior"] == 0.1
    psms("skill", "set", "alert", "--weekday-hours", "25:00-26:00", code=2)
    psms("skill", "set", "alert", "--max-segments", "0", code=2)
    psms("skill", "list", "--status", "nonsense", code=2)
    psms("skill", "start", "alert", "--message", "Bonus shift open, {FirstName}!")
    assert "running" in psms("skill", "remove", "alert", code=1)
    psms("skill", "stop", "alert")
    assert json.loads(psms("skill", "remove", "alert", "--json"))["outcome"] == "archived"
    assert json.loads(psms("skill", "list", "--json")) == []
    archived = json.loads(psms("skill", "list", "--archived", "--json"))
    assert archived[0]["archived_at"] is not None
    # The list is now only reported on: removing it archives it.
    assert json.loads(psms("list", "remove", "people", "--json"))["outcome"] == "archived"
    assert json.loads(psms("report", "--skill", "alert", "--json"))["total"] == 3


def test_campaign_list_show_rename_remove(psms):
    assert json.loads(psms("campaign", "list", "--json")) == [
        {"name": "spring", "skills": ["alert"], "version": 1}]
    assert json.loads(psms("campaign", "show", "spring", "--json"))["skills"] == ["alert"]
    assert json.loads(psms("campaign", "rename", "spring", "summer", "--json"))["version"] == 2
    assert "holds 1 skill" in psms("campaign", "remove", "summer", code=1)
    psms("skill", "remove", "alert")
    assert json.loads(psms("campaign", "remove", "summer", "--json"))["outcome"] == "deleted"
    psms("campaign", "show", "summer", code=2)


def test_erase_keeps_the_dnc_entry_and_says_what_it_did(psms):
    psms("dnc", "add", us_number(1))
    erased = json.loads(psms("erase", "--number", us_number(1), "--json"))
    assert erased["records"] == 1 and erased["who"].endswith(us_number(1)[-4:])
    assert us_number(1) not in erased["who"]
    psms("list", "find", "people", "--number", us_number(1), code=1)
    assert "default" in psms("dnc", "check", us_number(1), code=1)  # 1: on a list
    out = psms("erase", "--external-id", "C000002")
    assert "1 record(s)" in out and "DNC entries kept" in out
    psms("erase", "--number", us_number(1), code=2)  # nothing of theirs is left
    psms("erase", code=2)
    psms("erase", "--number", "12ab", code=2)
