"""`psms serve`: the HTTP API and, unless --no-dispatch, the dispatcher in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import typer
import uvicorn

from proactive_sms.interfaces.api.app import create_app
from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.services.dispatch import Dispatcher, DispatchOptions
from proactive_sms.services.webhook_sender import WebhookSender


@ctx.handle_errors
def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    no_dispatch: bool = typer.Option(False, "--no-dispatch",
                                     help="API only: dispatch workers run elsewhere."),
    worker_id: str = typer.Option(None, "--worker-id", envvar="PSMS_WORKER_ID",
                                  help="Stable dispatcher name (see psms dispatch)."),
    metrics_token: str = typer.Option(
        None, "--metrics-token", envvar="PSMS_METRICS_TOKEN",
        help="Ask for this bearer token at /metrics (default: open, codes and counts only)."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Serve the API (OpenAPI at /docs) and send texts; stops on Ctrl-C/SIGTERM."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(host, port, not no_dispatch, worker_id, metrics_token))


async def _serve(host: str, port: int, dispatch: bool, worker_id: str | None,
                 metrics_token: str | None) -> None:
    engine = ctx.engine()
    app = create_app(engine, ctx.clock, metrics_token=metrics_token)
    # Open event streams (the console's live pages) never end by themselves: on shutdown they
    # get a few seconds, then are closed, instead of holding the server up forever.
    config = uvicorn.Config(app, host=host, port=port, log_level="info", lifespan="off",
                            timeout_graceful_shutdown=5)
    server = _Server(config)
    # Webhook deliveries run here whatever --no-dispatch says: the API's events need a sender,
    # and several senders share the work safely.
    hooks_stop = asyncio.Event()
    hooks = asyncio.create_task(WebhookSender(engine, ctx.clock).run(hooks_stop),
                                name="webhooks")
    try:
        await _serve_with(server, engine, dispatch, worker_id)
    finally:
        hooks_stop.set()
        await hooks


async def _serve_with(server: uvicorn.Server, engine, dispatch: bool,
                      worker_id: str | None) -> None:
    if not dispatch:
        await server.serve()
        return
    dispatcher = Dispatcher(engine, ctx.clock, DispatchOptions(), worker_id=worker_id)
    stop = asyncio.Event()
    worker = asyncio.create_task(dispatcher.run(stop), name="dispatcher")
    # A dispatcher that dies takes the server down with it: an API that accepts starts
    # nobody sends would be worse than no API.
    worker.add_done_callback(lambda _: setattr(server, "should_exit", True))
    ctx.console.print(f"dispatcher {dispatcher.worker_id} running beside the API")
    try:
        await server.serve()
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    ctx.console.print("stopped")


class _Server(uvicorn.Server):
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
