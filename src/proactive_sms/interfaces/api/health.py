"""`/readyz`: ready for traffic, for a load balancer (no key needed). `/healthz` (in app.py)
says the process and its database answer; this says the database answers and its schema is one
this version runs on (services.readiness). 200 when ready, 503 with the reasons when not."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from proactive_sms.services import readiness

router = APIRouter(tags=["health"])


class ReadinessOut(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str] = Field(description="database: ok | unavailable; schema: current | "
                                               "newer (a later version migrated it) | behind "
                                               "| empty.")
    problems: list[str] = Field(description="Why it is not ready (empty when ready).")


@router.get("/readyz", responses={503: {"model": ReadinessOut,
                                        "description": "Not ready: take it out of rotation."}})
async def readyz(request: Request, response: Response) -> ReadinessOut:
    """Ready for traffic: the database answers and its schema is at this version's head (or
    newer, during a rolling upgrade). A load balancer sends requests only while this is 200."""
    found = await run_in_threadpool(readiness.check, request.app.state.engine)
    if not found.ready:
        response.status_code = 503
    return ReadinessOut(**found.as_dict())
