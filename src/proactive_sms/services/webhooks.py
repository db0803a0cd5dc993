"""A business unit's webhook: set it, read it, rotate its secret, remove it; the delivery log;
redelivery; a test ping. Each is one transaction, scoped to the BU (the CLI and API call these)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Engine

from proactive_sms.domain import webhook_signature
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.destinations import host_problem
from proactive_sms.domain.webhook_events import SUBSCRIBABLE, EventType
from proactive_sms.services import webhook_transport
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.webhook_sender import WebhookSender
from proactive_sms.store import webhook_events, webhooks
from proactive_sms.store.errors import NotFound
from proactive_sms.store.tenancy import BusinessUnit
from proactive_sms.store.webhook_events import Attempt, Event
from proactive_sms.store.webhooks import Endpoint

SECRET_PREFIX = webhook_signature.SECRET_PREFIX
MAX_PAGE = 200


@dataclass(frozen=True)
class SavedEndpoint:
    endpoint: Endpoint
    created: bool
    secret: str | None  # only when created (or rotated): it is not shown again


@dataclass(frozen=True)
class Delivery:
    """One event and every attempt to deliver it, for the delivery log."""

    event: Event
    attempts: list[Attempt]


@dataclass(frozen=True)
class DeliveryPage:
    items: list[Delivery]
    next_cursor: str | None


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host, no user info or fragment, whose host is not this
    machine or a private network (domain.destinations, unless PSMS_WEBHOOK_ALLOW_INTERNAL
    allows it); refused with the reason. A name is checked again on its addresses at every
    connection (services.webhook_transport)."""
    url = url.strip()
    if len(url) > 2000:
        raise InvalidRequest("url is longer than 2000 characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise InvalidRequest(f"url is not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidRequest(f"url must start with https:// (or http://), got '{url[:100]}'")
    if not parts.hostname:
        raise InvalidRequest(f"url has no host: '{url[:100]}'")
    if parts.username or parts.password:
        raise InvalidRequest("url must not carry a user name or password: the signature "
                             "proves who sends")
    if parts.fragment:
        raise InvalidRequest("url must not have a #fragment")
    if any(ch.isspace() for ch in url):
        raise InvalidRequest("url must not contain spaces")
    problem = host_problem(parts.hostname, webhook_transport.allowance_from_env())
    if problem:
        raise InvalidRequest(f"url must point to a public address: {problem} (a private "
                             f"deployment may allow it with {webhook_transport.ALLOW_ENV})")
    return url


def check_event_types(event_types: Sequence[str] | None) -> list[str] | None:
    if event_types is None:
        return None
    unknown = [t for t in event_types if t not in SUBSCRIBABLE]
    if unknown:
        raise InvalidRequest(f"unknown event type '{unknown[0]}': use "
                             f"{', '.join(SUBSCRIBABLE)}")
    if not event_types:
        raise InvalidRequest("event_types is empty: leave it out to receive every type")
    return list(dict.fromkeys(event_types))


def new_secret() -> str:
    """A Standard Webhooks secret (`whsec_` + base64 of 32 random bytes)."""
    return webhook_signature.new_secret()


def set_endpoint(engine: Engine, bu: BusinessUnit, clock: Clock, url: str, *,
                 event_types: Sequence[str] | None = None, active: bool = True) -> SavedEndpoint:
    """Create the BU's endpoint (with a new secret, returned once) or replace its URL, filter and
    state (the secret is kept)."""
    url = check_url(url)
    types = check_event_types(event_types)
    secret = new_secret()
    with engine.begin() as conn:
        created = webhooks.save_endpoint(conn, bu.id, url=url, active=active, event_types=types,
                                         secret=secret, now=clock.now())
        if not active:
            webhook_events.cancel_pending_of(conn, bu.id)
        endpoint = webhooks.find_endpoint(conn, bu.id)
    webhooks.forget_watched(engine)
    return SavedEndpoint(endpoint, created, secret if created else None)


def show_endpoint(engine: Engine, bu: BusinessUnit) -> Endpoint:
    with engine.connect() as conn:
        return _endpoint(conn, bu)


def rotate_secret(engine: Engine, bu: BusinessUnit, clock: Clock) -> SavedEndpoint:
    """A new secret at once: deliveries from now on are signed with it (the old one stops)."""
    secret = new_secret()
    with engine.begin() as conn:
        _endpoint(conn, bu)
        webhooks.set_secret(conn, bu.id, secret, clock.now())
        endpoint = _endpoint(conn, bu)
    return SavedEndpoint(endpoint, False, secret)


def remove_endpoint(engine: Engine, bu: BusinessUnit, expected_version: int | None = None,
                    *, actor: str | None = None) -> int:
    """Remove the endpoint; events not yet delivered are cancelled (the log stays). Returns how
    many were cancelled. With `expected_version`, only if it is still at that version."""
    from proactive_sms.services import audit
    from proactive_sms.store import versions
    from proactive_sms.store.schema import webhook_endpoint

    with engine.begin() as conn:
        found = _endpoint(conn, bu)
        versions.remove(conn, webhook_endpoint, found.id, expected_version,
                        kind="webhook endpoint", key=bu.name)
        cancelled = webhook_events.cancel_pending_of(conn, bu.id)
        audit.record(conn, None, "webhook.removed", "webhook",
                     {"url": found.url, "cancelled_events": cancelled}, bu=bu, username=actor)
    webhooks.forget_watched(engine)
    return cancelled


def queue_ping(engine: Engine, bu: BusinessUnit, clock: Clock) -> Event:
    """A `webhook.ping` event, due now (the caller or a running sender delivers it)."""
    with engine.begin() as conn:
        endpoint = _endpoint(conn, bu)
        if not endpoint.active:
            raise InvalidRequest("the webhook is disabled: enable it to send a ping")
        webhooks.forget_watched(engine)  # this connection must see the endpoint
        public_id = webhook_events.emit(conn, bu.id, EventType.PING,
                                        {"message": "a test from Proactive SMS"}, clock.now())
        return webhook_events.find_event(conn, bu.id, public_id)


def deliveries(engine: Engine, bu: BusinessUnit, cursor: str | None = None,
               limit: int = 50) -> DeliveryPage:
    """The delivery log, newest event first, a page at a time."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"limit must be 1..{MAX_PAGE}, got {limit}")
    before = _cursor(cursor)
    with engine.connect() as conn:
        events = webhook_events.list_events(conn, bu.id, before, limit + 1)
        page, more = events[:limit], len(events) > limit
        attempts = webhook_events.attempts_of(conn, [e.id for e in page])
    return DeliveryPage([Delivery(e, attempts[e.id]) for e in page],
                        str(page[-1].id) if more else None)


def delivery(engine: Engine, bu: BusinessUnit, event_id: str) -> Delivery:
    with engine.connect() as conn:
        event = _event(conn, bu, event_id)
        return Delivery(event, webhook_events.attempts_of(conn, [event.id])[event.id])


def redeliver(engine: Engine, bu: BusinessUnit, clock: Clock, event_id: str) -> Delivery:
    """Send the event again (a new round of attempts, the first due now), whatever became of
    it; its body and id are the same, so a receiver that has it can drop it."""
    with engine.begin() as conn:
        event = _event(conn, bu, event_id)
        endpoint = webhooks.find_endpoint(conn, bu.id)
        if endpoint is None or not endpoint.active:
            raise InvalidRequest("the webhook is removed or disabled: nothing to send to")
        webhook_events.requeue(conn, event.id, clock.now())
        event = _event(conn, bu, event_id)
        return Delivery(event, webhook_events.attempts_of(conn, [event.id])[event.id])


def _endpoint(conn, bu: BusinessUnit) -> Endpoint:
    endpoint = webhooks.find_endpoint(conn, bu.id)
    if endpoint is None:
        raise NotFound("webhook", f"of business unit {bu.name}: set one first")
    return endpoint


def _event(conn, bu: BusinessUnit, event_id: str) -> Event:
    event = webhook_events.find_event(conn, bu.id, event_id)
    if event is None:
        raise NotFound("webhook event", event_id)
    return event


def _cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not cursor.isdigit() or not cursor.isascii() or len(cursor) > 18:
        raise InvalidRequest(f"cursor '{cursor[:40]}' is not one this API gave")
    return int(cursor)


async def ping(engine: Engine, bu: BusinessUnit, clock: Clock) -> Delivery:
    """Send a `webhook.ping` now and return it with its first attempt (if it failed, it is
    retried like any event). A sender running beside may take it first: then it is shown as
    that sender left it."""
    event = await asyncio.to_thread(queue_ping, engine, bu, clock)
    await WebhookSender(engine, clock).deliver_due(only=[event.id])
    return await asyncio.to_thread(delivery, engine, bu, event.public_id)


ENDPOINT_FIELDS = ("url", "event_types", "active")


def change_endpoint(engine: Engine, bu: BusinessUnit, clock: Clock, changes: dict,
                    expected_version: int | None = None, *,
                    actor: str | None = None) -> Endpoint:
    """Change the endpoint's URL (checked like a new one, SSRF rule included), its event types
    (None: every type) or whether it is active; the secret is kept. Going inactive cancels the
    events not yet delivered, as `set_endpoint` does."""
    from proactive_sms.services import audit
    from proactive_sms.store import versions
    from proactive_sms.store.schema import webhook_endpoint

    unknown = sorted(set(changes) - set(ENDPOINT_FIELDS))
    if unknown:
        raise InvalidRequest(f"cannot change {', '.join(unknown)}: the fields that can be "
                             f"changed are {', '.join(ENDPOINT_FIELDS)}", unknown[0])
    values: dict = {"updated_at": clock.now()}
    if "url" in changes:
        try:
            values["url"] = check_url(changes["url"] or "")
        except InvalidRequest as exc:
            raise InvalidRequest(str(exc), "url") from exc
    if "event_types" in changes:
        try:
            values["event_types"] = check_event_types(changes["event_types"])
        except InvalidRequest as exc:
            raise InvalidRequest(str(exc), "event_types") from exc
    if "active" in changes:
        values["active"] = bool(changes["active"])
    with engine.begin() as conn:
        found = _endpoint(conn, bu)
        versions.change(conn, webhook_endpoint, found.id, expected_version,
                        "webhook endpoint", bu.name, **values)
        if values.get("active") is False:
            webhook_events.cancel_pending_of(conn, bu.id)
        audit.record(conn, None, "webhook.changed", "webhook", dict(changes), bu=bu,
                     now=clock.now(), username=actor)
        endpoint = _endpoint(conn, bu)
    webhooks.forget_watched(engine)
    return endpoint

