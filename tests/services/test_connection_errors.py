"""A connection whose bind is refused for a wrong password says so where an operator looks: the
dispatcher's log, and the connection's one status (services.link_status) that the CLI, the API
and the console all show; once the password is put right it reads bound, since after that error.
"""

from __future__ import annotations

import asyncio
import logging

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import carrier_connections
from proactive_sms.services.dispatch import Dispatcher
from proactive_sms.services.link_status import LinkSummary
from proactive_sms.store.engine import open_engine
from proactive_sms.store.registrations import find_connection
from tests.interfaces.cli_runner import database_url, sales_cli
from tests.services.dispatch_world import FAST, simulator, until


def _link(engine) -> LinkSummary:
    with engine.connect() as conn:
        connection_id = find_connection(conn, 1, "carrier").id
    return carrier_connections.links(engine, SystemClock(), [connection_id])[connection_id]


async def test_a_wrong_password_is_named_in_the_log_the_status_and_the_cli(tmp_path, monkeypatch,
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

        refused = _link(engine)
        assert "wrong password" in (refused.last_error or "")
        assert refused.last_error_at is not None
        assert refused.state == "stopped"  # the dispatcher ended on purpose
        assert any("wrong password" in r.getMessage() for r in caplog.records)
        listed = cli("connection", "list")
        assert "wrong password" in listed and "stopped" in listed
        assert f"{refused.last_error_at:%Y-%m-%d %H:%M:%S}" in listed  # the error's time

        # The password is put right: the next dispatcher binds; the refusal stays on record
        # with its time, older than the bind.
        cli("connection", "add", "carrier", "--port", str(sim.port), "--system-id", "psms",
            "--password", "secret")
        dispatcher = Dispatcher(engine, SystemClock(), FAST)
        task = asyncio.create_task(dispatcher.run())
        try:
            await until(lambda: _link(engine).state == "bound")
            bound = _link(engine)
            assert bound.last_error == refused.last_error
            assert bound.since > bound.last_error_at
            listed = cli("connection", "list")
            assert "bound" in listed and f"{bound.since:%Y-%m-%d %H:%M:%S}" in listed
        finally:
            dispatcher.stop()
            await task
        engine.dispose()
    finally:
        sim.stop_in_thread()
