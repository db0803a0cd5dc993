"""/: the dashboard. A placeholder until the dashboard page replaces it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from proactive_sms.interfaces.web.auth import AnyUser, Forbidden, role_allows
from proactive_sms.interfaces.web.navigation import home_path
from proactive_sms.interfaces.web.rendering import redirect, render

router = APIRouter()


@router.get("/")
def dashboard_page(request: Request, user: AnyUser) -> Response:
    if user.role == "agent":  # an agent's home is their workspace
        return redirect(home_path(request.app, user))
    if not role_allows(user.role, "supervisor"):
        raise Forbidden()
    return render(request, "dashboard/index.html")
