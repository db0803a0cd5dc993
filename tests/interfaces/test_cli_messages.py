"""Messages that help (issue 17): a refused bind says why, a busy port says so, a missing --bu
names the units, `psms skill status` fits 80 columns with every figure whole, and a finish is
never promised before the texts' calling window opens."""

from __future__ import annotations

import socket
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from typer.testing import CliRunner

from proactive_sms.domain.clock import ManualClock
from proactive_sms.interfaces.cli import app
from proactive_sms.interfaces.cli.skills import status_view
from proactive_sms.services import reporting
from tests.interfaces.cli_runner import database_url, sales_cli
from tests.services.dispatch_world import simulator


@pytest.fixture
def psms(tmp_path, monkeypatch):
    monkeypatch.delenv("PSMS_BU", raising=False)
    return sales_cli(tmp_path, monkeypatch)


def test_without_bu_several_units_are_named(psms):
    psms("init", "--tenant", "acme", "--bu", "marketing")
    out = psms("dnc", "check", "2125550143", code=2)
    assert "several business units: name one with --bu (marketing, sales)" in out
    assert "not on any DNC list" in psms("dnc", "check", "2125550143", "--bu", "sales")
    assert "no business unit 'nope'" in psms("dnc", "check", "2125550143", "--bu", "nope",
                                             code=2)


def test_before_init_the_message_says_to_run_init(tmp_path, monkeypatch):
    monkeypatch.setenv("PSMS_DATABASE_URL", database_url(tmp_path))
    monkeypatch.delenv("PSMS_BU", raising=False)
    result = CliRunner().invoke(app, ["skill", "status", "alert"])
    assert result.exit_code == 2
    assert "no business unit yet: run `psms init` first" in result.stderr


@pytest.fixture
def carrier():
    sim = simulator()
    yield sim
    sim.stop_in_thread()


def test_connection_test_says_why_a_bind_is_refused(psms, carrier):
    psms("connection", "add", "wrong-password", "--port", str(carrier.port),
         "--system-id", "psms", "--password", "typo123")
    out = psms("connection", "test", "wrong-password", code=1)
    assert "bind refused: wrong password" in out and "Traceback" not in out
    assert "typo123" not in out

    psms("connection", "add", "wrong-id", "--port", str(carrier.port),
         "--system-id", "nobody", "--password", "secret")
    assert "bind refused: unknown system_id" in psms("connection", "test", "wrong-id", code=1)

    psms("connection", "add", "right", "--port", str(carrier.port), "--system-id", "psms",
         "--password", "secret")
    assert "bound in" in psms("connection", "test", "right")


def test_connection_test_says_when_the_carrier_cannot_be_reached(psms):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    psms("connection", "add", "gone", "--port", str(port), "--system-id", "psms",
         "--password", "secret")
    out = psms("connection", "test", "gone", "--timeout", "5", code=1)
    assert "cannot connect or bind" in out and f"127.0.0.1:{port}" in out


def test_a_simulator_port_in_use_is_said_plainly():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["smsc-sim", "--port", str(port),
                                          "--control-port", "0"])
    assert result.exit_code == 1, result.output
    assert f"SMPP port {port} on 127.0.0.1 is in use" in result.stderr
    assert "--port" in result.stderr and "Traceback" not in result.output


def test_an_api_port_in_use_is_said_plainly_with_exit_code_1(psms):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = psms("serve", "--port", str(port), "--no-dispatch", code=1)
    assert f"API port {port} on 127.0.0.1 is in use" in out and "--port" in out


def _report(pending: int, waiting: int = 0, opens: datetime | None = None,
            rate_per_s: float | None = 250.0) -> reporting.Report:
    report = reporting.Report("skill bonus-shift", ["bonus-shift"], {"bonus-shift": "running"})
    report.by_state = Counter({"pending": pending, "sent": 1_234_567, "delivered": 1_200_004,
                               "failed": 3_210, "skipped": 45_678})
    report.total = sum(report.by_state.values())
    report.waiting, report.next_window_at = waiting, opens
    report.achieved_rate_per_s = rate_per_s
    return report


def _shown(report: reporting.Report, width: int, clock: ManualClock) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(status_view(report, width, clock), soft_wrap=width < 200)
    return console.export_text()


def test_skill_status_on_80_columns_cuts_no_figure_or_heading():
    clock = ManualClock()
    shown = _shown(_report(829_999), 80, clock)
    assert "…" not in shown
    for figure in ("829,999", "2,434,571", "1,200,004", "3,210", "45,678", "250.0"):
        assert figure in shown
    for heading in ("pending", "waiting", "next window", "sent", "delivered", "failed",
                    "uncertain", "skipped", "rate/s", "estimated finish"):
        assert f"{heading}:" in shown
    assert all(len(line) <= 80 for line in shown.splitlines())
    wide = _shown(_report(829_999), 200, clock)
    assert "│" in wide and "829,999" in wide and "estimated finish" in wide  # a table


def test_while_every_text_waits_the_status_says_when_sending_resumes():
    clock = ManualClock(datetime(2026, 3, 6, 22, 0, tzinfo=UTC))
    opens = datetime(2026, 3, 7, 8, 0)  # as SQLite gives it: naive UTC
    report = _report(1_000, waiting=1_000, opens=opens, rate_per_s=50.0)
    assert reporting.resumes_at(report, clock) == opens.replace(tzinfo=UTC)
    finish = reporting.estimated_finish(report, clock)
    assert finish == opens.replace(tzinfo=UTC) + timedelta(seconds=20)  # never before 08:00
    shown = _shown(report, 80, clock)
    assert "resumes 2026-03-07 08:00 UTC" in shown


def test_an_estimate_counts_held_texts_from_their_window_and_the_rest_from_now():
    clock = ManualClock(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    opens = datetime(2026, 3, 6, 13, 0, tzinfo=UTC)
    report = _report(300, waiting=100, opens=opens, rate_per_s=10.0)
    assert reporting.resumes_at(report, clock) is None  # 200 texts may go now
    assert reporting.estimated_finish(report, clock) == opens + timedelta(seconds=10)
    ready_only = _report(300, rate_per_s=10.0)
    assert reporting.estimated_finish(ready_only, clock) == clock.now() + timedelta(seconds=30)
    assert reporting.estimated_finish(_report(300, rate_per_s=None), clock) is None
