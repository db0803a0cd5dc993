"""`psms webhook …`: the business unit's webhook (see docs/webhooks.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from proactive_sms.domain.webhook_events import SUBSCRIBABLE  # standard library only
from proactive_sms.interfaces.cli import context as ctx
from proactive_sms.interfaces.cli.output import JsonOption, emit_json, print_rows

if TYPE_CHECKING:
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
                                                      "all): " + ", ".join(SUBSCRIBABLE)),
                disable: bool = typer.Option(False, "--disable", help="Keep it, send nothing."),
                bu: str = ctx.BuOption):
    """Create the webhook, or change its URL, event types or state (the secret is kept)."""
    from proactive_sms.services import webhooks

    types = [t.strip() for t in events.split(",") if t.strip()] if events else None
    saved = webhooks.set_endpoint(ctx.engine(), ctx.business_unit(bu), ctx.clock, url,
                                  event_types=types, active=not disable)
    ctx.errors.print(f"webhook {'created' if saved.created else 'updated'}: "
                     f"{saved.endpoint.url}", highlight=False)
    if saved.secret:
        _print_secret(saved.secret)


@app.command("show")
@ctx.handle_errors
def webhook_show(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The webhook's URL, event types and state (never its secret)."""
    from proactive_sms.services import webhooks

    endpoint = webhooks.show_endpoint(ctx.engine(), ctx.business_unit(bu))
    if as_json:
        emit_json({"url": endpoint.url, "event_types": list(endpoint.event_types or []) or None,
                   "active": endpoint.active, "created_at": endpoint.created_at,
                   "updated_at": endpoint.updated_at,
                   "signature_scheme": endpoint.signature_scheme})
        return
    ctx.console.print(f"url:         {endpoint.url}", highlight=False)
    ctx.console.print(f"events:      {', '.join(endpoint.event_types or ['all'])}")
    ctx.console.print(f"active:      {'yes' if endpoint.active else 'no'}")
    ctx.console.print(f"updated:     {endpoint.updated_at:%Y-%m-%d %H:%M:%S}")
    legacy = endpoint.signature_scheme == "legacy"
    ctx.console.print("signatures:  Standard Webhooks" + (
        " + legacy PSMS-Signature (rotate the secret to drop it)" if legacy else ""))


@app.command("remove")
@ctx.handle_errors
def webhook_remove(bu: str = ctx.BuOption):
    """Remove the webhook; events not yet delivered are cancelled."""
    from proactive_sms.services import webhooks

    cancelled = webhooks.remove_endpoint(ctx.engine(), ctx.business_unit(bu))
    ctx.console.print(f"webhook removed ({cancelled} undelivered event(s) cancelled)")


@app.command("rotate")
@ctx.handle_errors
def webhook_rotate(bu: str = ctx.BuOption):
    """A new signing secret (Standard Webhooks form), effective at once."""
    from proactive_sms.services import webhooks

    _print_secret(webhooks.rotate_secret(ctx.engine(), ctx.business_unit(bu), ctx.clock).secret)


