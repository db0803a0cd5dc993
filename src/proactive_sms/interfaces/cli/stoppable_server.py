"""Uvicorn for `psms serve`: Ctrl-C and SIGTERM ask it to stop, and nothing more.

A module of its own so that `psms` imports uvicorn only when it serves (issue 17).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import uvicorn


class StoppableServer(uvicorn.Server):
    """Uvicorn, except that Ctrl-C and SIGTERM only ask it to stop.

    Uvicorn raises a caught signal again once it has shut down, which would kill the process
    before the dispatcher finishes its in-flight texts and leases; here the command returns
    normally after both have stopped.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
