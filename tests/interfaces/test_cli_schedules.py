"""`psms skill start --at/--tz`, `skill reschedule/unschedule`, `skill status` of a scheduled
skill, and `psms schedule …` with its history; on every database of the run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from proactive_sms.domain.clock import ManualClock
from proactive_sms.interfaces.cli import app
from proactive_sms.services.schedule_firing import ScheduleFiring
from tests.factories import person, write_csv


@pytest.fixture
def psms(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("PSMS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (args, result.output, result.exception)
        return json.loads(result.stdout) if "--json" in args and code == 0 else result.output

    run("init", "--tenant", "acme", "--bu", "sales", "--time-zone", "America/Chicago")
    run("registration", "add", "55501", "--kind", "short", "--throughput", "10")
    path = write_csv(tmp_path / "people.csv", (person(i) for i in range(3)))
    run("list", "import", str(path), "--name", "people")
    run("template", "add", "tip", "--text", "Hi {FirstName}, new tip.", "--list", "people")
    run("skill", "create", "tips", "--registration", "55501", "--list", "people")
    return run


def test_a_skill_is_scheduled_shown_moved_and_unscheduled(psms):
    done = psms("skill", "start", "tips", "--template", "tip", "--at", "2030-01-07T09:00",
                "--tz", "America/Chicago", "--json")
    assert done["status"] == "scheduled"
    assert done["start_at"] == "2030-01-07T15:00:00+00:00"
    assert done["local_start"] == "2030-01-07 09:00 CST"
    listed = psms("skill", "list")
    assert "scheduled" in listed and "2030-01-07 09:00 CST" in listed
    shown = psms("skill", "show", "tips", "--json")
    assert (shown["status"], shown["start_state"]) == ("scheduled", "waiting")
    status = psms("skill", "status", "tips", "--json")
    assert (status["status"], status["start_at"], status["start_time_zone"]) == (
        "scheduled", "2030-01-07T15:00:00+00:00", "America/Chicago")
    assert (status["local_start"], status["start_state"]) == ("2030-01-07 09:00 CST", "waiting")
    assert ("starts 2030-01-07 09:00 CST (America/Chicago; 2030-01-07 15:00 UTC)"
            in psms("skill", "status", "tips"))
    # A second move from the same version loses (exit 1); a start now is refused (exit 2).
    psms("skill", "reschedule", "tips", "--at", "2030-01-08T10:00", "--tz", "America/Chicago",
         "--version", str(done["version"]))
    out = psms("skill", "reschedule", "tips", "--at", "2030-01-09T10:00", "--version",
               str(done["version"]), "--tz", "America/Chicago", code=1)
    assert "changed by someone else" in out
    assert "cancel or move" in psms("skill", "start", "tips", code=2)
    out = psms("skill", "unschedule", "tips")
    assert "draft again" in out
    assert psms("skill", "show", "tips", "--json")["status"] == "draft"
    status = psms("skill", "status", "tips", "--json")
    assert (status["start_at"], status["local_start"], status["start_state"]) == (
        None, None, "cancelled")
    assert "starts" not in psms("skill", "status", "tips")


def test_a_past_moment_or_a_missing_zone_is_refused_with_exit_2(psms):
    out = psms("skill", "start", "tips", "--template", "tip", "--at", "2020-01-07T09:00",
               "--tz", "America/Chicago", code=2)
    assert "in the past" in out
    out = psms("skill", "start", "tips", "--template", "tip", "--at", "2030-01-07T09:00",
               code=2)
    assert "no UTC offset" in out
    assert psms("skill", "show", "tips", "--json")["status"] == "draft"


def test_a_recurring_notice_is_created_listed_paused_resumed_and_deleted(psms):
    made = psms("schedule", "create", "daily-tip", "--template", "tip", "--list", "people",
                "--registration", "55501", "--every", "weekday", "--at", "09:00", "--json")
    assert made["describe"] == "every weekday at 09:00 (America/Chicago)"
    assert made["status"] == "active" and made["next_run_at"]
    assert "daily-tip" in psms("schedule", "list")
    paused = psms("schedule", "pause", "daily-tip", "--json")
    assert paused["status"] == "paused" and paused["next_run_at"] is None
    out = psms("schedule", "resume", "daily-tip", "--version", str(made["version"]), code=1)
    assert "changed by someone else" in out
    assert "active" in psms("schedule", "resume", "daily-tip")
    changed = psms("schedule", "change", "daily-tip", "--cron", "30 8 * * 1", "--json")
    assert changed["describe"] == "every monday at 08:30 (America/Chicago)"
    assert psms("schedule", "history", "daily-tip", "--json") == []
    out = psms("template", "remove", "tip", code=1)
    assert "schedule daily-tip" in out
    psms("schedule", "delete", "daily-tip")
    assert psms("schedule", "list", "--json") == []


def test_a_bad_cron_is_refused_naming_it(psms):
    out = psms("schedule", "create", "x", "--template", "tip", "--list", "people",
               "--registration", "55501", "--cron", "61 9 * * *", code=2)
    assert "cron '61 9 * * *' is not valid" in out


def test_a_schedules_history_is_shown_in_its_zone(psms, engine):
    psms("schedule", "create", "daily-tip", "--template", "tip", "--list", "people",
         "--registration", "55501", "--every", "day", "--at", "09:00", "--tz", "Asia/Tokyo")
    made = psms("schedule", "show", "daily-tip", "--json")
    due = datetime.fromisoformat(made["next_run_at"])
    assert due.utcoffset() == timedelta(hours=9) and (due.hour, due.minute) == (9, 0)
    clock = ManualClock(due.astimezone(UTC))  # clocks tell UTC
    assert [f.outcome for f in ScheduleFiring(engine, clock, "w").run_due()] == ["started"]
    (run,) = psms("schedule", "history", "daily-tip", "--json")
    assert (run["due_at"], run["fired_at"], run["time_zone"]) == (
        due.isoformat(), due.isoformat(), "Asia/Tokyo")
    assert run["skill"] == f"daily-tip-{due:%Y%m%d}-0900"
    out = psms("schedule", "history", "daily-tip")
    assert f"{due:%Y-%m-%d} 09:00 JST" in out and "UTC" not in out


def test_a_missed_start_is_told_by_skill_status(psms, engine):
    psms("skill", "start", "tips", "--template", "tip", "--at", "2030-01-07T09:00", "--tz",
         "America/Chicago")
    late = ManualClock(datetime(2030, 1, 7, 16, 0, tzinfo=UTC))  # an hour late: past the grace
    assert [f.outcome for f in ScheduleFiring(engine, late, "w").run_due()] == ["missed"]
    out = psms("skill", "status", "tips")
    assert "scheduled start missed: no dispatcher ran from 2030-01-07 15:00 UTC" in out
    status = psms("skill", "status", "tips", "--json")
    assert (status["status"], status["start_at"], status["start_state"]) == (
        "draft", None, "missed")