@app.command("test")
@ctx.handle_errors
def webhook_test(as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Send a webhook.ping now and show what the receiver answered (exit code 1 when it was
    not delivered)."""
    import asyncio

    from proactive_sms.services import webhooks

    delivery = asyncio.run(webhooks.ping(ctx.engine(), ctx.business_unit(bu), ctx.clock))
    _print_log([delivery], as_json)
    # No attempt of ours: a sender running beside took it first, and it is still on its way.
    last = delivery.attempts[-1] if delivery.attempts else None
    if last is not None and last.outcome != "delivered":
        answer = f"HTTP {last.http_status}" if last.http_status else (last.error or "no answer")
        raise ctx.fail(f"the receiver did not take the ping ({answer})")


@app.command("deliveries")
@ctx.handle_errors
def webhook_deliveries(limit: int = typer.Option(20, help="Events to show (newest first)."),
                       cursor: str = typer.Option(None, help="Older than this (from the "
                                                             "previous page)."),
                       as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """The delivery log: every attempt of the latest events."""
    from proactive_sms.services import webhooks

    page = webhooks.deliveries(ctx.engine(), ctx.business_unit(bu), cursor, limit)
    if as_json:
        emit_json({"items": [_delivery_fields(d) for d in page.items],
                   "next_cursor": page.next_cursor})
        return
    _print_log(page.items)
    if page.next_cursor:
        ctx.console.print(f"older: --cursor {page.next_cursor}")


@app.command("redeliver")
@ctx.handle_errors
def webhook_redeliver(event_id: str, bu: str = ctx.BuOption):
    """Send an event again (a running dispatcher or server delivers it)."""
    from proactive_sms.services import webhooks

    webhooks.redeliver(ctx.engine(), ctx.business_unit(bu), ctx.clock, event_id)
    ctx.console.print(f"{event_id} queued for delivery")


def _delivery_fields(delivery: webhooks.Delivery) -> dict:
    event = delivery.event
    return {"event": event.public_id, "type": event.type, "state": event.state,
            "occurred_at": event.occurred_at, "next_attempt_at": event.next_attempt_at,
            "attempts": [{"attempt": a.attempt_no, "at": a.attempted_at,
                          "http_status": a.http_status, "error": a.error,
                          "duration_ms": a.duration_ms, "outcome": a.outcome,
                          "next_attempt_at": a.next_attempt_at} for a in delivery.attempts]}


def _print_log(deliveries: list[webhooks.Delivery], as_json: bool = False) -> None:
    if as_json:
        emit_json([_delivery_fields(d) for d in deliveries])
        return
    rows = []
    for delivery in deliveries:
        event = delivery.event
        if not delivery.attempts:
            rows.append([event.public_id, event.type, event.state, "-", "-", "-", "-",
                         _when(event.next_attempt_at)])
        for attempt in delivery.attempts:
            answer = str(attempt.http_status) if attempt.http_status else (attempt.error or "")
            rows.append([event.public_id, event.type, event.state, attempt.attempt_no,
                         _when(attempt.attempted_at), answer[:60], attempt.duration_ms,
                         _when(attempt.next_attempt_at)])
    print_rows(ctx.console, ["event", "type", "state", "attempt", "at", "answer", "ms", "next"],
               rows, title="Webhook deliveries", right_aligned=["attempt", "ms"])


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"


# --- change (issue 17) ---------------------------------------------------------------------------

@app.command("change")
@ctx.handle_errors
def webhook_change(url: str = typer.Option(None, help="A new URL (checked like a new one)."),
                   events: str = typer.Option(None, help="Comma-separated event types, or "
                                                         "'all'."),
                   active: bool = typer.Option(None, "--active/--inactive",
                                               help="Send, or keep it and send nothing."),
                   as_json: bool = JsonOption, bu: str = ctx.BuOption):
    """Change what is given of the webhook; the secret is kept (`rotate` replaces it)."""
    from proactive_sms.services import webhooks
    from proactive_sms.services.administration import InvalidRequest

    changes: dict = {}
    if url is not None:
        changes["url"] = url
    if events is not None:
        changes["event_types"] = (None if events.strip() == "all" else
                                  [t.strip() for t in events.split(",") if t.strip()])
    if active is not None:
        changes["active"] = active
    if not changes:
        raise InvalidRequest("nothing to change: give --url, --events or --active/--inactive")
    endpoint = webhooks.change_endpoint(ctx.engine(), ctx.business_unit(bu), ctx.clock, changes)
    if as_json:
        emit_json({"url": endpoint.url, "event_types": endpoint.event_types,
                   "active": endpoint.active, "created_at": endpoint.created_at,
                   "updated_at": endpoint.updated_at, "version": endpoint.version})
        return
    ctx.console.print(f"webhook changed: {', '.join(sorted(changes))}")
