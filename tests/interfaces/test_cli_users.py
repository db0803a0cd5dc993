"""`psms user create/list/disable/enable/reset-password` and `psms init --admin`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from proactive_sms.domain.clock import SystemClock
from proactive_sms.interfaces.cli import app
from proactive_sms.services import console_users
from proactive_sms.services.console_users import SignInRefused
from proactive_sms.store.engine import open_engine
from tests.interfaces.cli_runner import database_url, sales_cli


@pytest.fixture
def psms(tmp_path, monkeypatch):
    return sales_cli(tmp_path, monkeypatch)


def _signs_in(tmp_path, username: str, password: str) -> bool:
    engine = open_engine(database_url(tmp_path))
    try:
        console_users.authenticate(engine, SystemClock(), username, password, "127.0.0.1")
        return True
    except SignInRefused:
        return False
    finally:
        engine.dispose()


def test_a_created_users_generated_password_is_printed_once_alone_on_stdout(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv("PSMS_DATABASE_URL", database_url(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--tenant", "acme", "--bu", "sales"]).exit_code == 0
    created = runner.invoke(app, ["user", "create", "maria", "--role", "supervisor"])
    assert created.exit_code == 0, created.output
    password = created.stdout.strip()
    assert len(password) >= console_users.MIN_PASSWORD_LENGTH and "\n" not in password
    assert _signs_in(tmp_path, "maria", password)
    listed = runner.invoke(app, ["user", "list"])
    assert "maria" in listed.output and "supervisor" in listed.output
    assert password not in listed.output


def test_a_password_from_stdin_must_follow_the_policy(psms, tmp_path):
    runner = CliRunner()
    short = runner.invoke(app, ["user", "create", "ben", "--role", "admin", "--password-stdin"],
                          input="short\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    good = runner.invoke(app, ["user", "create", "ben", "--role", "admin", "--password-stdin"],
                         input="a long enough password\n")
    assert good.exit_code == 0 and good.stdout == ""  # nothing to show: the person chose it
    assert _signs_in(tmp_path, "ben", "a long enough password")


def test_an_agent_user_needs_an_agent_of_the_unit(psms):
    assert "an agent user must name their agent" in psms("user", "create", "ana", "--role",
                                                         "agent", code=2)
    assert "no agent 'ana'" in psms("user", "create", "ana", "--role", "agent", "--agent",
                                    "ana", code=2)
    psms("agent", "create", "ana")
    psms("user", "create", "ana", "--role", "agent", "--agent", "ana")
    assert "ana" in psms("user", "list")


def test_disable_enable_and_reset_password(psms, tmp_path):
    runner = CliRunner()
    password = runner.invoke(app, ["user", "create", "maria", "--role", "supervisor"]
                             ).stdout.strip()
    assert "disabled" in psms("user", "disable", "maria")
    assert not _signs_in(tmp_path, "maria", password)
    assert "disabled" in psms("user", "list")
    psms("user", "enable", "maria")
    reset = runner.invoke(app, ["user", "reset-password", "maria"])
    assert reset.exit_code == 0
    new_password = reset.stdout.strip()
    assert new_password != password
    assert _signs_in(tmp_path, "maria", new_password)
    assert "no console user 'nobody'" in psms("user", "disable", "nobody", code=2)


def test_init_admin_creates_the_first_admin_with_a_password_printed_once(tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("PSMS_DATABASE_URL", database_url(tmp_path))
    monkeypatch.delenv("PSMS_ADMIN_PASSWORD", raising=False)
    runner = CliRunner()
    first = runner.invoke(app, ["init", "--tenant", "acme", "--bu", "sales", "--admin", "boss"])
    assert first.exit_code == 0, first.output
    password = first.stdout.strip()
    assert _signs_in(tmp_path, "boss", password)
    again = runner.invoke(app, ["init", "--tenant", "acme", "--bu", "sales", "--admin", "boss"])
    assert again.exit_code == 0 and again.stdout == ""
    assert "left unchanged" in again.output
    assert _signs_in(tmp_path, "boss", password)


def test_init_admin_takes_the_password_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PSMS_DATABASE_URL", database_url(tmp_path))
    monkeypatch.setenv("PSMS_ADMIN_PASSWORD", "from the environment")
    done = CliRunner().invoke(app, ["init", "--bu", "sales", "--admin", "boss"])
    assert done.exit_code == 0 and done.stdout == ""
    assert _signs_in(tmp_path, "boss", "from the environment")
