"""Who is calling: an API key in `Authorization: Bearer …` names one business unit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from proactive_sms.interfaces.api.errors import Problem
from proactive_sms.services import api_keys
from proactive_sms.store.tenancy import BusinessUnit

_bearer = HTTPBearer(auto_error=False, description="An API key from `psms apikey create`.")


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Unauthorized", detail,
                   [{"field": "Authorization", "reason": detail}],
                   headers={"WWW-Authenticate": "Bearer"})


def current_bu(request: Request,
               credentials: Annotated[HTTPAuthorizationCredentials | None,
                                      Depends(_bearer)]) -> BusinessUnit:
    """The caller's business unit; every query of the request is scoped to it."""
    if credentials is None:
        raise _unauthorized("send an API key as 'Authorization: Bearer <key>'")
    unit = api_keys.authenticate(request.app.state.engine, credentials.credentials)
    if unit is None:
        raise _unauthorized("the API key is unknown or revoked")
    return unit


CurrentBu = Annotated[BusinessUnit, Depends(current_bu)]
