"""`psms smsc-sim` / `python -m proactive_sms.carriers.smsc_sim`: serve, inject, stats, stop."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from pathlib import Path

from typer.testing import CliRunner

from proactive_sms.carriers.smsc_sim import SimulatorControl, pdu
from proactive_sms.interfaces.cli.smsc_sim import app

from .esme import bound

MODULE = "proactive_sms.carriers.smsc_sim"
BANNER = re.compile(r"SMPP on 127\.0\.0\.1:(?P<port>\d+) .*control (?P<control>http://\S+?)[,\s]")


async def _cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", MODULE, *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_serve_in_foreground_inject_stats_and_stop_on_sigterm(tmp_path: Path) -> None:
    log_path = tmp_path / "submits.jsonl"
    config_json = tmp_path / "knobs.json"
    config_json.write_text(json.dumps({"message_id_format": "hex", "message_id_start": 255}))
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", MODULE, "--port", "0", "--control-port", "0",
        "--system-id", "acme", "--password", "pw", "--receipt-delay", "0.01",
        "--log", str(log_path), "--config-json", str(config_json),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        banner = (await asyncio.wait_for(server.stdout.readline(), 20)).decode()
        match = BANNER.search(banner)
        assert match, banner
        port, control = int(match["port"]), match["control"]

        esme = await bound(port, command=pdu.BIND_TRANSMITTER, system_id="acme", password="pw")
        assert (await esme.submit(registered_delivery=0)).message_id == "FF"
        await esme.close()

        code, out, _ = await _cli(
            "inject", "--from", "+15551234567", "--to", "12345", "--text", "hi",
            "--control", control, "--wait", "0.05",
        )  # fmt: skip
        assert code == 0
        assert "+1******4567" in out and "5551234567" not in out
        assert "pending" in out

        code, out, _ = await _cli("stats", "--control", control)
        assert code == 0
        stats = json.loads(out)
        assert stats["accepted"] == 1
        assert stats["config"]["credentials"] == {"acme": "***"}

        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), 10) == 0
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    assert len(log_path.read_text().splitlines()) == 1


async def test_sigint_stops_cleanly_too() -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", MODULE, "--port", "0", "--control-port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert server.stdout is not None
    assert b"SMSC simulator" in await asyncio.wait_for(server.stdout.readline(), 20)
    server.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(server.wait(), 10) == 0


def test_bad_config_json_is_refused_with_the_knob_named(tmp_path: Path) -> None:
    config_json = tmp_path / "knobs.json"
    config_json.write_text(json.dumps({"queue_full_ratio": 2}))
    result = CliRunner().invoke(app, ["--config-json", str(config_json), "--port", "0"])
    assert result.exit_code == 2
    assert "queue_full_ratio" in result.output


def test_stats_against_nothing_fails_with_a_message() -> None:
    result = CliRunner().invoke(app, ["stats", "--control", "http://127.0.0.1:1"])
    assert result.exit_code == 1
    assert "cannot reach" in result.output


def test_control_client_default_url_matches_the_cli_default() -> None:
    assert SimulatorControl().base_url == "http://127.0.0.1:2776"
