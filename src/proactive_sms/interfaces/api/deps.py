"""What every resource module takes from the app: the store and the clock."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _clock(request: Request) -> Clock:
    return request.app.state.clock


EngineDep = Annotated[Engine, Depends(_engine)]
ClockDep = Annotated[Clock, Depends(_clock)]
