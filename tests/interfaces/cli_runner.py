"""`psms` run in-process (Typer's CliRunner) on a fresh SQLite database with BU sales."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proactive_sms.interfaces.cli import app


def sales_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """A `run(*args, code=0)` that asserts the exit code and returns the output."""
    monkeypatch.setenv("PSMS_DATABASE_URL", database_url(tmp_path))
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output

    run("init", "--tenant", "acme", "--bu", "sales")
    return run


def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"
