"""`psms registration price`, `psms budget`, `--budget` and the cost in dry runs and reports."""

from __future__ import annotations

import json

import pytest

from tests.factories import person, write_csv
from tests.interfaces.cli_runner import sales_cli


@pytest.fixture
def psms(tmp_path, monkeypatch):
    run = sales_cli(tmp_path, monkeypatch)
    write_csv(tmp_path / "people.csv", [person(i) for i in range(4)])
    run("list", "import", str(tmp_path / "people.csv"), "--name", "people")
    run("registration", "add", "55501", "--kind", "short", "--throughput", "100")
    return run


def test_prices_budgets_and_the_cost_before_and_after(psms):
    assert "not priced" in psms("registration", "price", "55501")
    out = psms("registration", "price", "55501", "0.0079", "--currency", "usd")
    assert "code 55501: 0.0079 USD a segment" in out
    out = psms("registration", "price", "55501", "0.011", "--country", "CA")
    assert "CA 0.011" in out  # the unit's currency when none is given
    shown = json.loads(psms("registration", "price", "55501", "--json"))
    assert shown == {"code": "55501", "currency": "USD", "price_per_segment": "0.0079",
                     "by_country": {"CA": "0.011"}}
    assert "0.0079 USD" in psms("registration", "show", "55501")
    out = psms("registration", "price", "55501", "0.02", "--currency", "EUR", code=2)
    assert "one currency" in out

    psms("skill", "create", "alert", "--registration", "55501", "--list", "people",
         "--budget", "0.03")
    dry = json.loads(psms("skill", "start", "alert", "--message", "Hi", "--dry-run", "--json"))
    assert (dry["cost"], dry["currency"]) == ("0.0316", "USD")
    assert dry["budget_refusal"] == ("starting skill 'alert' would cost 0.0316 USD, more than "
                                     "its budget of 0.03 USD")
    out = psms("skill", "start", "alert", "--message", "Hi", code=1)  # refused: exit 1
    assert "would cost 0.0316 USD, more than its budget of 0.03 USD" in out
    psms("skill", "set", "alert", "--budget", "1")
    assert json.loads(psms("skill", "show", "alert", "--json"))["settings"]["budget"] == "1.00"
    psms("skill", "start", "alert", "--message", "Hi")
    report = json.loads(psms("report", "--skill", "alert", "--json"))
    assert report["spend"] == {"currency": "USD", "spent": "0.00", "spent_texts": 0,
                               "spent_segments": 0, "budget": "1.00", "left": "1.00",
                               "unpriced_texts": 0}  # nothing has left yet
    csv_out = psms("report", "--skill", "alert", "--csv")
    assert "spent,,0,0.00,1.00,USD" in csv_out
    assert "spent: 0.00 USD (0 texts, 0 segments) of a budget of 1.00 USD" in psms(
        "skill", "status", "alert")


def test_the_units_monthly_budget(psms):
    out = psms("budget", "set", "--monthly", "100", code=2)
    assert "give the budget's currency" in out
    out = psms("budget", "set", "--monthly", "100", "--currency", "USD", "--tz",
               "America/Chicago")
    assert "100.00 USD a month (months begin in America/Chicago)" in out
    shown = json.loads(psms("budget", "show", "--json"))
    assert (shown["monthly_budget"], shown["spent"], shown["left"]) == ("100.00", "0.00",
                                                                        "100.00")
    assert "not/zone" in psms("budget", "set", "--tz", "not/zone", code=2)
    assert "no monthly budget" in psms("budget", "set", "--monthly", "none")
