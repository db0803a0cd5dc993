"""`/v1/registrations`: the BU's transport codes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api import idempotency
from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import expected_version, set_etag
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.errors import blame
from proactive_sms.interfaces.api.idempotency import Idempotent
from proactive_sms.interfaces.api.pagination import Paged, PageParams, paged
from proactive_sms.interfaces.api.patching import PatchIn, RemovalOut, changes_of
from proactive_sms.interfaces.api.request_bodies import RequestBody
from proactive_sms.interfaces.api.timestamps import UtcDatetime
from proactive_sms.services import administration, audit, listing, setup_changes
from proactive_sms.store.code_pace import CodePace
from proactive_sms.store.errors import NotFound
from proactive_sms.store.registrations import Registration

router = APIRouter(prefix="/registrations", tags=["registrations"])


class RegistrationIn(RequestBody):
    code: str = Field(description="10-digit number, or 5-6 digits for a short code.")
    kind: Literal["long", "short", "toll_free"]
    throughput_per_s: float = Field(gt=0, description="Limit of the code, per second.")
    throughput_unit: Literal["segments", "messages"] = "segments"
    solution: Literal["sms_messaging", "external"] = "external"
    status: Literal["provisioning", "active"] = "active"
    connection: str | None = Field(None, description="Carrier connection it sends through.")
    dnc_group: str | None = Field(None, description="DNC group (else the tenant default list).")


class PaceOut(BaseModel):
    """What the code may send now, as its dispatching worker last recorded it."""

    rate_per_s: float = Field(description="Below limit_per_s while the carrier throttles.")
    limit_per_s: float
    throttled: bool = Field(description="Held below its limit after carrier throttling.")
    throttle_events: int = Field(description="Bursts of 0x58 answers since its worker started "
                                             "dispatching it.")
    last_throttle_at: UtcDatetime | None
    paused: bool = Field(description="Paused after events with nothing accepted between them.")


class RegistrationOut(BaseModel):
    code: str
    kind: str
    status: str
    throughput_per_s: float
    throughput_unit: str
    solution: str
    version: int = Field(description="Raised by every change; the ETag of GET is this.")
    pace: PaceOut | None = Field(None, description="Absent until a worker dispatched the code.")

    @classmethod
    def of(cls, reg: Registration, pace: CodePace | None = None) -> RegistrationOut:
        return cls(code=reg.code, kind=reg.kind, status=reg.status,
                   throughput_per_s=reg.throughput_per_s, throughput_unit=reg.throughput_unit,
                   solution=reg.solution, version=reg.version,
                   pace=None if pace is None else PaceOut(
                       rate_per_s=pace.rate_per_s, limit_per_s=pace.limit_per_s,
                       throttled=pace.throttled, throttle_events=pace.throttle_events,
                       last_throttle_at=pace.last_throttle_at, paused=pace.paused))


@router.get("")
def list_registrations(bu: CurrentBu, engine: EngineDep,
                       page: PageParams) -> Paged[RegistrationOut]:
    """The BU's registrations, a page at a time."""
    paces = administration.code_paces(engine, bu)
    return paged(listing.registrations_page(engine, bu, page),
                 lambda reg: RegistrationOut.of(reg, paces.get(reg.id)))


@router.post("", status_code=201, responses=idempotency.responses(201))
def create_registration(body: RegistrationIn, bu: CurrentBu, engine: EngineDep,
                        clock: ClockDep, guard: Idempotent) -> RegistrationOut:
    """Assign a transport code to the BU."""

    def create() -> RegistrationOut:
        with blame("code"):
            reg = administration.add_registration(
                engine, bu, clock, code=body.code, kind=body.kind,
                throughput_per_s=body.throughput_per_s, throughput_unit=body.throughput_unit,
                connection=body.connection, dnc_group=body.dnc_group, solution=body.solution,
                status=body.status)
        return RegistrationOut.of(reg)

    return guard.run(create)


class RegistrationPatch(PatchIn):
    status: Literal["provisioning", "active"] | None = None
    throughput_per_s: float | None = Field(None, gt=0, description="Limit of the code, per "
                                           "second (within what its kind allows).")
    throughput_unit: Literal["segments", "messages"] | None = None
    solution: Literal["sms_messaging", "external"] | None = None
    connection: str | None = Field(None, description="Carrier connection (null: none).")
    dnc_group: str | None = Field(None, description="DNC group (null: the tenant default).")


@router.get("/{code}")
def get_registration(code: str, bu: CurrentBu, engine: EngineDep,
                     response: Response) -> RegistrationOut:
    """One registration by its code as stored (E.164 for long and toll-free codes); the ETag
    is its version, for If-Match on a change."""
    for reg in administration.list_registrations(engine, bu):
        if reg.code == administration.code_key(code, bu):
            set_etag(response, reg.version)
            return RegistrationOut.of(reg, administration.code_paces(engine, bu).get(reg.id))
    raise NotFound("registration", code)


@router.patch("/{code}")
def change_registration(code: str, body: RegistrationPatch, bu: CurrentBu, engine: EngineDep,
                        clock: ClockDep, request: Request,
                        response: Response) -> RegistrationOut:
    """Change the fields sent (checked as at creation). With If-Match, only if nobody changed
    it since that read (412 otherwise). The code and its kind cannot change."""
    changes = changes_of(body, nullable=("connection", "dnc_group"))
    reg = setup_changes.change_registration(engine, bu, clock, code, changes,
                                            expected_version(request),
                                            actor=audit.API_USERNAME)
    set_etag(response, reg.version)
    return RegistrationOut.of(reg, administration.code_paces(engine, bu).get(reg.id))


@router.delete("/{code}")
def remove_registration(code: str, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                        request: Request) -> RemovalOut:
    """Remove the code: 409 naming the skills while one not yet over uses it; archived (not
    deleted) when texts, skills or conversations refer to it."""
    removal = setup_changes.remove_registration(engine, bu, clock, code,
                                                expected_version(request),
                                                actor=audit.API_USERNAME)
    return RemovalOut(**removal.as_dict())
