"""`/v1/users`: the unit's console users (who signs in to the web console, with which role).

Created with `psms user create` or on the console's Users page (a password is involved); here
they are listed, shown, changed (role, agent, disabled) and removed. Password hashes are never
part of an answer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from proactive_sms.interfaces.api.auth import CurrentBu
from proactive_sms.interfaces.api.concurrency import expected_version, set_etag
from proactive_sms.interfaces.api.deps import ClockDep, EngineDep
from proactive_sms.interfaces.api.patching import PatchIn, changes_of
from proactive_sms.interfaces.api.timestamps import UtcDatetime
from proactive_sms.services import audit, console_users
from proactive_sms.services.console_users import UserView

router = APIRouter(prefix="/users", tags=["console users"])

Username = Annotated[str, Path(min_length=1, max_length=64, description="The username.")]
Role = Literal["admin", "supervisor", "agent"]


class UserOut(BaseModel):
    username: str
    role: Role
    agent: str | None = Field(description="An agent user's agent.")
    disabled: bool
    disabled_at: UtcDatetime | None
    created_at: UtcDatetime
    password_changed_at: UtcDatetime
    version: int = Field(description="Raised by every change; the ETag of GET is this.")

    @classmethod
    def of(cls, view: UserView) -> UserOut:
        return cls(username=view.username, role=view.role, agent=view.agent_name,
                   disabled=view.disabled_at is not None, disabled_at=view.disabled_at,
                   created_at=view.created_at, password_changed_at=view.password_changed_at,
                   version=view.version)


class UserList(BaseModel):
    items: list[UserOut]


class UserPatch(PatchIn):
    role: Role | None = None
    agent: str | None = Field(None, min_length=1, max_length=100,
                              description="An agent of the unit (agent role only; null: none).")
    disabled: bool | None = Field(None, description="True: cannot sign in, sessions end.")


@router.get("")
def list_users(bu: CurrentBu, engine: EngineDep) -> UserList:
    """The unit's console users by username (a unit has tens of them, not a page's worth)."""
    return UserList(items=[UserOut.of(v) for v in console_users.list_users(engine, bu)])


@router.get("/{username}")
def get_user(username: Username, bu: CurrentBu, engine: EngineDep,
             response: Response) -> UserOut:
    """One user; the ETag is its version, for If-Match on a change."""
    view = console_users.get_user(engine, bu, username)
    set_etag(response, view.version)
    return UserOut.of(view)


@router.patch("/{username}")
def change_user(username: Username, body: UserPatch, bu: CurrentBu, engine: EngineDep,
                clock: ClockDep, request: Request, response: Response) -> UserOut:
    """Change the role, agent or disabled mark (a new role or disabling ends the user's
    sessions). With If-Match, only if nobody changed the user since that read (412)."""
    changes = changes_of(body, nullable=("agent",))
    view = console_users.change_user(engine, bu, clock, username, changes,
                                     expected_version(request), actor=audit.API_USERNAME)
    set_etag(response, view.version)
    return UserOut.of(view)


@router.delete("/{username}", status_code=204)
def remove_user(username: Username, bu: CurrentBu, engine: EngineDep, clock: ClockDep,
                request: Request) -> Response:
    """Remove the user: their sessions end; the audit log keeps their username."""
    console_users.remove_user(engine, bu, clock, username, expected_version(request),
                              actor=audit.API_USERNAME)
    return Response(status_code=204)
