"""`psms dispatch`: send the pending texts of running skills over their codes' connections."""

from __future__ import annotations

import typer

from proactive_sms.interfaces.cli import context as ctx


@ctx.handle_errors
def dispatch_command(
    until_idle: bool = typer.Option(False, "--until-idle",
                                    help="Exit once every skill is finished and receipts are in."),
    receipt_grace: float = typer.Option(10.0, help="With --until-idle: seconds to wait for "
                                                   "outstanding receipts."),
    worker_id: str = typer.Option(None, "--worker-id", envvar="PSMS_WORKER_ID",
                                  help="A stable name: a restarted worker takes its codes back "
                                       "once the old process has been silent 5 s; a second "
                                       "live process with the same name is refused (default: "
                                       "host:pid, which waits for the lease to lapse)."),
    health_port: int = typer.Option(
        None, "--health-port", envvar="PSMS_HEALTH_PORT", min=0, max=65535,
        help="Serve GET /healthz and /readyz on this port (database, schema, dispatcher "
             "running) for a supervisor or load balancer's checks (default: none)."),
    health_host: str = typer.Option("127.0.0.1", "--health-host", envvar="PSMS_HEALTH_HOST",
                                    help="Address of the health port."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Run the dispatcher: pacing, DNC check at send time, receipts. Stops on Ctrl-C/SIGTERM."""
    import asyncio
    import logging

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    health = (health_host, health_port) if health_port is not None else None
    asyncio.run(_run(until_idle, receipt_grace, worker_id, health))


async def _run(until_idle: bool, receipt_grace: float, worker_id: str | None,
               health: tuple[str, int] | None = None) -> None:
    import asyncio
    import signal

    from proactive_sms.services.dispatch import Dispatcher, DispatchOptions
    from proactive_sms.services.webhook_sender import WebhookSender

    dispatcher = Dispatcher(ctx.engine(), ctx.clock, DispatchOptions(), worker_id=worker_id)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    health_server = None
    if health is not None:
        from proactive_sms.interfaces.cli.health_server import HealthServer

        health_server = HealthServer(dispatcher.engine, lambda: {
            "dispatcher": "stopping" if stop.is_set() else "running",
            "worker_id": dispatcher.worker_id, "codes": str(len(dispatcher.lanes))})
        try:
            port = await health_server.start(*health)
        except OSError as exc:
            raise ctx.fail(f"cannot serve health checks on {health[0]}:{health[1]}: "
                           f"{exc.strerror}") from None
        ctx.console.print(f"health checks on http://{health[0]}:{port}/readyz")
    ctx.console.print(f"dispatcher {dispatcher.worker_id} running "
                      f"({'until idle' if until_idle else 'Ctrl-C to stop'})")
    # Webhook deliveries beside the dispatcher; with --until-idle, what is due when the texts
    # are done is sent before the command ends (retries of failures wait for the next run).
    hooks_stop = asyncio.Event()
    hooks = asyncio.create_task(WebhookSender(dispatcher.engine, ctx.clock).run(hooks_stop),
                                name="webhooks")
    try:
        await dispatcher.run(stop, until_idle=until_idle, receipt_grace_s=receipt_grace)
    finally:
        hooks_stop.set()
        await hooks
        if health_server is not None:
            await health_server.stop()
    if until_idle:  # the last texts' events are due now: sent before the command ends
        await WebhookSender(dispatcher.engine, ctx.clock).drain()
    ctx.console.print("dispatcher stopped")
