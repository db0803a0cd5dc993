"""`create_app(engine, clock)`: the HTTP API, its OpenAPI at /openapi.json and /docs."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock, SystemClock
from proactive_sms.interfaces.api import (
    agents,
    cadences,
    calling_lists,
    campaigns,
    dnc,
    errors,
    registrations,
    skills,
    templates,
)
from proactive_sms.interfaces.api.idempotency import IdempotencyCache


def create_app(engine: Engine, clock: Clock | None = None) -> FastAPI:
    """The API over one store; the clock is a seam for tests (a ManualClock)."""
    app = FastAPI(title="Proactive SMS", version="1",
                  description="The outbound SMS channel of a contact-center dialer. Every "
                              "request carries an API key of one business unit and sees only "
                              "that unit's registrations, lists, templates, skills and "
                              "campaigns.")
    app.state.engine = engine
    app.state.clock = clock or SystemClock()
    app.state.idempotency = IdempotencyCache()
    errors.install(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers (no key needed)."""
        return {"status": "ok"}

    routers = [
        registrations.router,
        calling_lists.router,
        templates.router,
        skills.router,
        campaigns.router,
        dnc.router,
        # webhooks
        # messages, inbound texts, conversations
        # agents
        agents.router,
        cadences.router,  # cadences
    ]
    for router in routers:
        app.include_router(router, prefix="/v1", responses=errors.PROBLEMS)
    return app
