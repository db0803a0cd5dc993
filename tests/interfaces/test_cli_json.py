"""`--json` on the commands that show something, and the exit codes of issue 17 (0 done, 1 failed,
2 usage or bad input), run in-process on a real SQLite database.

Each `--json` answer is parsed from stdout alone (messages go to stderr), so a script can pipe it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from proactive_sms.interfaces.cli import app
from tests.factories import person, us_number, write_csv
from tests.interfaces.cli_runner import database_url


@dataclass
class Ran:
    code: int
    out: str  # stdout alone
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def psms(tmp_path, monkeypatch):
    monkeypatch.setenv("PSMS_DATABASE_URL", database_url(tmp_path))
    monkeypatch.delenv("PSMS_BU", raising=False)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Ran:
        result = runner.invoke(app, list(args))
        ran = Ran(result.exit_code, result.stdout, result.stderr)
        assert ran.code == code, (args, result.output, result.exception)
        return ran

    run("init", "--tenant", "acme", "--bu", "sales")
    return run


@pytest.fixture
def world(psms, tmp_path):
    """A list of three people, a code, a template and a skill that is not started."""
    path = write_csv(tmp_path / "people.csv", [person(i) for i in range(3)])
    psms("list", "import", str(path), "--name", "people")
    psms("registration", "add", "55501", "--kind", "short", "--throughput", "100")
    psms("template", "add", "hello", "--text", "Hi {FirstName}, bonus shift tonight",
         "--list", "people")
    psms("skill", "create", "alert", "--registration", "55501", "--list", "people",
         "--template", "hello", "--weekday-hours", "00:00-24:00",
         "--weekend-hours", "00:00-24:00")
    return psms


def test_list_import_json_counts_rows(psms, tmp_path):
    path = write_csv(tmp_path / "p.csv", [person(1), person(2, PhoneNumber="12")])
    data = psms("list", "import", str(path), "--name", "p", "--json").json()
    assert (data["rows_read"], data["accepted"], data["rejected"]) == (2, 1, 1)
    assert data["errors"][0]["line"] == 3 and data["records_in_list"] == 1


def test_a_list_file_with_no_good_row_exits_2(psms, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [person(1, PhoneNumber="12")])
    ran = psms("list", "import", str(path), "--name", "bad", code=2)
    assert "no row of the file was accepted" in ran.err


def test_registration_and_connection_lists_as_json(psms):
    psms("connection", "add", "carrier", "--system-id", "acme", "--password", "pw")
    psms("registration", "add", "55501", "--kind", "short", "--throughput", "100",
         "--connection", "carrier")
    (conn,) = psms("connection", "list", "--json").json()
    assert conn["name"] == "carrier" and conn["system_id"] == "acme"
    assert "password" not in conn and conn["last_error"] is None
    assert conn["state"] == "no report"  # no dispatcher has run it yet
    (reg,) = psms("registration", "list", "--json").json()
    assert reg["code"] == "+55501" or reg["code"].endswith("55501")
    assert (reg["kind"], reg["throughput_per_s"], reg["pace"]) == ("short", 100, None)


def test_template_show_add_and_preview_as_json(world):
    shown = world("template", "show", "hello", "--json").json()
    assert shown["name"] == "hello" and shown["body"].startswith("Hi {FirstName}")
    assert shown["preview"]["encoding"] == "gsm7" and shown["preview"]["segments"] == 1
    saved = world("template", "add", "bye", "--text", "Bye ☕", "--json").json()
    assert saved["saved"] and saved["preview"]["encoding"] == "ucs2"
    preview = world("template", "preview", "hello", "--list", "people", "--json").json()
    assert preview["rendered"] == "Hi Ann0, bonus shift tonight"
    assert preview["record"] == "P000000" or preview["record"]


def test_previewing_a_record_that_does_not_exist_exits_2(world):
    ran = world("template", "preview", "hello", "--list", "people", "--record", "NOPE", code=2)
    assert "no record 'NOPE' in calling list 'people'" in ran.err
    ran = world("template", "preview", "hello", "--list", "people", "--record", "NOPE",
                "--json", code=2)
    assert ran.json()["rendered"] is None  # the JSON still says what could be shown
    assert "--record needs --list" in world("template", "preview", "hello", "--record", "X",
                                            code=2).err


def test_a_preview_that_cannot_render_exits_2_and_names_the_field(world):
    ran = world("template", "preview", "--text", "Hi {Nickname}", "--list", "people", code=2)
    assert "the text cannot be rendered" in ran.err and "Nickname" in ran.err
    data = world("template", "preview", "--text", "Hi {Nickname}", "--list", "people", "--json",
                 code=2).json()
    assert data["rendered"] is None and any("Nickname" in p for p in data["problems"])


def test_dnc_add_remove_check_as_json_and_exit_codes(psms):
    number = us_number(7)
    added = psms("dnc", "add", number, "nonsense", "--json").json()
    assert added == {"list": "default", "changed": 1, "invalid": ["nonsense"]}
    ran = psms("dnc", "add", "nonsense", "12", code=2)  # only invalid numbers: nothing to do
    assert "none of the numbers given is a valid phone number" in ran.err
    assert psms("dnc", "check", number, "--json", code=1).json() == {
        "on_dnc": True, "lists": ["default"]}
    removed = psms("dnc", "remove", number, "--json").json()
    assert removed["changed"] == 1
    assert psms("dnc", "check", number, "--json").json() == {"on_dnc": False, "lists": []}
    psms("dnc", "remove", "nonsense", code=2)


def test_dnc_import_json_and_a_file_without_one_good_line_exits_2(psms, tmp_path):
    good = tmp_path / "dnc.csv"
    good.write_text(f"Phone\n{us_number(1)}\nnot-a-number\n", encoding="utf-8")
    data = psms("dnc", "import", str(good), "--json").json()
    assert (data["rows_read"], data["added"], data["rejected"]) == (2, 1, 1)
    assert data["errors"][0]["line"] == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("Phone\nnot-a-number\n12\n", encoding="utf-8")
    assert "no line of bad.csv holds a valid number" in psms("dnc", "import", str(bad),
                                                            code=2).err


def test_skill_start_and_status_as_json(world):
    started = world("skill", "start", "alert", "--json").json()
    assert (started["status"], started["pending"], started["already_started"]) == (
        "running", 3, False)
    status = world("skill", "status", "alert", "--json").json()
    assert (status["skill"], status["status"], status["pending"], status["sent"]) == (
        "alert", "running", 3, 0)
    assert status["estimated_finish"] is None and status["resumes_at"] is None
    again = world("skill", "start", "alert", "--json").json()
    assert again["already_started"] and again["status"] == "running"


def test_starting_a_paused_or_stopped_skill_fails_with_exit_1(world):
    world("skill", "start", "alert")
    world("skill", "pause", "alert")
    ran = world("skill", "start", "alert", code=1)
    assert "skill alert is paused: not started (psms skill resume)" in ran.err
    world("skill", "stop", "alert")
    assert "skill alert is stopped: not started" in world("skill", "start", "alert",
                                                          code=1).err
    assert world("skill", "start", "alert", "--json", code=1).json()["status"] == "stopped"
    # A change the skill's state does not allow is refused the same way.
    assert "cannot pause a skill that is stopped" in world("skill", "pause", "alert",
                                                           code=1).err


def test_report_json_and_unknown_names_exit_2(world):
    world("skill", "start", "alert")
    data = world("report", "--skill", "alert", "--json").json()
    assert data["by_state"]["pending"] == 3
    assert "no skill 'ghost'" in world("skill", "status", "ghost", code=2).err
    world("skill", "status", "alert", "--no-such-option", code=2)  # usage error


def test_agents_inbox_reviews_keys_and_users_as_json(world):
    world("agent", "create", "ann", "--skill", "alert", "--availability", "available")
    (agent,) = world("agent", "list", "--json").json()
    assert (agent["name"], agent["availability"], agent["skills"]) == (
        "ann", "available", ["alert"])
    assert world("agent", "status", "ann", "--json").json()[0]["open_conversations"] == 0
    assert world("agent", "status", "ann", "away", "--json").json()["availability"] == "away"
    assert world("agent", "skills", "ann", "--json").json() == {"name": "ann",
                                                               "skills": ["alert"]}
    assert world("agent", "conversations", "--json").json() == []
    assert world("agent", "conversations", "ann", "--json").json() == []
    assert world("agent", "report", "--json").json()["conversations"] == 0
    assert world("inbox", "list", "--json").json() == []
    assert world("review", "list", "--json").json() == []
    world("apikey", "create", "ops")
    (key,) = world("apikey", "list", "--json").json()
    assert key["name"] == "ops" and key["revoked_at"] is None and "secret" not in key
    world("user", "create", "boss", "--role", "supervisor")
    (user,) = world("user", "list", "--json").json()
    assert (user["username"], user["role"], user["disabled_at"]) == ("boss", "supervisor", None)


def test_cadence_set_show_next_and_record_as_json(world, tmp_path):
    world("skill", "create", "calls", "--kind", "agent", "--registration", "55501",
          "--list", "people")
    assert world("cadence", "show", "calls", "--json").json() is None  # none set yet
    path = tmp_path / "cadence.json"
    path.write_text(json.dumps({"steps": [{"channel": "voice", "max_attempts": 2}],
                                "dispositions": ["sale"], "ends_on": ["sale"]}))
    saved = world("cadence", "set", "calls", "--file", str(path), "--json").json()
    assert [s["channel"] for s in saved["steps"]] == ["voice"] and saved["ends_on"] == [
        "dnc", "sale"]
    assert world("cadence", "show", "calls", "--json").json() == saved
    world("skill", "start", "calls")
    attempts = world("cadence", "next", "calls", "--limit", "2", "--json").json()
    assert len(attempts) == 2 and attempts[0]["phone"].startswith("+1******")
    where = world("cadence", "record", "calls", attempts[0]["record"], "--json").json()
    assert (where["step"], where["done"], where["in_call"]) == (1, False, True)


def test_webhook_show_and_deliveries_as_json(world, monkeypatch):
    monkeypatch.setenv("PSMS_WEBHOOK_ALLOW_INTERNAL", "127.0.0.1")
    world("webhook", "set", "http://127.0.0.1:9/hooks", "--events", "opt_out")
    shown = world("webhook", "show", "--json").json()
    assert (shown["url"], shown["event_types"], shown["active"]) == (
        "http://127.0.0.1:9/hooks", ["opt_out"], True)
    assert "secret" not in shown
    assert world("webhook", "deliveries", "--json").json() == {"items": [],
                                                               "next_cursor": None}
    # Nothing listens on port 9: the ping is not taken, and the command says it failed.
    ran = world("webhook", "test", "--json", code=1)
    (delivery,) = ran.json()
    assert delivery["type"] == "webhook.ping" and delivery["attempts"][0]["outcome"] != \
        "delivered"


def test_version_and_usage_errors(psms):
    assert psms("--version").out.strip().startswith("psms ")
    psms("dnc", "frobnicate", code=2)
