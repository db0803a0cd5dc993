"""/audit (admins): who did what, when, in this unit; filtered by user and action, newest
first, a page at a time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from proactive_sms.interfaces.web.auth import AdminUser, CurrentBu
from proactive_sms.interfaces.web.deps import EngineDep
from proactive_sms.interfaces.web.rendering import render
from proactive_sms.services import audit, console_users

router = APIRouter()


@router.get("/audit")
def audit_page(request: Request, user: AdminUser, bu: CurrentBu, engine: EngineDep,
               who: Annotated[str, Query(alias="user", max_length=64)] = "",
               action: Annotated[str, Query(max_length=40)] = "",
               page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    found = audit.entries(engine, bu, username=who.strip().lower(), action=action.strip(),
                          page=page)
    usernames = [view.username for view in console_users.list_users(engine, bu)]
    return render(request, "audit/list.html", log=found, usernames=usernames,
                  values={"user": who, "action": action})
