"""Who is calling: an API key in `Authorization: Bearer …` names one business unit.

The key is checked before the request's body is read (interfaces.api.request_limits does it
first and leaves the unit in the request's state): a caller without a valid key costs us the
headers only, never the reading or parsing of what it sends.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from proactive_sms.interfaces.api.errors import Problem
from proactive_sms.services import api_keys
from proactive_sms.store.tenancy import BusinessUnit

_bearer = HTTPBearer(auto_error=False, description="An API key from `psms apikey create`.")
STATE_KEY = "business_unit"  # where the unit found from the key is kept for the request


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Unauthorized", detail,
                   [{"field": "Authorization", "reason": detail}],
                   headers={"WWW-Authenticate": "Bearer"})


def authenticate(engine: Engine, authorization: str | None) -> BusinessUnit:
    """The unit of the key in an `Authorization` header's value, or the 401 Problem raised."""
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise _unauthorized("send an API key as 'Authorization: Bearer <key>'")
    unit = api_keys.authenticate(engine, secret.strip())
    if unit is None:
        raise _unauthorized("the API key is unknown or revoked")
    return unit


async def current_bu(request: Request,
                     credentials: Annotated[HTTPAuthorizationCredentials | None,
                                            Depends(_bearer)]) -> BusinessUnit:
    """The caller's business unit; every query of the request is scoped to it. Async: nearly
    always the middleware has found it already, and reading it needs no thread."""
    found = getattr(request.state, STATE_KEY, None)
    if found is not None:
        return found
    if credentials is None:
        raise _unauthorized("send an API key as 'Authorization: Bearer <key>'")
    return await run_in_threadpool(authenticate, request.app.state.engine,
                                   f"Bearer {credentials.credentials}")


CurrentBu = Annotated[BusinessUnit, Depends(current_bu)]
