"""Spend through the API: prices, the unit's budget, a skill's budget, the dry run's cost and
the refusal (409 naming the figures), the report's spend; another unit's key sees none of it."""

from __future__ import annotations

from tests.factories import person
from tests.interfaces.api.conftest import csv_bytes, upload


def _setup(client, key) -> None:
    upload(client, key, "people", csv_bytes([person(i) for i in range(5)]))
    created = client.post("/v1/registrations", headers=key,
                          json={"code": "55501", "kind": "short", "throughput_per_s": 10})
    assert created.status_code == 201, created.text


def test_prices_budgets_dry_run_and_report(client, key_a, key_b):
    _setup(client, key_a)
    assert client.get("/v1/registrations/55501/prices", headers=key_a).json() == {
        "code": "55501", "currency": None, "price_per_segment": None, "by_country": {}}
    put = client.put("/v1/registrations/55501/prices", headers=key_a,
                     json={"currency": "USD", "price_per_segment": "0.01",
                           "by_country": {"CA": "0.02"}})
    assert put.status_code == 200, put.text
    assert put.json()["by_country"] == {"CA": "0.02"}
    # Amounts are decimal text: a JSON number is refused, naming the field.
    wrong = client.put("/v1/registrations/55501/prices", headers=key_a,
                       json={"currency": "USD", "price_per_segment": 0.01})
    assert wrong.status_code == 422 and "price_per_segment" in wrong.text
    assert client.get("/v1/registrations/55501/prices", headers=key_b).status_code == 404

    made = client.post("/v1/skills", headers=key_a,
                       json={"name": "alert", "registration": "55501",
                             "calling_list": "people", "budget": "0.04"})
    assert made.status_code == 201, made.text
    assert made.json()["budget"] == "0.04"
    dry = client.post("/v1/skills/alert/dry-run", headers=key_a, json={"message": "Hi"})
    assert dry.status_code == 200, dry.text
    assert (dry.json()["cost"], dry.json()["currency"]) == ("0.05", "USD")
    assert "more than its budget of 0.04 USD" in dry.json()["budget_refusal"]
    refused = client.post("/v1/skills/alert/start", headers=key_a, json={"message": "Hi"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == ("starting skill 'alert' would cost 0.05 USD, more than "
                                        "its budget of 0.04 USD")
    assert refused.json()["errors"][0]["field"] == "budget"

    patched = client.patch("/v1/skills/alert", headers=key_a, json={"budget": "0.05"})
    assert patched.status_code == 200, patched.text
    started = client.post("/v1/skills/alert/start", headers=key_a, json={"message": "Hi"})
    assert started.status_code == 200, started.text
    report = client.get("/v1/skills/alert/report", headers=key_a).json()
    assert report["spend"]["budget"] == "0.05" and report["spend"]["spent"] == "0.00"
    assert "spent,,0,0.00,0.05,USD" in client.get(
        "/v1/skills/alert/report?format=csv", headers=key_a).text

    budget = client.put("/v1/budget", headers=key_a,
                        json={"monthly_budget": "10", "time_zone": "America/Chicago"})
    assert budget.status_code == 200, budget.text
    assert (budget.json()["currency"], budget.json()["monthly_budget"]) == ("USD", "10.00")
    assert client.get("/v1/budget", headers=key_b).json()["monthly_budget"] is None
    bad = client.put("/v1/budget", headers=key_a, json={"monthly_budget": "10",
                                                        "time_zone": "Mars/Olympus"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "time_zone"
