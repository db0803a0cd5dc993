"""Who is signed in, and what they may open.

- `current_user`: the signed-in ConsoleUser. Not signed in: a page request is sent to /login
  (and back after), an htmx or SSE request answers 401 (htmx follows the HX-Redirect header).
- `require_role(role)`: the dependency of a page. Roles nest: admin opens supervisor pages,
  supervisor opens agent pages (they see the queue and the agents' load); never the other way.
  Anyone else gets the 403 page.
- Every read and write is scoped to `user.bu_id` (`current_bu` gives the BusinessUnit the
  services take). A URL naming another unit's object must answer 404: let the store's NotFound
  through and the console shows its 404 page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from proactive_sms.interfaces.web.deps import clock_of, engine_of, policy_of
from proactive_sms.services import console_sessions
from proactive_sms.services.console_users import ConsoleUser
from proactive_sms.store import tenancy
from proactive_sms.store.tenancy import BusinessUnit

__all__ = ["ConsoleUser", "current_user", "require_role", "current_bu", "optional_user"]

SESSION_COOKIE = "psms_session"
ROLE_RANK = {"agent": 1, "supervisor": 2, "admin": 3}


class LoginRequired(Exception):
    """No live session: the console answers with the sign-in page (or 401 for htmx/SSE)."""


class Forbidden(Exception):
    """Signed in, but the role may not open this: the console answers its 403 page."""


def role_allows(role: str, needed: str) -> bool:
    """Whether a user of `role` may open a page meant for `needed`."""
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[needed]


def optional_user(request: Request) -> ConsoleUser | None:
    """The signed-in user, or None; looked up once per request."""
    if not hasattr(request.state, "console_user"):
        token = request.cookies.get(SESSION_COOKIE)
        resumed = console_sessions.resume(engine_of(request), clock_of(request), token,
                                          policy_of(request))
        request.state.console_user = resumed.user if resumed else None
        request.state.console_token = token if resumed else None
    return request.state.console_user


def session_token(request: Request) -> str | None:
    """The signed-in session's token (the cookie's value), if the session is live."""
    optional_user(request)
    return request.state.console_token


def current_user(request: Request) -> ConsoleUser:
    """The signed-in user; LoginRequired otherwise."""
    user = optional_user(request)
    if user is None:
        raise LoginRequired()
    return user


def require_role(role: str):
    """A dependency: the signed-in user, if their role may open a `role` page."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    def dependency(user: Annotated[ConsoleUser, Depends(current_user)]) -> ConsoleUser:
        if not role_allows(user.role, role):
            raise Forbidden()
        return user

    dependency.__name__ = f"require_{role}"
    return dependency


def current_bu(request: Request,
               user: Annotated[ConsoleUser, Depends(current_user)]) -> BusinessUnit:
    """The signed-in user's business unit, as the services take it."""
    engine: Engine = engine_of(request)
    with engine.connect() as conn:
        return tenancy.business_unit_by_id(conn, user.bu_id)


def home_for(request: Request, user: ConsoleUser) -> str:
    """Where a user lands after signing in: the dashboard, or for agents their workspace."""
    from proactive_sms.interfaces.web import navigation

    return navigation.home_path(request.app, user)


# Annotated shortcuts for page signatures: `def page(user: SupervisorUser, bu: CurrentBu)`.
AnyUser = Annotated[ConsoleUser, Depends(current_user)]
AgentUser = Annotated[ConsoleUser, Depends(require_role("agent"))]
SupervisorUser = Annotated[ConsoleUser, Depends(require_role("supervisor"))]
AdminUser = Annotated[ConsoleUser, Depends(require_role("admin"))]
CurrentBu = Annotated[BusinessUnit, Depends(current_bu)]
