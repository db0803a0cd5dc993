"""`psms serve`: the HTTP API and, unless --no-dispatch, the dispatcher in one event loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.ports import busy_message, in_use

if TYPE_CHECKING:
    import uvicorn

# uvicorn, FastAPI and the services are imported when the server starts (issue 17).


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
    import asyncio
    import logging

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_serve(host, port, not no_dispatch, worker_id, metrics_token))
    except SystemExit as exc:
        if exc.code in (None, 0):
            raise
        # uvicorn exits 3 when it cannot start, after logging the errno: say it plainly, with
        # the documented exit code.
        why = (busy_message(host, {"API": port}, "another `psms serve`? Stop it, or choose "
                                                 "another with --port")
               if in_use(host, port) else f"the API could not start on {host}:{port}")
        raise ctx.fail(why) from None


async def _serve(host: str, port: int, dispatch: bool, worker_id: str | None,
                 metrics_token: str | None) -> None:
    import asyncio

    import uvicorn

    from proactive_sms.interfaces.api.app import create_app
    from proactive_sms.interfaces.cli.stoppable_server import StoppableServer
    from proactive_sms.services.webhook_sender import WebhookSender

    engine = ctx.engine()
    app = create_app(engine, ctx.clock, metrics_token=metrics_token)
    # Open event streams (the console's live pages) never end by themselves: on shutdown they
    # get a few seconds, then are closed, instead of holding the server up forever.
    config = uvicorn.Config(app, host=host, port=port, log_level="info", lifespan="off",
                            timeout_graceful_shutdown=5)
    server = StoppableServer(config)
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
    import asyncio
    import contextlib

    from proactive_sms.services.dispatch import Dispatcher, DispatchOptions

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
