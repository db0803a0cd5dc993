"""/account: who you are signed in as, your sessions, and "log out everywhere". Every role
opens it (an agent's landing page until the agent workspace exists)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from proactive_sms.interfaces.web.auth import AnyUser, CurrentBu
from proactive_sms.interfaces.web.deps import EngineDep
from proactive_sms.interfaces.web.rendering import render
from proactive_sms.services import console_sessions

router = APIRouter()


@router.get("/account")
def account_page(request: Request, user: AnyUser, bu: CurrentBu,
                 engine: EngineDep) -> Response:
    sessions = console_sessions.sessions_of(engine, user)
    return render(request, "account/index.html", bu=bu, sessions=sessions)
