"""What every page module takes from the app: the store, the clock, the session policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.services.console_sessions import SessionPolicy


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def clock_of(request: Request) -> Clock:
    return request.app.state.clock


def policy_of(request: Request) -> SessionPolicy:
    return request.app.state.console_policy


def address_of(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy, run uvicorn with
    --forwarded-allow-ips so that this is the browser's, not the proxy's)."""
    return request.client.host if request.client else "unknown"


EngineDep = Annotated[Engine, Depends(engine_of)]
ClockDep = Annotated[Clock, Depends(clock_of)]
