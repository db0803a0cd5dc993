"""`/v1/api-keys`: the unit's API keys. Created with `psms apikey create` or on the console
(the secret is shown once there); here they are listed, shown, renamed and removed (revoked).
A key's secret is never part of an answer: only its hash is stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import expected_version, set_etag
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.patching import PatchIn, changes_of
from proactive_sms.interfaces.api.timestamps import UtcDatetime
from proactive_sms.services import api_keys, audit
from proactive_sms.store.api_keys import ApiKey

router = APIRouter(prefix="/api-keys", tags=["API keys"])

KeyName = Annotated[str, Path(min_length=1, max_length=200, description="The key's name.")]


class ApiKeyOut(BaseModel):
    name: str
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None = Field(description="Set: refused from then on.")
    active: bool
    version: int = Field(description="Raised by every change; the ETag of GET is this.")

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(name=key.name, created_at=key.created_at, revoked_at=key.revoked_at,
                   active=key.revoked_at is None, version=key.version)


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]


class ApiKeyPatch(PatchIn):
    name: str | None = Field(None, min_length=1, max_length=200)


@router.get("")
def list_keys(bu: CurrentBu, engine: EngineDep) -> ApiKeyList:
    """The unit's keys, revoked ones included (marked), oldest first."""
    return ApiKeyList(items=[ApiKeyOut.of(k) for k in api_keys.list_keys(engine, bu)])


@router.get("/{name}")
def get_key(name: KeyName, bu: CurrentBu, engine: EngineDep, response: Response) -> ApiKeyOut:
    """One key; the ETag is its version, for If-Match on a change."""
    key = api_keys.get_key(engine, bu, name)
    set_etag(response, key.version)
    return ApiKeyOut.of(key)


@router.patch("/{name}")
def rename_key(name: KeyName, body: ApiKeyPatch, bu: CurrentBu, engine: EngineDep,
               clock: ClockDep, request: Request, response: Response) -> ApiKeyOut:
    """Rename the key (its name is all that can change). With If-Match, only if nobody
    changed it since that read (412 otherwise)."""
    changes = changes_of(body)
    key = api_keys.rename(engine, bu, clock, name, changes["name"], expected_version(request),
                          actor=audit.API_USERNAME)
    set_etag(response, key.version)
    return ApiKeyOut.of(key)


@router.delete("/{name}")
def remove_key(name: KeyName, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
               request: Request) -> ApiKeyOut:
    """Revoke the key at once (its next request is refused); it stays listed as revoked."""
    return ApiKeyOut.of(api_keys.remove(engine, bu, clock, name, expected_version(request),
                                        actor=audit.API_USERNAME))
