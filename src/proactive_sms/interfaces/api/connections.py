"""`/v1/connections`: the carrier connections (SMPP binds, HTTP provider accounts) registrations
send through.

Connections belong to the tenant, not to one BU (the store keys them by tenant and name, and a
registration of any BU of the tenant may use one): every BU of the tenant sees them, another
tenant's key sees none. Passwords are write-only.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api import idempotency
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import expected_version, set_etag
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.patching import PatchIn, RemovalOut, changes_of
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.interfaces.api.timestamps import UtcDatetime
from proactive_sms.services import (
    administration,
    audit,
    carrier_connections,
    listing,
    setup_changes,
)
from proactive_sms.services.carrier_callbacks import account_of
from proactive_sms.services.link_status import LinkSummary
from proactive_sms.store.registrations import CarrierConnection

router = APIRouter(prefix="/connections", tags=["carrier connections"])


class ConnectionIn(RequestBody):
    name: str = Field(min_length=1, max_length=100)
    host: str = Field(min_length=1, max_length=200)
    port: int = Field(2775, ge=1, le=65535)
    system_id: str = Field(min_length=1, max_length=15, description="SMPP system_id.")
    password: str = Field(max_length=8, description="SMPP password (never shown again).")
    window_size: int = Field(10, ge=1, le=1000, description="Unacknowledged submits at most.")
    enquire_link_s: float | None = Field(None, ge=1, le=3600, description="Idle seconds before "
                                         "a keep-alive probe (null: the default, 30 s).")


class HttpConnectionIn(RequestBody):
    name: str = Field(min_length=1, max_length=100)
    provider: Literal["twilio", "vonage"] = Field("twilio",
                                                  description="The provider's API shape.")
    account: str = Field(min_length=1, max_length=100,
                         description="The account id (Twilio: the Account SID; Vonage: the "
                         "API key).")
    token: str = Field(min_length=1, max_length=200, description="The account's secret "
                       "(Twilio: the Auth Token; Vonage: the API secret); sealed at rest, "
                       "never shown again.")
    signature_secret: str | None = Field(None, min_length=1, max_length=200, description=(
        "Vonage only (required there): the signature secret its receipts and inbound texts "
        "are signed with; sealed at rest, never shown again."))
    callback_url: str = Field(min_length=1, max_length=300, description="The public base URL "
                              "of this service that the provider posts status reports and "
                              "inbound texts to (/carrier-callbacks/{id}/status, /inbound).")
    base_url: str | None = Field(None, max_length=300, description="The provider API's base "
                                 "URL (null: the provider's own).")
    window_size: int = Field(10, ge=1, le=1000, description="Submits awaiting their answer "
                             "at most.")


class LinkOut(BaseModel):
    state: Literal["bound", "unbound", "stopped", "no report"] = Field(
        description="As the dispatchers running it report it; 'no report': none runs it now.")
    since: UtcDatetime | None
    last_error: str | None = Field(description="A failed connect or bind (a refused bind "
                                               "names its SMPP status), or a lost session.")
    last_error_at: UtcDatetime | None
    breaker: Literal["closed", "open", "half_open"] | None = Field(
        None, description="The dispatchers' circuit breaker of the connection: open (no texts "
        "through it: a registration's next connection carries them), half_open (one probe "
        "text decides), closed; null while no dispatcher runs it.")
    breaker_reason: str | None = Field(None, description="Why it opened: bind refused, "
                                       "connection lost, no answer, probe failed.")

    @classmethod
    def of(cls, link: LinkSummary) -> LinkOut:
        return cls(state=link.state, since=link.since, last_error=link.last_error,
                   last_error_at=link.last_error_at, breaker=link.breaker,
                   breaker_reason=link.breaker_reason)


NO_REPORT = LinkSummary("no report", None, None, None, [])


class ConnectionOut(BaseModel):
    name: str
    kind: str
    host: str
    port: int
    system_id: str
    window_size: int
    enquire_link_s: float | None = None
    link: LinkOut = Field(description="The connection's status, the one the console and "
                          "`psms connection list` show: state, since when, and the last error "
                          "with its time (a refused password says so).")
    version: int = Field(1, description="Raised by every change; the ETag of GET is this.")
    # HTTP provider connections (kind "http"); null on SMPP ones
    provider: str | None = None
    account: str | None = None
    base_url: str | None = None
    callback_url: str | None = None
    status_callback_url: str | None = Field(None, description="Where the provider posts "
                                            "status reports (given with each text).")
    inbound_webhook_url: str | None = Field(None, description="The webhook to set on the "
                                            "provider's numbers for inbound texts.")

    @classmethod
    def of(cls, c: CarrierConnection, link: LinkSummary = NO_REPORT) -> ConnectionOut:
        http = {}
        if c.kind == "http":
            account = account_of(c)
            http = dict(provider=c.provider, account=c.account, base_url=c.base_url,
                        callback_url=c.callback_url,
                        status_callback_url=account.callback("status"),
                        inbound_webhook_url=account.callback("inbound"))
        return cls(name=c.name, kind=c.kind, host=c.host, port=c.port, system_id=c.system_id,
                   window_size=c.window_size, enquire_link_s=c.enquire_link_s,
                   link=LinkOut.of(link), version=c.version, **http)


@router.get("")
def list_connections(bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                     page: PageParams) -> Paged[ConnectionOut]:
    """The tenant's carrier connections with their link status, a page at a time."""
    found = listing.connections_page(engine, bu, page)
    status = carrier_connections.links(engine, clock, [c.id for c in found.items])
    return paged(found, lambda c: ConnectionOut.of(c, status[c.id]))


