"""`create_app(engine, clock)`: the HTTP API, its OpenAPI at /openapi.json and /docs."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock, SystemClock
from proactive_sms.interfaces.api import (
    agents,
    api_keys,
    business_unit,
    cadences,
    calling_lists,
    campaigns,
    carrier_callbacks,
    connections,
    conversations,
    dnc,
    erasures,
    errors,
    health,
    inbound_texts,
    messages,
    metrics,
    numbers,
    registrations,
    schedules,
    skills,
    spend,
    templates,
    users,
    webhooks,
)
from proactive_sms.interfaces.api.request_bodies import refuse_unknown_form_fields
from proactive_sms.interfaces.api.request_limits import (
    MAX_BODY_BYTES,
    RequestLimits,
    max_upload_bytes_from_env,
)
from proactive_sms.interfaces.api.short_links import ShortLinkRedirects
from proactive_sms.interfaces.api.unstorable_text import refuse_unstorable_text
from proactive_sms.interfaces.web.app import install_console
from proactive_sms.services import metrics as services_metrics
from proactive_sms.services.link_clicks import LinkRedirects


def create_app(engine: Engine, clock: Clock | None = None, *,
               metrics_token: str | None = None, max_body_bytes: int = MAX_BODY_BYTES,
               max_upload_bytes: int | None = None,
               link_expiry_days: int | None = None) -> FastAPI:
    """The API over one store; the clock is a seam for tests (a ManualClock). With a
    `metrics_token`, /metrics asks for it as a bearer token. Bodies are capped (JSON at
    `max_body_bytes`, uploads at `max_upload_bytes`, default PSMS_MAX_UPLOAD_MB), after the
    key is checked (interfaces.api.request_limits). Tracked links' `/l/{code}` is answered
    ahead of all that (interfaces.api.short_links), expiring `link_expiry_days` after their
    skill ends (default PSMS_LINK_EXPIRY_DAYS, else 90)."""
    app = FastAPI(title="Proactive SMS", version="1",
                  description="The outbound SMS channel of a contact-center dialer. Every "
                              "request carries an API key of one business unit and sees only "
                              "that unit's registrations, lists, templates, skills and "
                              "campaigns.")
    app.state.engine = engine
    app.state.clock = clock or SystemClock()
    app.state.metrics_token = metrics_token
    errors.install(app)
    app.add_middleware(RequestLimits, max_body_bytes=max_body_bytes,
                       max_upload_bytes=(max_upload_bytes if max_upload_bytes is not None
                                         else max_upload_bytes_from_env()))

    @app.get("/healthz", tags=["health"], responses={503: errors.PROBLEM_SCHEMA})
    def healthz() -> dict[str, str]:
        """The process answers and its database too (no key needed)."""
        problem = services_metrics.database_problem(engine)
        if problem:
            raise errors.Problem(503, "unavailable", "The database does not answer", problem)
        return {"status": "ok"}

    app.include_router(health.router)
    app.include_router(metrics.router)
    # Providers post here, signed with the connection's token (no API key): outside /v1.
    app.include_router(carrier_callbacks.router)

    routers = [
        registrations.router,
        calling_lists.router,
        templates.router,
        skills.router,
        schedules.router,  # recurring notices (issue 16)
        campaigns.router,
        dnc.router,
        webhooks.router,
        # messages, inbound texts, conversations
        messages.router,
        inbound_texts.router,
        conversations.router,
        connections.router,
        # agents
        agents.router,
        cadences.router,  # cadences
        erasures.router,  # erasure on request (issue 17)
        numbers.router,  # a number's history (issue 19)
        users.router,  # console users and API keys (issue 17)
        api_keys.router,
        spend.router,  # prices, budgets, dry runs (issue 16)
        business_unit.router,  # its settings: the short link domain (issue 16)
    ]
    for router in routers:
        app.include_router(router, prefix="/v1", responses=errors.PROBLEMS,
                           dependencies=[Depends(refuse_unstorable_text),
                                         Depends(refuse_unknown_form_fields)])
    install_console(app)  # the web console at / (its routes are not in the OpenAPI)
    redirects = LinkRedirects(engine, app.state.clock, link_expiry_days)
    app.state.link_redirects = redirects
    # Added last, so outermost: a click passes no other middleware.
    app.add_middleware(ShortLinkRedirects, visit=redirects.visit)
    return app
