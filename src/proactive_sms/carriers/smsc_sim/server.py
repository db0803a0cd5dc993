"""SmscSimulator: a real SMPP 3.4 server on loopback, run in the caller's event loop or in its own
thread, with its records and knobs reachable from any thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from . import pdu
from .config import SimulatorConfig
from .delivery import Delivery, DeliveryRouter, InboundTicket
from .faults import SubmitPolicy, ThrottleWindows
from .inbound import inbound_bodies
from .records import AcceptedSubmit, JsonlLog, RecordBook, reassemble
from .session import SessionContext, SmppSession

T = TypeVar("T")
_THREAD_TIMEOUT_S = 10.0


def _clock_id_start() -> int:
    # 100,000 ids per second elapsed since 2023-11: more than the simulator can accept in that
    # time, so a restarted simulator never hands out an id a client may still hold from before.
    return (int(time.time()) - 1_700_000_000) * 100_000


class SmscSimulator:
    """The bundled SMSC. `port=0` picks a free port; read `.port` after start.

    Use `async with SmscSimulator(...)` (or `await start()`/`await stop()`) inside a running loop,
    or `with SmscSimulator(...)` (`start_in_thread()`/`stop_in_thread()`) from synchronous code.
    `control_port` (None = off, 0 = any free port) serves the HTTP control interface.
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        control_port: int | None = None,
    ) -> None:
        config = config or SimulatorConfig()
        self.host = host
        self.port = port
        self.control_port = control_port
        self._rng = random.Random(config.seed)
        self._throttle = ThrottleWindows()
        self._book = RecordBook()
        self._router = DeliveryRouter()
        id_start = config.message_id_start
        self._ctx = SessionContext(
            policy=SubmitPolicy(config, self._rng, self._throttle),
            book=self._book,
            router=self._router,
            ids=itertools.count(_clock_id_start() if id_start is None else id_start),
        )
        self._inbound_refs = itertools.count(1)
        self._tickets: set[InboundTicket] = set()
        self._server: asyncio.Server | None = None
        self._control: Any = None  # control_http.ControlServer, imported only when asked for
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id: int | None = None
        self._thread: threading.Thread | None = None
        self._retired_logs: set[asyncio.Task[None]] = set()  # logs closing after a live switch

    @property
    def config(self) -> SimulatorConfig:
        return self._ctx.policy.config

    @property
    def control_url(self) -> str | None:
        return None if self._control is None else f"http://{self.host}:{self.control_port}"

    # -- running in the caller's loop -------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop, self._loop_thread_id = loop, threading.get_ident()
        self._ctx.stopping = False
        await self._listen()
        assert self._server is not None
        self.port = self._server.sockets[0].getsockname()[1]
        if self.config.log_path:
            self._open_log(self.config.log_path)
        if self.control_port is not None:
            from .control_http import ControlServer

            self._control = ControlServer(self)
            self.control_port = await self._control.start(self.host, self.control_port)

    async def stop(self) -> None:
        """Close every connection, fail what still waits for an answer, flush the log."""
        self._ctx.stopping = True
        if self._control is not None:
            await self._control.stop()
            self._control = None
        if self._server is not None:
            self._server.close()
            for session in list(self._ctx.sessions):
                if session.transport is not None:
                    session.transport.close()
            await self._server.wait_closed()
            self._server = None
        self._router.close()
        for ticket in list(self._tickets):
            if not ticket.future.done():
                ticket.future.set_exception(
                    ConnectionError("simulator stopped before the deliver_sm was acknowledged")
                )
        if self._book.log is not None:
            log, self._book.log = self._book.log, None
            await log.close()
        await asyncio.gather(*self._retired_logs)
        await asyncio.sleep(0)  # let connection_lost callbacks run before the loop may close

    async def __aenter__(self) -> SmscSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- running in its own thread ----------------------------------------------------------------

    def start_in_thread(self, timeout_s: float = _THREAD_TIMEOUT_S) -> SmscSimulator:
        """Start on a new event loop in a daemon thread; returns once the ports are bound."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # handed to the starting thread, which re-raises it
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="smsc-sim", daemon=True)
        self._thread.start()
        if not ready.wait(timeout_s):
            raise TimeoutError("SMSC simulator did not start in time")
        if failure:
            raise failure[0]
        return self

    def stop_in_thread(self, timeout_s: float = _THREAD_TIMEOUT_S) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout_s)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
        self._thread = None

    def __enter__(self) -> SmscSimulator:
        return self.start_in_thread()

    def __exit__(self, *exc_info: object) -> None:
        self.stop_in_thread()

    def _call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the simulator's loop and return its result, from whichever thread."""
        loop = self._loop
        if loop is None or not loop.is_running() or threading.get_ident() == self._loop_thread_id:
            return fn()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # re-raised in the calling thread
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(_THREAD_TIMEOUT_S)

    # -- records (any thread) ---------------------------------------------------------------------

    def accepted_submits(self, since: int = 0) -> list[AcceptedSubmit]:
        """A copy of the accepted submit_sm records, oldest first, from index `since`."""
        return self._book.accepted(since)

    def reassembled(self) -> list[tuple[str, str]]:
        """(destination, full text) per message: UDH parts joined by (source, destination, ref)."""
        return reassemble(self._book.accepted())

    def stats(self) -> dict[str, Any]:
        return self._call(self._stats)

    def _stats(self) -> dict[str, Any]:
        book, sessions = self._book, list(self._ctx.sessions)
        return {
            "accepted": book.accepted_count(),
            "refused": {f"0x{code:02X}": n for code, n in sorted(book.refused.items())},
            "received": {
                pdu.COMMAND_NAMES.get(c, f"0x{c:08X}"): n for c, n in book.received.items()
            },
            "counters": dict(book.counters),
            "unacknowledged_deliver_sm": sum(s.unacked_count for s in sessions),
            "held_deliver_sm": self._router.pending_count(),
            "scheduled_receipts": self._router.scheduled_count(),
            "sessions": [
                {
                    "system_id": s.system_id,
                    "mode": s.mode,
                    "peer": s.peer,
                    "unacked": s.unacked_count,
                }
                for s in sessions
            ],
            "config": self.config.to_dict(),
        }

    # -- an outage: the SMSC process dies and comes back (any thread) ----------------------------

    def crash(self) -> None:
        """Die as a killed process does: stop listening and cut every connection at once
        (answers not yet written are lost, nothing is said to the peer). What it accepted stays
        in its store, as a carrier's durable store keeps it: the records, and the receipts it
        owes, delivered once a client binds again after recover()."""
        self._call(self._crash)

    def crash_after(self, submits: int) -> None:
        """crash() at the end of the read that brings the `submits`-th accepted submit from now:
        what that read brought is recorded, none of its answers leave (those texts are uncertain
        to the client, and their receipts come after recover())."""
        if submits < 1:
            raise ValueError("submits must be at least 1")

        def arm() -> None:
            self._ctx.crash_countdown = submits
            self._ctx.crash = self._crash

        self._call(arm)

    def recover(self) -> None:
        """Listen again on the same port after crash(), with the same store and config (from
        another thread than the simulator's; in its own loop: `await restart()`)."""
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread_id:
            raise RuntimeError("recover() is for a simulator running in its own thread; "
                               "await restart() in its loop")
        asyncio.run_coroutine_threadsafe(self.restart(), loop).result(_THREAD_TIMEOUT_S)

    async def restart(self) -> None:
        """recover(), in the simulator's own loop."""
        if self._server is None:
            await self._listen()

    @property
    def crashed(self) -> bool:
        return self._server is None and self._loop is not None and not self._ctx.stopping

    def _crash(self) -> None:
        self._book.count("crashes")
        if self._server is not None:
            self._server.close()
            self._server = None
        for session in list(self._ctx.sessions):
            if session.transport is not None:
                session.transport.abort()

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SmppSession(self._ctx), self.host, self.port, reuse_address=True
        )

    def reset(self) -> None:
        """Forget records, counters and throttle windows; config, sessions and ids carry on."""
        self._call(self._reset)

    def _reset(self) -> None:
        self._book.clear()
        self._throttle.clear()

    # -- knobs (any thread) -----------------------------------------------------------------------

    def configure(self, **knobs: Any) -> SimulatorConfig:
        """Change knobs live; raises ConfigError (a ValueError) naming a bad knob, changing nothing.

        `message_id_start` only moves ids forward, so they stay unique for the simulator's life.
        """
        return self._call(lambda: self._configure(knobs))

    def _configure(self, knobs: dict[str, Any]) -> SimulatorConfig:
        old = self.config
        new = old.with_knobs(**knobs)
        if "seed" in knobs:
            self._rng.seed(new.seed)
        if "message_id_start" in knobs and new.message_id_start is not None:
            self._ctx.ids = itertools.count(max(new.message_id_start, next(self._ctx.ids)))
        if "drop_connection_after" in knobs or "drop_connection_repeat" in knobs:
            self._ctx.drop_done = False
        self._ctx.policy = SubmitPolicy(new, self._rng, self._throttle)
        if new.log_path != old.log_path and self._server is not None:
            self._open_log(new.log_path)
        return new

    def _open_log(self, path: str | None) -> None:
        old, self._book.log = self._book.log, None
        if old is not None:
            task = asyncio.get_running_loop().create_task(old.close())
            self._retired_logs.add(task)
            task.add_done_callback(self._retired_logs.discard)
        if path:
            self._book.log = JsonlLog(path)
            self._book.log.start()

    # -- inbound texts ----------------------------------------------------------------------------

    async def inject_inbound(
        self,
        sender: str,
        recipient: str,
        text: str,
        data_coding: int | None = None,
        system_id: str | None = None,
    ) -> int:
        """Send a mobile-originated text as deliver_sm (UDH parts if long) to a receiving session of
        `system_id` (default: the first in credentials), held until one binds. Returns the
        deliver_sm_resp command_status (0 = the client took it) once every part is answered."""
        if asyncio.get_running_loop() is self._loop:
            return await self.inject_inbound_nowait(sender, recipient, text, data_coding, system_id)
        future = self.inject_inbound_threadsafe(sender, recipient, text, data_coding, system_id)
        return await asyncio.wrap_future(future)

    def inject_inbound_threadsafe(
        self,
        sender: str,
        recipient: str,
        text: str,
        data_coding: int | None = None,
        system_id: str | None = None,
    ) -> concurrent.futures.Future[int]:
        """The thread version: returns as soon as the deliver_sm is handed to the simulator's loop;
        the future resolves like `inject_inbound`. Block on it (`.result(timeout)`) from a thread
        other than the one running the client, or the client cannot answer."""
        if self._loop is None:
            raise RuntimeError("the simulator is not running")
        return asyncio.run_coroutine_threadsafe(
            _awaited(
                lambda: self.inject_inbound_nowait(sender, recipient, text, data_coding, system_id)
            ),
            self._loop,
        )

    def inject_inbound_nowait(
        self,
        sender: str,
        recipient: str,
        text: str,
        data_coding: int | None = None,
        system_id: str | None = None,
    ) -> asyncio.Future[int]:
        """Queue the text and return the future `inject_inbound` awaits; call it on the
        simulator's own loop (the control interface does)."""
        system_id = system_id or next(iter(self.config.credentials))
        bodies = inbound_bodies(sender, recipient, text, data_coding, next(self._inbound_refs))
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        ticket = InboundTicket(future, len(bodies))
        self._tickets.add(ticket)
        future.add_done_callback(lambda _: self._tickets.discard(ticket))
        for body in bodies:
            self._router.route(Delivery(system_id, body, "inbound", ticket))
        return future


async def _awaited(start: Callable[[], asyncio.Future[T]]) -> T:
    # run_coroutine_threadsafe takes a coroutine; this one starts the work on the loop's thread.
    return await start()
