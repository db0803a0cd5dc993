"""`install_console(app)`: the web console beside the API, on the same FastAPI app.

It mounts the static files at /static, adds the page routers of PAGE_ROUTERS at / (left out of
the OpenAPI: the API's schema is the API's), the console's error pages and its security headers.
Every page router gets the CSRF check (csrf.verify) as a dependency, so no POST handler can
forget it.

A new page: a module `web/<name>.py` with `router = APIRouter()`, imported below and added to
PAGE_ROUTERS (one line each, alphabetical, so merges stay easy).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from proactive_sms.interfaces.web import (
    account,
    api_keys,
    audit,
    broadcast,
    business_unit,
    cadences,
    calling_lists,
    campaigns,
    connections,
    csrf,
    dashboard,
    dnc,
    error_pages,
    login,
    message_templates,
    navigation,
    notices,
    numbers,
    registrations,
    schedules,
    skill_reports,
    skills,
    users,
    workspace,
)
from proactive_sms.interfaces.web.rendering import STATIC_DIR
from proactive_sms.interfaces.web.security_headers import SecurityHeaders
from proactive_sms.services.console_sessions import SessionPolicy

PAGE_ROUTERS = [
    account.router,
    api_keys.router,
    audit.router,
    broadcast.router,
    business_unit.router,
    cadences.router,
    calling_lists.router,
    campaigns.router,
    connections.router,
    dashboard.router,
    dnc.router,
    login.router,
    skill_reports.router,
    schedules.router,
    message_templates.router,
    notices.router,
    numbers.router,
    skills.router,
    registrations.router,
    users.router,
    workspace.router,
]


def install_console(app: FastAPI, policy: SessionPolicy | None = None) -> None:
    """Serve the console at / beside the API at /v1. `policy` sets the sessions' idle and
    absolute expiry (default: PSMS_CONSOLE_IDLE_MINUTES / PSMS_CONSOLE_ABSOLUTE_HOURS, else
    30 minutes and 12 hours)."""
    app.state.console_policy = policy or SessionPolicy.from_env()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    navigation.register_paths(app, PAGE_ROUTERS)
    for router in PAGE_ROUTERS:
        app.include_router(router, include_in_schema=False,
                           dependencies=[Depends(csrf.verify)])
    error_pages.install(app)
    app.add_middleware(SecurityHeaders)
