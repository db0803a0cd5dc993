"""Serving the simulator in the foreground until SIGINT/SIGTERM (the CLI and `python -m`)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from .config import SimulatorConfig
from .server import SmscSimulator


async def serve(
    config: SimulatorConfig,
    host: str,
    port: int,
    control_port: int | None,
    announce: Callable[[str], None] = print,
) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly (log flushed, connections closed)."""
    sim = SmscSimulator(config, host=host, port=port, control_port=control_port)
    await sim.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        announce(banner(sim))
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await sim.stop()


def banner(sim: SmscSimulator) -> str:
    control = f", control {sim.control_url}" if sim.control_url else ""
    log = f", log {sim.config.log_path}" if sim.config.log_path else ""
    ids = ",".join(sim.config.credentials)
    return f"SMSC simulator: SMPP on {sim.host}:{sim.port} (system_id {ids}){control}{log}"
