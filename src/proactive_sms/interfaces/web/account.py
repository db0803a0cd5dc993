"""/account: who you are signed in as, your sessions, changing your password, and "log out
everywhere". Every role opens it (an agent's landing page until the agent workspace exists)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from proactive_sms.interfaces.web import auth, forms
from proactive_sms.interfaces.web.auth import AnyUser, CurrentBu
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import console_sessions, console_users

router = APIRouter()


def _page(request: Request, engine, user, bu, status_code: int = 200, **context) -> Response:
    context.setdefault("errors", {})
    return render(request, "account/index.html", status_code=status_code, bu=bu,
                  sessions=console_sessions.sessions_of(engine, user), **context)


@router.get("/account")
def account_page(request: Request, user: AnyUser, bu: CurrentBu,
                 engine: EngineDep) -> Response:
    return _page(request, engine, user, bu)


@router.post("/account/password")
def change_password(request: Request, user: AnyUser, bu: CurrentBu, engine: EngineDep,
                    clock: ClockDep,
                    current_password: Annotated[str, Form(max_length=1000)] = "",
                    new_password: Annotated[str, Form(max_length=1000)] = "",
                    repeat_password: Annotated[str, Form(max_length=1000)] = "") -> Response:
    if new_password != repeat_password:
        return _page(request, engine, user, bu, status_code=422,
                     errors={"repeat_password": "does not match the new password"})
    token = auth.session_token(request)
    try:
        ended = console_users.change_own_password(
            engine, clock, user, current_password, new_password, address_of(request),
            keep_token_hash=console_sessions.token_hash(token) if token else None)
    except forms.FORM_ERRORS as exc:
        return _page(request, engine, user, bu, status_code=422, errors=forms.errors_of(exc))
    return redirect("/account", "Your password is changed"
                    + (f"; {ended} other session(s) ended." if ended else "."))
