"""`psms cadence …`, `psms skill outcome` and `psms dialer-sim`, run in-process on SQLite."""

from __future__ import annotations

import json

import pytest

from tests.factories import person, write_csv
from tests.interfaces.cli_runner import sales_cli

CADENCE = {
    "steps": [
        {"channel": "voice", "max_attempts": 2, "rest_minutes": 60},
        {"channel": "sms", "after": ["answering_machine"], "template": "missed"},
    ],
    "dispositions": ["sale"],
    "ends_on": ["sale"],
}


@pytest.fixture
def psms(tmp_path, monkeypatch):
    run = sales_cli(tmp_path, monkeypatch)
    rows = [person(0), person(1, IsCellPhone="false")]
    run("list", "import", str(write_csv(tmp_path / "c.csv", rows)), "--name", "customers")
    run("registration", "add", "55502", "--kind", "short", "--throughput", "10",
        "--solution", "sms_messaging")
    run("template", "add", "missed", "--text", "Hi {FirstName}, we missed you.")
    run("skill", "create", "sales", "--kind", "agent", "--registration", "55502",
        "--list", "customers")
    return run


def test_set_show_start_report_outcomes_and_see_where_a_record_stands(psms, tmp_path):
    path = tmp_path / "cadence.json"
    path.write_text(json.dumps(CADENCE))
    assert "2 step(s)" in psms("cadence", "set", "sales", "--file", str(path))
    shown = psms("cadence", "show", "sales")
    assert "answering_machine" in shown and "SMSPhoneNumber" in shown
    assert "2 records in its cadence" in psms("skill", "start", "sales")
    attempts = psms("cadence", "next", "sales")
    assert "C000000" in attempts and "+1212" not in attempts  # numbers masked
    out = psms("skill", "outcome", "sales", "C000000", "--step", "1", "--attempt", "1",
               "--outcome", "answering_machine")
    assert "next_step" in out and "texted" in out
    out = psms("skill", "outcome", "sales", "C000001", "--step", "1", "--attempt", "1",
               "--outcome", "answering_machine")
    assert "skipped: no_mobile_number" in out
    assert "done (cadence_complete)" in psms("cadence", "record", "sales", "C000001")
    out = psms("skill", "outcome", "sales", "C000001", "--step", "1", "--attempt", "1",
               "--outcome", "sale", code=2)
    assert "already reported" in out
    report = json.loads(psms("cadence", "report", "sales", "--json"))
    assert report["texts_skipped"] == {"no_mobile_number": 1}
    assert {(o["step"], o["outcome"]) for o in report["outcomes"]} == {
        (1, "answering_machine"), (2, "texted"), (2, "skipped")}


def test_a_bad_cadence_file_names_each_problem(psms, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"steps": [{"channel": "sms"}]}))
    out = psms("cadence", "set", "sales", "--file", str(path), code=2)
    assert "steps[1].template" in out
    path.write_text("{not json")
    assert "not JSON" in psms("cadence", "set", "sales", "--file", str(path), code=2)


def test_the_dialer_simulator_needs_a_key_and_sane_odds(psms, monkeypatch):
    monkeypatch.delenv("PSMS_API_KEY", raising=False)
    assert "--api-key" in psms("dialer-sim", "sales", code=2)
    out = psms("dialer-sim", "sales", "--api-key", "k", "--odds", "busy=-1", code=2)
    assert "OUTCOME=WEIGHT" in out
    out = psms("dialer-sim", "sales", "--api", "http://127.0.0.1:9", "--api-key", "k",
               "--rounds", "1", code=2)
    assert "cannot reach the API" in out
