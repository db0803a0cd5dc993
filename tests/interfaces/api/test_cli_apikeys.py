"""`psms apikey create/list/revoke`, and `psms serve` answering over a real socket."""

from __future__ import annotations

import os
import subprocess
import urllib.request

from typer.testing import CliRunner

from proactive_sms.interfaces.cli import app
from proactive_sms.services import api_keys
from proactive_sms.store.engine import open_engine
from tests.processes import PSMS, free_port, healthy, wait_until


def test_a_key_is_shown_once_listed_without_its_secret_and_revoked(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PSMS_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--tenant", "acme", "--bu", "sales"]).exit_code == 0

    created = runner.invoke(app, ["apikey", "create", "dialer"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith(api_keys.SECRET_PREFIX)
    engine = open_engine(url)
    assert api_keys.authenticate(engine, secret).name == "sales"

    listed = runner.invoke(app, ["apikey", "list"])
    assert "dialer" in listed.output and secret not in listed.output
    assert runner.invoke(app, ["apikey", "create", "dialer"]).exit_code == 2  # name taken
    assert runner.invoke(app, ["apikey", "revoke", "dialer"]).exit_code == 0
    assert api_keys.authenticate(engine, secret) is None
    assert runner.invoke(app, ["apikey", "revoke", "nope"]).exit_code == 2
    engine.dispose()


def test_psms_serve_answers_health_and_openapi(tmp_path):
    port = free_port()
    env = {**os.environ, "PSMS_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    server = subprocess.Popen([*PSMS, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def answering() -> bool:
            assert server.poll() is None, server.stdout.read().decode()
            return healthy(f"http://127.0.0.1:{port}")

        wait_until(answering, 20, "psms serve to answer /healthz", interval_s=0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=30) as r:
            assert b"/v1/skills" in r.read()
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert server.returncode == 0, output
    assert "dispatcher" in output and "stopped" in output  # ran beside the API, stopped clean
