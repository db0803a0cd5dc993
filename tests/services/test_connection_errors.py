"""A connection whose bind is refused for a wrong password says so where an operator looks: the
dispatcher's log, the connection's record (`psms connection list`, the API), cleared once bound."""

from __future__ import annotations

import asyncio
import logging

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services.dispatch import Dispatcher
from proactive_sms.store.engine import open_engine
from proactive_sms.store.registrations import find_connection
from tests.interfaces.cli_runner import database_url, sales_cli
from tests.services.dispatch_world import FAST, simulator


async def test_a_wrong_password_is_named_in_the_log_the_record_and_the_cli(tmp_path, monkeypatch,
                                                                           caplog):
    caplog.set_level(logging.WARNING)
    sim = simulator()
    try:
        cli = sales_cli(tmp_path, monkeypatch)
        cli("connection", "add", "carrier", "--port", str(sim.port), "--system-id", "psms",
            "--password", "wrong")
        cli("registration", "add", "55501", "--kind", "short", "--throughput", "10",
            "--connection", "carrier")
        engine = open_engine(database_url(tmp_path))
        dispatcher = Dispatcher(engine, SystemClock(), FAST)
        task = asyncio.create_task(dispatcher.run())
        await asyncio.sleep(1.5)
        dispatcher.stop()
        await task

        with engine.connect() as conn:
            record = find_connection(conn, 1, "carrier")
        assert "wrong password" in (record.last_error or "")
        assert any("wrong password" in r.getMessage() for r in caplog.records)
        assert "wrong password" in cli("connection", "list")

        # The password is put right: the next dispatcher binds and the error is gone.
        cli("connection", "add", "carrier", "--port", str(sim.port), "--system-id", "psms",
            "--password", "secret")
        dispatcher = Dispatcher(engine, SystemClock(), FAST)
        task = asyncio.create_task(dispatcher.run())
        await asyncio.sleep(1.5)
        dispatcher.stop()
        await task
        with engine.connect() as conn:
            assert find_connection(conn, 1, "carrier").last_error is None
        engine.dispose()
    finally:
        sim.stop_in_thread()
