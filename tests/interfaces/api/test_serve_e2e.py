"""End to end over HTTP against real processes: the bundled SMSC simulator (`psms smsc-sim`) and
`psms serve`, on a fresh SQLite file, set up through the CLI as an operator would.

First `psms serve --no-dispatch`: the API accepts the list, the template, the skill and its start,
and nothing leaves. Then `psms serve` with its dispatcher on the same database: the skill is
followed to `finished` and its report (JSON and CSV) and /metrics are checked against the
simulator's log of accepted submits: every text once, with its rendered body. Both servers stop
cleanly on Ctrl-C and SIGTERM; nothing is left running.

The simulator is nobody's phone: the law's calling hours are lifted with PSMS_WINDOW_RULES (as
the demo does) and the skill's own window is the whole day, so the test runs at any hour.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import person, us_number
from tests.interfaces.api.conftest import csv_bytes
from tests.processes import Processes, free_port, port_open, psms_env, wait_until

pytestmark = pytest.mark.slow

PEOPLE = 25


@pytest.fixture
def processes(tmp_path) -> Iterator[Processes]:
    env = psms_env(f"sqlite:///{tmp_path / 'psms.db'}", PSMS_BU="sales")
    env.pop("PSMS_METRICS_TOKEN", None)
    running = Processes(env, tmp_path)
    yield running
    running.stop_all(timeout_s=15)
    assert all(p.poll() is not None for p in running.running)


def serve(processes: Processes, name: str, *options: str) -> tuple[subprocess.Popen, str]:
    return processes.start_serve(name, *options, timeout_s=30)


def submitted(log_path: Path) -> list[dict]:
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]


def test_a_skill_started_over_http_is_sent_once_per_record_and_reported(processes, tmp_path):
    smpp_port = free_port()
    sim_log = tmp_path / "submits.jsonl"
    simulator = processes.start("smsc-sim", "smsc-sim", "--port", str(smpp_port),
                                "--control-port", "0", "--receipt-delay", "0.05",
                                "--log", str(sim_log))
    wait_until(lambda: port_open(smpp_port), 30, "the simulator", interval_s=0.2)

    # The operator's part, with the CLI: tenant, BU, carrier connection, an API key.
    processes.psms("init", "--tenant", "acme", "--bu", "sales")
    processes.psms("connection", "add", "sim", "--port", str(smpp_port),
                   "--system-id", "psms", "--password", "secret")
    key = processes.psms("apikey", "create", "e2e").strip()
    auth = {"Authorization": f"Bearer {key}"}

    # The integration's part, over HTTP only; first with the API alone.
    api_only, base = serve(processes, "serve-api-only", "--no-dispatch")
    with httpx.Client(base_url=base, headers=auth, timeout=30) as http:
        assert http.post("/v1/registrations", json={
            "code": "55501", "kind": "short", "throughput_per_s": 50,
            "connection": "sim"}).status_code == 201
        rows = [person(i) for i in range(PEOPLE)] + [person(900, PhoneNumber="12")]
        imported = http.post("/v1/calling-lists/people/imports",
                             files={"file": ("people.csv", csv_bytes(rows), "text/csv")})
        assert imported.status_code == 200, imported.text
        assert (imported.json()["accepted"], imported.json()["rejected"]) == (PEOPLE, 1)
        assert http.put("/v1/templates/tip", json={
            "body": "Hi {FirstName}, new tip received.",
            "calling_list": "people"}).status_code == 200
        created = http.post("/v1/skills", json={
            "name": "tips", "registration": "55501", "calling_list": "people",
            "template": "tip",
            "calling_window": {"weekday": "00:00-24:00", "weekend": "00:00-24:00"}})
        assert created.status_code == 201, created.text
        start = {"Idempotency-Key": "e2e-start-1"}
        started = http.post("/v1/skills/tips/start", json={}, headers=start)
        assert started.status_code == 200, started.text
        assert (started.json()["status"], started.json()["pending"]) == ("running", PEOPLE)
        again = http.post("/v1/skills/tips/start", json={}, headers=start)
        assert again.json() == started.json()

        time.sleep(2)  # with no dispatcher in the process, nothing may leave
        assert http.get("/v1/skills/tips/progress").json()["pending"] == PEOPLE
        assert submitted(sim_log) == []
    assert processes.stop(api_only, signal.SIGINT) == 0  # Ctrl-C

    # The same database served with its dispatcher: the skill runs to the end.
    dispatching, base = serve(processes, "serve")
    with httpx.Client(base_url=base, headers=auth, timeout=30) as http:
        def finished() -> dict | None:
            progress = http.get("/v1/skills/tips/progress").json()
            return progress if progress["status"] == "finished" else None

        progress = wait_until(finished, 120, "the skill to finish", interval_s=0.5)
        assert (progress["delivered"], progress["pending"], progress["failed"]) == (
            PEOPLE, 0, 0)
        report = http.get("/v1/skills/tips/report").json()
        as_csv = http.get("/v1/skills/tips/report", params={"format": "csv"})
        families = {f.name: f for f in text_string_to_metric_families(
            httpx.get(f"{base}/metrics").text)}
    assert processes.stop(dispatching) == 0
    assert "stopped" in processes.log("serve")

    # What the carrier saw: every record's number once, with its own text.
    at_carrier = submitted(sim_log)
    by_number = Counter(s["destination_addr"].lstrip("+") for s in at_carrier)
    assert by_number == Counter({"1" + us_number(i): 1 for i in range(PEOPLE)})
    assert {s["text"] for s in at_carrier} == {
        f"Hi Ann{i}, new tip received." for i in range(PEOPLE)}

    assert report["by_state"]["delivered"] == len(at_carrier) == PEOPLE
    assert report["delivery_rate"] == 1.0 and report["statuses"] == {"tips": "finished"}
    lines = {(r["state"], r["skip_reason"]): int(r["messages"])
             for r in csv.DictReader(io.StringIO(as_csv.text))}
    assert lines[("delivered", "")] == PEOPLE
    texts = {tuple(sorted(s.labels.items())): s.value for s in families["psms_texts"].samples}
    assert texts[(("code", "55501"), ("state", "delivered"))] == PEOPLE

    processes.stop(simulator)
