"""`psms provider-sim`: serve the bundled HTTP provider simulator (the Twilio Messages API and
the Vonage SMS API on one server), send inbound texts through it, read its counters."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from proactive_sms.interfaces.cli.context import FAILED
from proactive_sms.interfaces.cli.ports import busy_message

DEFAULT_URL = "http://127.0.0.1:2780"

app = typer.Typer(
    help="The bundled HTTP provider simulator (Twilio and Vonage API shapes), with fault knobs.",
    add_completion=False,
)

SimUrl = Annotated[str, typer.Option("--url", help="Base URL of a running provider simulator.")]


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port (0 = any free port).")] = 2780,
    account: Annotated[str | None, typer.Option(help="The Account SID it takes.")] = None,
    token: Annotated[str | None, typer.Option(help="The Auth Token it takes and signs "
                                                   "callbacks with.")] = None,
    throttle_above: Annotated[float | None, typer.Option(
        help="Answer 429 (Retry-After) above this many texts per second.")] = None,
    inbound_url: Annotated[str | None, typer.Option(
        help="Where inbound texts are posted (/carrier-callbacks/ID/inbound of psms serve).")
    ] = None,
    config_json: Annotated[Path | None, typer.Option(
        help="JSON object of any other knobs (see docs/http_providers.md).")] = None,
) -> None:
    """Serve in the foreground until Ctrl-C (when no subcommand is given)."""
    if ctx.invoked_subcommand is not None:
        return
    import asyncio

    from proactive_sms.carriers.provider_sim import ProviderSimConfig, ProviderSimulator

    knobs: dict[str, Any] = json.loads(config_json.read_text()) if config_json else {}
    for name, value in (("account_sid", account), ("auth_token", token),
                        ("throttle_above_per_s", throttle_above), ("inbound_url", inbound_url)):
        if value is not None:
            knobs[name] = value
    try:
        config = ProviderSimConfig().with_knobs(**knobs)
    except (ValueError, TypeError) as exc:
        raise typer.BadParameter(str(exc)) from None
    simulator = ProviderSimulator(config, host, port)
    try:
        asyncio.run(simulator.serve(announce=_announce))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        message = busy_message(host, {"HTTP": port}, "another provider simulator? Stop it, or "
                               "choose another with --port (0 picks a free one)")
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(FAILED) from None


def _announce(line: str) -> None:
    typer.echo(line)
    typer.get_text_stream("stdout").flush()  # scripts and tests wait for this line


def _call(method: str, url: str, body: dict | None = None) -> Any:
    import httpx

    try:
        answer = httpx.request(method, url, json=body, timeout=30.0)
    except httpx.HTTPError as exc:
        typer.echo(f"error: cannot reach the provider simulator at {url}: {exc}", err=True)
        raise typer.Exit(FAILED) from None
    if answer.status_code >= 300:
        typer.echo(f"error: {answer.text}", err=True)
        raise typer.Exit(FAILED)
    return answer.json()


@app.command()
def inbound(
    sender: Annotated[str, typer.Option("--from", help="Who sent the text (E.164 number).")],
    recipient: Annotated[str, typer.Option("--to", help="The transport code it was sent to.")],
    text: Annotated[str, typer.Option(help="The text of the message.")],
    webhook: Annotated[str | None, typer.Option(
        help="Post it here (default: the simulator's inbound_url).")] = None,
    shape: Annotated[str | None, typer.Option(
        help="twilio or vonage (default: the simulator's inbound_shape).")] = None,
    url: SimUrl = DEFAULT_URL,
) -> None:
    """Post an inbound text to our webhook, signed, as the provider would."""
    from proactive_sms.domain.phone import mask

    body = {"from": sender, "to": recipient, "text": text}
    if shape:
        body["shape"] = shape
    if webhook:
        body["url"] = webhook
    reply = _call("POST", f"{url}/_sim/inbound", body)
    typer.echo(f"inbound from {mask(sender)} to {mask(recipient)}: answered "
               f"{reply.get('status_code')}")
    if reply.get("status_code") is None or reply["status_code"] >= 300:
        raise typer.Exit(FAILED)


@app.command()
def configure(knobs: Annotated[str, typer.Argument(help="A JSON object of knobs.")],
              url: SimUrl = DEFAULT_URL) -> None:
    """Change knobs of a running simulator, e.g. '{"error_5xx_every": 10}'."""
    try:
        body = json.loads(knobs)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}") from None
    typer.echo(json.dumps(_call("POST", f"{url}/_sim/configure", body), indent=2))


@app.command()
def stats(url: SimUrl = DEFAULT_URL) -> None:
    """Print a running simulator's counters (accepted, duplicates, refusals, callbacks) and
    knobs as JSON."""
    typer.echo(json.dumps(_call("GET", f"{url}/_sim/stats"), indent=2))
