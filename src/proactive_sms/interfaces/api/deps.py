"""What every resource module takes from the app: the store and the clock.

The dependencies that only read the app's state are `async def`: FastAPI runs a plain `def`
dependency in its thread pool, and a hop there and back for an attribute read cost each request
a wait for a thread and the GIL, several times over (measured with bench/api_load.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock


async def _engine(request: Request) -> Engine:
    return request.app.state.engine


async def _clock(request: Request) -> Clock:
    return request.app.state.clock


EngineDep = Annotated[Engine, Depends(_engine)]
ClockDep = Annotated[Clock, Depends(_clock)]
