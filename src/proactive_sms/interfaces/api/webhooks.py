"""`/v1/webhook`: the BU's webhook endpoint, its delivery log, redelivery and a test ping.

Signatures and payloads are described in docs/webhooks.md. The secret is in the answer only when
the endpoint is created and when it is rotated.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import expected_version, set_etag
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import blame
from proactive_sms.interfaces.api.patching import PatchIn, changes_of
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.services import audit, webhooks
from proactive_sms.store.webhooks import Endpoint

router = APIRouter(prefix="/webhook", tags=["webhook"])

EventTypeName = Literal[webhooks.SUBSCRIBABLE]  # every type but the ping


class EndpointIn(RequestBody):
    url: str = Field(description="Where events are POSTed: https:// (or http://) with a host.",
                     max_length=2000)
    event_types: list[EventTypeName] | None = Field(
        None, min_length=1, description="Only these types (default: every type).")
    active: bool = Field(True, description="False: keep the settings, send nothing.")


class EndpointOut(BaseModel):
    url: str
    event_types: list[str] | None
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int = Field(1, description="Raised by every change; the ETag of GET is this.")
    signature_scheme: Literal["standard", "legacy"] = Field(
        "standard", description="standard: Standard Webhooks headers only. legacy: a secret "
        "made before them; PSMS-Signature is sent too, until the secret is rotated.")
    secret: str | None = Field(None, description="Only when created or rotated: keep it, it "
                                                 "is not shown again.")

    @classmethod
    def of(cls, endpoint: Endpoint, secret: str | None = None) -> EndpointOut:
        return cls(url=endpoint.url, event_types=list(endpoint.event_types)
                   if endpoint.event_types is not None else None, active=endpoint.active,
                   created_at=endpoint.created_at, updated_at=endpoint.updated_at,
                   version=endpoint.version, signature_scheme=endpoint.signature_scheme,
                   secret=secret)


class AttemptOut(BaseModel):
    attempt: int = Field(description="Its number in its round (a redelivery starts again).")
    attempted_at: datetime
    url: str
    http_status: int | None = Field(description="null: no answer (timeout, refused, …)")
    error: str | None
    duration_ms: int
    outcome: Literal["delivered", "retrying", "given_up"]
    next_attempt_at: datetime | None


class DeliveryOut(BaseModel):
    event_id: str
    type: str
    occurred_at: datetime
    state: Literal["pending", "delivered", "given_up", "cancelled"]
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description="The body as sent.")
    log: list[AttemptOut]

    @classmethod
    def of(cls, delivery: webhooks.Delivery) -> DeliveryOut:
        event = delivery.event
        return cls(event_id=event.public_id, type=event.type, occurred_at=event.occurred_at,
                   state=event.state, attempts=event.attempts,
                   next_attempt_at=event.next_attempt_at, delivered_at=event.delivered_at,
                   payload=json.loads(event.body),
                   log=[AttemptOut(attempt=a.attempt_no, attempted_at=a.attempted_at,
                                   url=a.url, http_status=a.http_status, error=a.error,
                                   duration_ms=a.duration_ms, outcome=a.outcome,
                                   next_attempt_at=a.next_attempt_at)
                        for a in delivery.attempts])


class DeliveryPageOut(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for older events; null: "
                                                "no more.")


@router.put("")
def set_endpoint(body: EndpointIn, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                 response: Response) -> EndpointOut:
    """Create the endpoint (201, with its secret) or replace its URL, filter and state (200;
    the secret is kept)."""
    with blame("url"):
        saved = webhooks.set_endpoint(engine, bu, clock, body.url, event_types=body.event_types,
                                      active=body.active)
    response.status_code = 201 if saved.created else 200
    return EndpointOut.of(saved.endpoint, saved.secret)


@router.get("")
def get_endpoint(bu: CurrentBu, engine: EngineDep, response: Response) -> EndpointOut:
    """The endpoint, without its secret; the ETag is its version, for If-Match on a change."""
    found = webhooks.show_endpoint(engine, bu)
    set_etag(response, found.version)
    return EndpointOut.of(found)


class EndpointPatch(PatchIn):
    url: str | None = Field(None, max_length=2000, description="Checked like a new URL (a "
                                                               "public https:// address).")
    event_types: list[EventTypeName] | None = Field(
        None, min_length=1, description="Only these types (null: every type).")
    active: bool | None = Field(None, description="False: keep the settings, send nothing "
                                                  "(events not yet delivered are cancelled).")


@router.patch("")
def change_endpoint(body: EndpointPatch, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                    request: Request, response: Response) -> EndpointOut:
    """Change the fields sent (the secret is kept: POST /secret rotates it). With If-Match,
    only if nobody changed the endpoint since that read (412 otherwise)."""
    changes = changes_of(body, nullable=("event_types",))
    found = webhooks.change_endpoint(engine, bu, clock, changes, expected_version(request),
                                     actor=audit.API_USERNAME)
    set_etag(response, found.version)
    return EndpointOut.of(found)


@router.delete("", status_code=204)
def delete_endpoint(bu: CurrentBu, engine: EngineDep, request: Request) -> Response:
    """Remove the endpoint; events not yet delivered are cancelled (the log stays). With
    If-Match, only if nobody changed it since that read (412 otherwise)."""
    webhooks.remove_endpoint(engine, bu, expected_version(request), actor=audit.API_USERNAME)
    return Response(status_code=204)


@router.post("/secret")
def rotate_secret(bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> EndpointOut:
    """A new secret, effective at once (the answer carries it)."""
    saved = webhooks.rotate_secret(engine, bu, clock)
    return EndpointOut.of(saved.endpoint, saved.secret)


@router.post("/test")
async def send_test(bu: CurrentBu, engine: EngineDep, clock: ClockDep) -> DeliveryOut:
    """Send a `webhook.ping` now; the answer shows its first attempt."""
    with blame("active"):
        return DeliveryOut.of(await webhooks.ping(engine, bu, clock))


@router.get("/deliveries")
def list_deliveries(bu: CurrentBu, engine: EngineDep,
                    cursor: Annotated[str | None, Query(max_length=40)] = None,
                    limit: Annotated[int, Query(ge=1, le=webhooks.MAX_PAGE)] = 50,
                    ) -> DeliveryPageOut:
    """The delivery log: events newest first, each with every attempt."""
    with blame("cursor"):
        page = webhooks.deliveries(engine, bu, cursor, limit)
    return DeliveryPageOut(items=[DeliveryOut.of(d) for d in page.items],
                           next_cursor=page.next_cursor)


@router.get("/deliveries/{event_id}")
def get_delivery(event_id: str, bu: CurrentBu, engine: EngineDep) -> DeliveryOut:
    return DeliveryOut.of(webhooks.delivery(engine, bu, event_id))


@router.post("/deliveries/{event_id}/redeliver", status_code=202)
def redeliver(event_id: str, bu: CurrentBu, engine: EngineDep,
              clock: ClockDep) -> DeliveryOut:
    """Send the event again: a new round of attempts, the first one due now."""
    with blame("event_id"):
        return DeliveryOut.of(webhooks.redeliver(engine, bu, clock, event_id))
