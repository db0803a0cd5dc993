"""The dispatcher records each carrier connection's link for the console: bound while the
session is up, the last error when it cannot connect, stopped when it ends."""

from __future__ import annotations

import asyncio

from proactive_sms.services import administration, carrier_connections
from tests.processes import free_port
from tests.services.dispatch_world import World, until


def _link(world: World, name: str):
    return carrier_connections.connection_view(world.engine, world.bu, world.clock, name).link


async def test_a_bound_link_reads_bound_and_a_dead_end_reads_its_error_then_stopped(world):
    world.connection("sim")
    world.code("55501")
    administration.add_connection(world.engine, world.bu, world.clock, "nowhere",
                                  "127.0.0.1", free_port(), "psms", "secret")
    world.code("55502", connection="nowhere")
    administration.add_connection(world.engine, world.bu, world.clock, "refused",
                                  "127.0.0.1", world.sim.port, "psms", "wrong")
    world.code("55503", connection="refused")
    assert _link(world, "sim").state == "no report"  # nothing runs it yet

    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    try:
        await until(lambda: _link(world, "sim").state == "bound")
        await until(lambda: _link(world, "nowhere").last_error is not None)
        dead = _link(world, "nowhere")
        assert dead.state == "unbound"
        assert "cannot connect or bind" in dead.last_error
        assert _link(world, "sim").last_error is None
        await until(lambda: _link(world, "refused").last_error is not None)
        assert "RINVPASWD" in _link(world, "refused").last_error, _link(world, "refused")
    finally:
        dispatcher.stop()
        await task
    assert _link(world, "sim").state == "stopped"
    views = carrier_connections.connection_views(world.engine, world.bu, world.clock)
    assert {v.name: v.codes for v in views} == {"sim": ["55501"], "nowhere": ["55502"],
                                                "refused": ["55503"]}