@router.post("", status_code=201, responses=idempotency.responses(201))
def create_connection(body: ConnectionIn, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                      guard: Idempotent) -> ConnectionOut:
    """Add an SMPP connection to the tenant (a name in use is a 409: the CLI's
    `psms connection add` is the way to change one)."""
    return guard.run(lambda: ConnectionOut.of(administration.add_connection(
        engine, bu, clock, body.name, body.host, body.port, body.system_id, body.password,
        body.window_size, replace=False, enquire_link_s=body.enquire_link_s)))


@router.post("/http", status_code=201, responses=idempotency.responses(201))
def create_http_connection(body: HttpConnectionIn, bu: CurrentBu, engine: EngineDep,
                           clock: ClockDep, guard: Idempotent) -> ConnectionOut:
    """Add an HTTP provider connection to the tenant (a name in use is a 409). The answer
    names the callback URLs to give the provider."""
    return guard.run(lambda: ConnectionOut.of(administration.add_http_connection(
        engine, bu, clock, body.name, provider=body.provider, account=body.account,
        token=body.token, base_url=body.base_url, callback_url=body.callback_url,
        window_size=body.window_size, replace=False, signature_secret=body.signature_secret)))


class ConnectionPatch(PatchIn):
    host: str | None = Field(None, min_length=1, max_length=200)
    port: int | None = Field(None, ge=1, le=65535)
    system_id: str | None = Field(None, min_length=1, max_length=15)
    password: str | None = Field(None, max_length=8, description="Write-only, sealed at rest.")
    window_size: int | None = Field(None, ge=1, le=1000)
    enquire_link_s: float | None = Field(None, ge=1, le=3600,
                                         description="null: the default, 30 s.")
    # An HTTP provider connection's
    account: str | None = Field(None, min_length=1, max_length=100)
    token: str | None = Field(None, min_length=1, max_length=200,
                              description="Write-only, sealed at rest.")
    base_url: str | None = Field(None, min_length=1, max_length=300)
    callback_url: str | None = Field(None, min_length=1, max_length=300)
    signature_secret: str | None = Field(None, min_length=1, max_length=200,
                                         description="Vonage: write-only, sealed at rest.")


@router.get("/{name}")
def get_connection(name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                   response: Response) -> ConnectionOut:
    """One connection (never its password); the ETag is its version."""
    found = administration.find_connection(engine, bu, name)
    set_etag(response, found.version)
    return ConnectionOut.of(found, carrier_connections.links(engine, clock, [found.id])[found.id])


@router.patch("/{name}")
def change_connection(name: str, body: ConnectionPatch, bu: CurrentBu, engine: EngineDep,
                      clock: ClockDep, request: Request, response: Response) -> ConnectionOut:
    """Change the fields sent; a dispatcher binds with the new settings when it next connects.
    With If-Match, only if nobody changed it since (412 otherwise)."""
    changes = changes_of(body, nullable=("enquire_link_s",))
    if "token" in changes:  # an HTTP connection's token is kept as its password
        changes["password"] = changes.pop("token")
    found = setup_changes.change_connection(engine, bu, clock, name, changes,
                                            expected_version(request),
                                            actor=audit.API_USERNAME)
    set_etag(response, found.version)
    return ConnectionOut.of(found, carrier_connections.links(engine, clock, [found.id])[found.id])


@router.delete("/{name}")
def remove_connection(name: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                      request: Request) -> RemovalOut:
    """Remove the connection: 409 naming the codes that send through it; archived when history
    (texts received on it) refers to it."""
    removal = setup_changes.remove_connection(engine, bu, clock, name,
                                              expected_version(request),
                                              actor=audit.API_USERNAME)
    return RemovalOut(**removal.as_dict())
