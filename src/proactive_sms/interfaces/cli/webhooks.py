"""`psms webhook …`: the business unit's webhook (see docs/webhooks.md)."""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table

from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.services import webhooks

app = typer.Typer(help="Webhook: events of the business unit POSTed to a URL, signed.",
                  no_args_is_help=True)


def _print_secret(secret: str) -> None:
    ctx.errors.print("signing secret (keep it now, it is not shown again):", highlight=False)
    print(secret)  # alone on stdout, so that scripts can capture it


@app.command("set")
@ctx.handle_errors
def webhook_set(url: str,
                events: str = typer.Option(None, help="Comma-separated event types (default: "
                                                      "all): " + ", ".join(webhooks.SUBSCRIBABLE)),
                disable: bool = typer.Option(False, "--disable", help="Keep it, send nothing."),
                bu: str = ctx.BuOption):
    """Create the webhook, or change its URL, event types or state (the secret is kept)."""
    types = [t.strip() for t in events.split(",") if t.strip()] if events else None
    saved = webhooks.set_endpoint(ctx.engine(), ctx.business_unit(bu), ctx.clock, url,
                                  event_types=types, active=not disable)
    ctx.errors.print(f"webhook {'created' if saved.created else 'updated'}: "
                     f"{saved.endpoint.url}", highlight=False)
    if saved.secret:
        _print_secret(saved.secret)


@app.command("show")
@ctx.handle_errors
def webhook_show(bu: str = ctx.BuOption):
    """The webhook's URL, event types and state (never its secret)."""
    endpoint = webhooks.show_endpoint(ctx.engine(), ctx.business_unit(bu))
    ctx.console.print(f"url:         {endpoint.url}", highlight=False)
    ctx.console.print(f"events:      {', '.join(endpoint.event_types or ['all'])}")
    ctx.console.print(f"active:      {'yes' if endpoint.active else 'no'}")
    ctx.console.print(f"updated:     {endpoint.updated_at:%Y-%m-%d %H:%M:%S}")


@app.command("remove")
@ctx.handle_errors
def webhook_remove(bu: str = ctx.BuOption):
    """Remove the webhook; events not yet delivered are cancelled."""
    cancelled = webhooks.remove_endpoint(ctx.engine(), ctx.business_unit(bu))
    ctx.console.print(f"webhook removed ({cancelled} undelivered event(s) cancelled)")


@app.command("rotate")
@ctx.handle_errors
def webhook_rotate(bu: str = ctx.BuOption):
    """A new signing secret, effective at once."""
    _print_secret(webhooks.rotate_secret(ctx.engine(), ctx.business_unit(bu), ctx.clock).secret)


@app.command("test")
@ctx.handle_errors
def webhook_test(bu: str = ctx.BuOption):
    """Send a webhook.ping now and show what the receiver answered."""
    delivery = asyncio.run(webhooks.ping(ctx.engine(), ctx.business_unit(bu), ctx.clock))
    _print_log([delivery])


@app.command("deliveries")
@ctx.handle_errors
def webhook_deliveries(limit: int = typer.Option(20, help="Events to show (newest first)."),
                       cursor: str = typer.Option(None, help="Older than this (from the "
                                                             "previous page)."),
                       bu: str = ctx.BuOption):
    """The delivery log: every attempt of the latest events."""
    page = webhooks.deliveries(ctx.engine(), ctx.business_unit(bu), cursor, limit)
    _print_log(page.items)
    if page.next_cursor:
        ctx.console.print(f"older: --cursor {page.next_cursor}")


@app.command("redeliver")
@ctx.handle_errors
def webhook_redeliver(event_id: str, bu: str = ctx.BuOption):
    """Send an event again (a running dispatcher or server delivers it)."""
    webhooks.redeliver(ctx.engine(), ctx.business_unit(bu), ctx.clock, event_id)
    ctx.console.print(f"{event_id} queued for delivery")


def _print_log(deliveries: list[webhooks.Delivery]) -> None:
    table = Table(title="Webhook deliveries")
    for column in ("event", "type", "state", "attempt", "at", "answer", "ms", "next"):
        table.add_column(column)
    for delivery in deliveries:
        event = delivery.event
        if not delivery.attempts:
            table.add_row(event.public_id, event.type, event.state, "-", "-", "-", "-",
                          _when(event.next_attempt_at))
        for attempt in delivery.attempts:
            answer = str(attempt.http_status) if attempt.http_status else (attempt.error or "")
            table.add_row(event.public_id, event.type, event.state, str(attempt.attempt_no),
                          _when(attempt.attempted_at), answer[:60], str(attempt.duration_ms),
                          _when(attempt.next_attempt_at))
    ctx.console.print(table)


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"
