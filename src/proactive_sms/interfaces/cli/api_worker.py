"""One API worker process of `psms serve`: the HTTP API and console on a listening socket that
the serve process opened and handed down (`serve_on`, in a process serve forked; or `main()`
with `--fd N` in a fresh one).

Several such workers accept on the one socket (the kernel hands each connection to one of
them), so requests use every core instead of one interpreter's. Nothing a request needs is kept
in a worker's memory between requests: API keys, idempotency keys, console sessions, sign-in
throttling and CSRF (an HMAC of the session's token, or a double-submitted cookie) live in the
store or in the request itself, so any worker can answer any request. What a worker does keep
is a cache that another process can only make stale for a bounded time (the set of units with
a webhook, WATCH_TTL_S) or per-worker work shared by the pages it serves (the console's live
feeds, each reading the store once a tick per unit).

The worker stops on SIGTERM or SIGINT after open requests end (open event streams get a few
seconds), and on its parent's death (Linux: PR_SET_PDEATHSIG, set by serve's fork), so a
killed serve leaves no worker answering behind it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator

import anyio.to_thread
import uvicorn

_PR_SET_PDEATHSIG = 1
# A worker as a fresh interpreter, on an inherited socket: `python -c WORKER_MAIN --fd N` (serve
# forks its workers instead; this is for running one by hand or in a test). Not `-m`: the cli
# package imports this module first, and runpy warns.
WORKER_MAIN = "from proactive_sms.interfaces.cli.api_worker import main; main()"
# Requests' work is Python holding the GIL most of the time: more threads than this queue for
# it instead of running, and stretch every request they share it with (bench/api_load.py).
DEFAULT_THREADS = 16


class GracefulServer(uvicorn.Server):
    """Uvicorn, except that Ctrl-C and SIGTERM only ask it to stop.

    Uvicorn raises a caught signal again once it has shut down, which would kill the process
    before whatever runs beside it (the dispatcher of `psms serve --dispatch-in-process`)
    finishes its in-flight texts and leases; here the caller returns normally.
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


def uvicorn_config(app, **where) -> uvicorn.Config:
    """The server settings every layout of `psms serve` shares."""
    # Open event streams (the console's live pages) never end by themselves: on shutdown they
    # get a few seconds, then are closed, instead of holding the server up forever.
    return uvicorn.Config(app, log_level="info", lifespan="off", timeout_graceful_shutdown=5,
                          **where)


try:  # loaded here, once: die_with_parent runs between fork and exec, where little is safe
    _libc: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None


def die_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (elsewhere: nothing). For
    `preexec_fn`: the children of `psms serve` must not go on answering or sending without it."""
    if _libc is not None and sys.platform.startswith("linux"):
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="psms-api-worker",
                                     description="One API worker of `psms serve`.")
    parser.add_argument("--fd", type=int, required=True,
                        help="The listening socket's file descriptor, inherited.")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve_on(socket.socket(fileno=args.fd), os.environ.get("PSMS_METRICS_TOKEN") or None,
             migrated=False)


def serve_on(listener: socket.socket, metrics_token: str | None, migrated: bool) -> None:
    """Answer on `listener` until SIGTERM/SIGINT: a fresh engine (its own connections, sized to
    the request threads) and app, in this process. `migrated`: the caller has just brought the
    schema up to date (serve), so the check is not made again."""
    from proactive_sms.domain.clock import SystemClock
    from proactive_sms.interfaces.api.app import create_app
    from proactive_sms.store.engine import make_engine, open_engine

    threads = request_threads()
    url = os.environ.get("PSMS_DATABASE_URL")
    engine = make_engine(url, threads) if migrated else open_engine(url, threads)
    app = create_app(engine, SystemClock(), metrics_token=metrics_token)
    server = GracefulServer(uvicorn_config(app))
    asyncio.run(_serve(server, listener, threads))


def request_threads() -> int:
    """PSMS_API_THREADS, else DEFAULT_THREADS: the threads a worker runs requests' database work
    in, and as many database connections."""
    raw = os.environ.get("PSMS_API_THREADS", "")
    try:
        return max(1, int(raw)) if raw else DEFAULT_THREADS
    except ValueError as exc:
        raise SystemExit(f"PSMS_API_THREADS must be a whole number, got '{raw}'") from exc


async def _serve(server: GracefulServer, listener: socket.socket, threads: int) -> None:
    # The pool every sync endpoint and dependency runs in (anyio's, 40 threads by default).
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    await server.serve(sockets=[listener])
