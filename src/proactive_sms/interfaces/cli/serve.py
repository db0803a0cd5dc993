"""`psms serve`: the HTTP API in several worker processes and, unless --no-dispatch, the
dispatcher in a process of its own (interfaces/cli/serve_supervisor.py says why and what a
caller may rely on)."""

from __future__ import annotations

import typer

from proactive_sms.interfaces.cli import context as ctx

# uvicorn, FastAPI, the supervisor and the services are imported when the server starts, so
# that `psms --help` and the light commands start quickly (issue 17).


@ctx.handle_errors
def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    no_dispatch: bool = typer.Option(False, "--no-dispatch",
                                     help="API only: dispatch workers run elsewhere."),
    worker_id: str = typer.Option(None, "--worker-id", envvar="PSMS_WORKER_ID",
                                  help="Stable dispatcher name (see psms dispatch)."),
    workers: int = typer.Option(
        None, "--workers", envvar="PSMS_API_WORKERS", min=1, max=64,
        help="API worker processes (default: one per core, at least 2, at most 8)."),
    metrics_token: str = typer.Option(
        None, "--metrics-token", envvar="PSMS_METRICS_TOKEN",
        help="Ask for this bearer token at /metrics (default: open, codes and counts only)."),
    dispatch_in_process: bool = typer.Option(
        False, "--dispatch-in-process", hidden=True,
        help="Development and benchmarks only: the old layout, one process running the API "
             "and the dispatcher in one event loop (bench/api_load.py compares the two)."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Serve the API (OpenAPI at /docs) in worker processes and send texts from a dispatcher
    process; stops them all on Ctrl-C/SIGTERM, and stops if the dispatcher dies."""
    import asyncio
    import logging
    import sys

    from proactive_sms.interfaces.cli import serve_supervisor

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if dispatch_in_process:
        asyncio.run(_serve_in_process(host, port, not no_dispatch, worker_id, metrics_token))
        return
    layout = serve_supervisor.Layout(
        host=host, port=port, workers=workers or serve_supervisor.default_workers(),
        dispatch=not no_dispatch, worker_id=worker_id, metrics_token=metrics_token,
        verbose=verbose)
    code = serve_supervisor.run(layout)
    if code:
        sys.exit(code)


# --- the old layout: one process, one event loop (kept to measure against) ----------------------


async def _serve_in_process(host: str, port: int, dispatch: bool, worker_id: str | None,
                            metrics_token: str | None) -> None:
    import asyncio
    import contextlib

    from proactive_sms.interfaces.api.app import create_app
    from proactive_sms.interfaces.cli.api_worker import GracefulServer, uvicorn_config
    from proactive_sms.services.dispatch import Dispatcher, DispatchOptions
    from proactive_sms.services.webhook_sender import WebhookSender

    engine = ctx.engine()
    app = create_app(engine, ctx.clock, metrics_token=metrics_token)
    server = GracefulServer(uvicorn_config(app, host=host, port=port))
    hooks_stop = asyncio.Event()
    hooks = asyncio.create_task(WebhookSender(engine, ctx.clock).run(hooks_stop),
                                name="webhooks")
    try:
        if not dispatch:
            await server.serve()
            return
        dispatcher = Dispatcher(engine, ctx.clock, DispatchOptions(), worker_id=worker_id)
        stop = asyncio.Event()
        worker = asyncio.create_task(dispatcher.run(stop), name="dispatcher")
        worker.add_done_callback(lambda _: setattr(server, "should_exit", True))
        ctx.console.print(f"dispatcher {dispatcher.worker_id} running beside the API")
        try:
            await server.serve()
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        ctx.console.print("stopped")
    finally:
        hooks_stop.set()
        await hooks
