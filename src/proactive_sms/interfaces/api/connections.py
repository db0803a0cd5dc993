"""`/v1/connections`: the carrier connections (SMPP) registrations send through.

Connections belong to the tenant, not to one BU (the store keys them by tenant and name, and a
registration of any BU of the tenant may use one): every BU of the tenant sees them, another
tenant's key sees none. Passwords are write-only.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api import idempotency
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.services import administration, listing
from proactive_sms.store.registrations import CarrierConnection

router = APIRouter(prefix="/connections", tags=["carrier connections"])


class ConnectionIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    host: str = Field(min_length=1, max_length=200)
    port: int = Field(2775, ge=1, le=65535)
    system_id: str = Field(min_length=1, max_length=15, description="SMPP system_id.")
    password: str = Field(max_length=8, description="SMPP password (never shown again).")
    window_size: int = Field(10, ge=1, le=1000, description="Unacknowledged submits at most.")
    enquire_link_s: float | None = Field(None, ge=1, le=3600, description="Idle seconds before "
                                         "a keep-alive probe (null: the default, 30 s).")


class ConnectionOut(BaseModel):
    name: str
    kind: str
    host: str
    port: int
    system_id: str
    window_size: int
    enquire_link_s: float | None = None
    last_error: str | None = Field(None, description="Why the last bind or connect failed, in "
                                   "words (a refused password says so); null once bound.")
    last_error_at: datetime | None = None

    @classmethod
    def of(cls, c: CarrierConnection) -> ConnectionOut:
        return cls(name=c.name, kind=c.kind, host=c.host, port=c.port, system_id=c.system_id,
                   window_size=c.window_size, enquire_link_s=c.enquire_link_s,
                   last_error=c.last_error,
                   last_error_at=c.last_error_at)


@router.get("")
def list_connections(bu: CurrentBu, engine: EngineDep,
                     page: PageParams) -> Paged[ConnectionOut]:
    """The tenant's carrier connections, a page at a time."""
    return paged(listing.connections_page(engine, bu, page), ConnectionOut.of)


@router.post("", status_code=201, responses=idempotency.responses(201))
def create_connection(body: ConnectionIn, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                      guard: Idempotent) -> ConnectionOut:
    """Add an SMPP connection to the tenant (a name in use is a 409: the CLI's
    `psms connection add` is the way to change one)."""
    return guard.run(lambda: ConnectionOut.of(administration.add_connection(
        engine, bu, clock, body.name, body.host, body.port, body.system_id, body.password,
        body.window_size, replace=False, enquire_link_s=body.enquire_link_s)))


@router.get("/{name}")
def get_connection(name: str, bu: CurrentBu, engine: EngineDep) -> ConnectionOut:
    return ConnectionOut.of(administration.find_connection(engine, bu, name))
