"""`psms smsc-sim`: serve the bundled SMSC simulator, inject inbound texts, read its counters."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from proactive_sms.interfaces.cli.context import FAILED
from proactive_sms.interfaces.cli.ports import busy_message

# The simulator's package loads its server on import: imported inside the commands (issue 17).
# The same default as carriers/smsc_sim/control.py's DEFAULT_CONTROL_URL.
DEFAULT_CONTROL_URL = "http://127.0.0.1:2776"

app = typer.Typer(
    help="The bundled SMSC simulator: a real SMPP 3.4 server on loopback, with fault knobs.",
    add_completion=False,
)

ControlUrl = Annotated[
    str, typer.Option("--control", help="Base URL of a running simulator's control interface.")
]


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="SMPP port (0 = any free port).")] = 2775,
    control_port: Annotated[
        int, typer.Option(help="HTTP control port (0 = any free port).")
    ] = 2776,
    system_id: Annotated[
        str | None, typer.Option(help="Accept binds with this system_id (default psms).")
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="Password for --system-id (default secret).")
    ] = None,
    receipt_delay: Annotated[
        float | None, typer.Option(help="Seconds between accepting a submit and its receipt.")
    ] = None,
    throttle_above: Annotated[
        int | None, typer.Option(help="Answer 0x58 above this many submits per second.")
    ] = None,
    log: Annotated[
        Path | None, typer.Option(help="Append one JSON line per accepted submit to this file.")
    ] = None,
    config_json: Annotated[
        Path | None, typer.Option(help="JSON object of any other SimulatorConfig knobs.")
    ] = None,
) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM (when no subcommand is given)."""
    if ctx.invoked_subcommand is not None:
        return
    import asyncio

    from proactive_sms.carriers.smsc_sim.config import ConfigError, SimulatorConfig
    from proactive_sms.carriers.smsc_sim.foreground import serve as serve_simulator

    try:
        config = SimulatorConfig.from_json_file(config_json) if config_json else SimulatorConfig()
        knobs: dict[str, Any] = {}
        if system_id is not None or password is not None:
            knobs["credentials"] = {system_id or "psms": password or "secret"}
        if receipt_delay is not None:
            knobs["receipt_delay_s"] = receipt_delay
        if throttle_above is not None:
            knobs["throttle_above_per_s"] = throttle_above
        if log is not None:
            knobs["log_path"] = str(log)
        config = config.with_knobs(**knobs)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None
    try:
        asyncio.run(serve_simulator(config, host, port, control_port, announce=_announce))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        message = busy_message(host, {"SMPP": port, "control": control_port},
                               "another simulator or `psms serve`? Stop it, or choose another "
                               "with --port / --control-port (0 picks a free one)")
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(FAILED) from None


def _announce(line: str) -> None:
    typer.echo(line)
    # Flushed at once: scripts and tests wait for this line to learn the ports.
    typer.get_text_stream("stdout").flush()


@app.command()
def inject(
    sender: Annotated[str, typer.Option("--from", help="Who sent the text (E.164 number).")],
    recipient: Annotated[str, typer.Option("--to", help="The transport code it was sent to.")],
    text: Annotated[str, typer.Option(help="The text of the message.")],
    control: ControlUrl = DEFAULT_CONTROL_URL,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the client's answer.")] = 5.0,
) -> None:
    """Send an inbound (mobile-originated) text through a running simulator."""
    from proactive_sms.carriers.smsc_sim.control import ControlError, SimulatorControl
    from proactive_sms.domain.phone import mask

    try:
        reply = SimulatorControl(control).inject(sender, recipient, text, wait_s=wait)
    except ControlError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(FAILED) from None
    outcome = reply.get("status", "?")
    if "command_status" in reply:
        outcome += f" (command_status 0x{reply['command_status']:02X})"
    typer.echo(f"inbound from {mask(sender)} to {mask(recipient)}: {outcome}")


@app.command()
def stats(control: ControlUrl = DEFAULT_CONTROL_URL) -> None:
    """Print a running simulator's counters, sessions and knobs as JSON."""
    from proactive_sms.carriers.smsc_sim.control import ControlError, SimulatorControl

    try:
        typer.echo(json.dumps(SimulatorControl(control).stats(), indent=2))
    except ControlError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(FAILED) from None
