"""A dispatch worker's health port (`psms dispatch --health-port`): /healthz while it runs,
/readyz 200 while the database, its schema and the dispatcher are fine and 503 with the reason
when not, and nothing else answered. The server alone on the real store, then a real worker
process stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess

import httpx
import pytest
from sqlalchemy import text

from proactive_sms.domain.clock import SystemClock
from proactive_sms.interfaces.cli.health_server import HealthServer
from proactive_sms.services import administration
from proactive_sms.store.engine import open_engine
from tests.processes import PSMS, free_port, wait_until


async def _get(port: int, path: str, method: str = "GET") -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        return await client.request(method, path)


async def test_readyz_follows_the_database_the_schema_and_the_dispatcher(engine):
    state = {"dispatcher": "running", "worker_id": "w1", "codes": "3"}
    server = HealthServer(engine, lambda: dict(state))
    port = await server.start("127.0.0.1", 0)
    try:
        assert (await _get(port, "/healthz")).json() == {"status": "ok"}
        ready = await _get(port, "/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "problems": [], "checks": {
            "database": "ok", "schema": "current", "dispatcher": "running",
            "worker_id": "w1", "codes": "3"}}

        state["dispatcher"] = "stopping"  # SIGTERM: handing its codes over
        stopping = await _get(port, "/readyz")
        assert stopping.status_code == 503
        assert stopping.json()["problems"] == ["the dispatcher is stopping"]

        state["dispatcher"] = "running"
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        behind = await _get(port, "/readyz")
        assert behind.status_code == 503 and behind.json()["checks"]["schema"] == "behind"

        assert (await _get(port, "/metrics")).status_code == 404
        assert (await _get(port, "/readyz", "POST")).status_code == 405
    finally:
        await server.stop()


async def test_a_malformed_request_is_400_and_the_server_goes_on(sqlite_engine):
    server = HealthServer(sqlite_engine, lambda: {"dispatcher": "running"})
    port = await server.start("127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"NONSENSE\r\n\r\n")
        await writer.drain()
        assert (await reader.read()).startswith(b"HTTP/1.1 400 Bad Request\r\n")
        writer.close()
        assert (await _get(port, "/healthz")).status_code == 200
    finally:
        await server.stop()


@pytest.fixture
def database(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'psms.db'}"
    engine = open_engine(url)
    administration.init(engine, SystemClock(), "acme", "sales", "US")
    engine.dispose()
    return url


def test_a_dispatch_worker_answers_on_its_health_port_until_it_stops(tmp_path, database):
    port = free_port()
    log = tmp_path / "dispatch.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [*PSMS, "dispatch", "--worker-id", "edge-1", "--health-port", str(port)],
            env={**os.environ, "PSMS_DATABASE_URL": database}, stdout=out,
            stderr=subprocess.STDOUT)
    try:
        def ready():
            assert worker.poll() is None, log.read_text()
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            except httpx.TransportError:
                return None
            return answer if answer.status_code == 200 else None

        answer = wait_until(ready, 60, "the worker's /readyz")
        assert answer.json()["checks"]["worker_id"] == "edge-1"
        assert answer.json()["checks"]["dispatcher"] == "running"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, log.read_text()
        assert f"health checks on http://127.0.0.1:{port}/readyz" in log.read_text()
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_a_health_port_in_use_is_one_clear_line(tmp_path, database):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run([*PSMS, "dispatch", "--health-port", str(port)],
                              env={**os.environ, "PSMS_DATABASE_URL": database},
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert f"cannot serve health checks on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
