"""The dispatcher records each carrier connection's link for the console: bound while the
session is up, the last error when it cannot connect, stopped when it ends."""

from __future__ import annotations

import asyncio
import socket

import pytest

from proactive_sms.services import administration, carrier_connections
from tests.services.dispatch_world import DaytimeClock, World, simulator


@pytest.fixture
def world(engine, bu, tmp_path):
    sim = simulator()
    yield World(engine, bu, sim, tmp_path, DaytimeClock())
    sim.stop_in_thread()


async def _until(predicate, timeout_s: float = 15.0) -> None:
    for _ in range(int(timeout_s / 0.1)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _link(world: World, name: str):
    return carrier_connections.connection_view(world.engine, world.bu, world.clock, name).link


async def test_a_bound_link_reads_bound_and_a_dead_end_reads_its_error_then_stopped(world):
    world.connection("sim")
    world.code("55501")
    administration.add_connection(world.engine, world.bu, world.clock, "nowhere",
                                  "127.0.0.1", _free_port(), "psms", "secret")
    world.code("55502", connection="nowhere")
    administration.add_connection(world.engine, world.bu, world.clock, "refused",
                                  "127.0.0.1", world.sim.port, "psms", "wrong")
    world.code("55503", connection="refused")
    assert _link(world, "sim").state == "no report"  # nothing runs it yet

    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    try:
        await _until(lambda: _link(world, "sim").state == "bound")
        await _until(lambda: _link(world, "nowhere").last_error is not None)
        dead = _link(world, "nowhere")
        assert dead.state == "unbound"
        assert "cannot connect or bind" in dead.last_error
        assert _link(world, "sim").last_error is None
        await _until(lambda: _link(world, "refused").last_error is not None)
        assert "RINVPASWD" in _link(world, "refused").last_error, _link(world, "refused")
    finally:
        dispatcher.stop()
        await task
    assert _link(world, "sim").state == "stopped"
    views = carrier_connections.connection_views(world.engine, world.bu, world.clock)
    assert {v.name: v.codes for v in views} == {"sim": ["55501"], "nowhere": ["55502"],
                                                "refused": ["55503"]}
