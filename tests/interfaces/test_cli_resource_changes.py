"""Issue 17 in the CLI: show / change / remove (and `template list`) for connections,
registrations, templates, the webhook, agents, console users and API keys, each with `--json`
and the documented exit codes: 0 done, 1 refused (in use), 2 bad input or unknown name."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from proactive_sms.domain.clock import SystemClock
from proactive_sms.interfaces.cli import app
from proactive_sms.services import administration, audit
from proactive_sms.store.engine import open_engine
from tests.factories import import_people, skill
from tests.interfaces.cli_runner import database_url


@pytest.fixture
def psms(tmp_path, monkeypatch):
    """`psms(*args, code=0)`: runs the command, asserts its exit code, returns its stdout (its
    JSON parsed when it was asked for with --json)."""
    monkeypatch.setenv("PSMS_DATABASE_URL", database_url(tmp_path))
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (args, result.output, result.exception)
        return json.loads(result.stdout) if "--json" in args and code == 0 else result.output

    run("init", "--tenant", "acme", "--bu", "sales")
    run("connection", "add", "carrier", "--system-id", "psms", "--password", "secret")
    run("registration", "add", "55502", "--kind", "short", "--throughput", "10",
        "--connection", "carrier")
    run("template", "add", "hello", "--text", "Hi {FirstName}")
    run("webhook", "set", "https://hooks.example.com/in")
    run("agent", "create", "ann")
    run("user", "create", "sue", "--role", "supervisor")
    run("apikey", "create", "spare")
    return run


@pytest.fixture
def engine(tmp_path):
    found = open_engine(database_url(tmp_path))
    yield found
    found.dispose()


def test_show_answers_json_with_the_version(psms):
    assert psms("connection", "show", "carrier", "--json") == {
        "name": "carrier", "kind": "smpp", "address": "smpp://psms@127.0.0.1:2775",
        "host": "127.0.0.1", "port": 2775, "system_id": "psms", "window_size": 10,
        "enquire_link_s": None, "version": 1}
    assert psms("registration", "show", "55502", "--json")["throughput_per_s"] == 10
    assert psms("template", "list", "--json") == [{
        "name": "hello", "body": "Hi {FirstName}", "direction": "auto",
        "smart_encoding": False, "bidi_marks": "auto", "version": 1}]
    assert psms("agent", "show", "ann", "--json")["availability"] == "offline"
    assert psms("user", "show", "sue", "--json")["role"] == "supervisor"
    assert psms("apikey", "show", "spare", "--json")["active"] is True
    assert "secret" not in json.dumps(psms("connection", "show", "carrier", "--json"))


@pytest.mark.parametrize(("args", "field", "value"), [
    (("connection", "change", "carrier", "--host", "10.0.0.6"), "host", "10.0.0.6"),
    (("registration", "change", "55502", "--throughput", "20"), "throughput_per_s", 20.0),
    (("template", "change", "hello", "--direction", "rtl"), "direction", "rtl"),
    (("webhook", "change", "--inactive"), "active", False),
    (("agent", "change", "ann", "--max-open", "3"), "max_open_conversations", 3),
    (("user", "change", "sue", "--role", "admin"), "role", "admin"),
    (("apikey", "change", "spare", "--name", "backup"), "name", "backup"),
])
def test_change_answers_json_with_the_new_value_and_version(psms, args, field, value):
    changed = psms(*args, "--json")
    assert changed[field] == value
    assert changed["version"] == 2


@pytest.mark.parametrize("args", [
    ("connection", "change", "carrier", "--window", "0"),
    ("connection", "change", "carrier"),
    ("registration", "change", "55502", "--throughput", "5000"),
    ("registration", "change", "55502", "--connection", "nowhere"),
    ("template", "change", "hello", "--text", "Hi {FirstName"),
    ("webhook", "change", "--url", "ftp://hooks.example.com/in"),
    ("agent", "change", "ann", "--max-open", "0"),
    ("user", "change", "sue", "--role", "agent"),
    ("apikey", "change", "spare", "--name", " "),
    ("template", "remove", "nothing-of-that-name"),
    ("user", "show", "nobody"),
])
def test_bad_input_or_an_unknown_name_exits_2_and_changes_nothing(psms, args):
    before = psms("template", "list", "--json"), psms("connection", "show", "carrier", "--json")
    output = psms(*args, code=2)
    assert "error:" in output
    assert (psms("template", "list", "--json"),
            psms("connection", "show", "carrier", "--json")) == before


def test_removal_deletes_what_nothing_refers_to(psms):
    assert psms("registration", "remove", "55502", "--json") == {
        "kind": "registration", "key": "55502", "outcome": "deleted", "kept_for": []}
    for args in (("connection", "remove", "carrier"), ("template", "remove", "hello"),
                 ("agent", "remove", "ann")):
        assert psms(*args, "--json")["outcome"] == "deleted"
        psms(*args, code=2)  # gone: a second removal names what is unknown
    assert psms("user", "remove", "sue", "--json") == {"username": "sue", "removed": True}
    assert psms("apikey", "remove", "spare", "--json")["active"] is False
    assert psms("template", "list", "--json") == []


def test_removing_what_a_draft_skill_uses_exits_1_naming_it(psms, engine, tmp_path):
    clock = SystemClock()
    unit = administration.business_unit(engine, "sales")
    import_people(engine, unit, clock, tmp_path, 2)
    skill(engine, unit, clock, code="55502", template_name="hello")
    for args in (("registration", "remove", "55502"), ("template", "remove", "hello"),
                 ("connection", "remove", "carrier")):
        output = psms(*args, code=1)
        assert "in use by" in output
        assert "notice (draft)" in output or "registration 55502" in output
    assert psms("registration", "show", "55502", "--json")["code"] == "55502"


def test_cli_changes_are_audited_as_the_cli(psms, engine):
    psms("template", "change", "hello", "--text", "Hello {FirstName}")
    psms("apikey", "remove", "spare")
    unit = administration.business_unit(engine, "sales")
    entries = {(e.action, e.target, e.username) for e in audit.entries(engine, unit).entries}
    assert ("template.changed", "hello", audit.CLI_USERNAME) in entries
    assert ("api_key.revoked", "spare", audit.CLI_USERNAME) in entries
