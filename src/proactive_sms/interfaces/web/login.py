"""Signing in and out: /login, /logout, /logout-everywhere.

The session cookie `psms_session` is HttpOnly, SameSite=Lax, Secure when the request came over
https, and has no Max-Age: the browser forgets it when closed and the store's idle and absolute
expiry end it on the server whatever the browser keeps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from proactive_sms.interfaces.web import auth
from proactive_sms.interfaces.web.auth import AnyUser
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of, policy_of
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import console_sessions, console_users

router = APIRouter()


def _safe_next(target: str | None) -> str | None:
    """Only a path of this site (never '//host' or 'https://...'), so a link cannot bounce a
    person who signs in to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    user = auth.optional_user(request)
    if user is not None:
        return redirect(_safe_next(next) or auth.home_for(request, user))
    return render(request, "login/login.html", next=_safe_next(next) or "", values={},
                  error=None)


@router.post("/login")
def login_submit(request: Request, engine: EngineDep, clock: ClockDep,
                 username: Annotated[str, Form(max_length=200)] = "",
                 password: Annotated[str, Form(max_length=1000)] = "",
                 next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    address = address_of(request)
    try:
        user = console_users.authenticate(engine, clock, username, password, address)
    except console_users.SignInRefused as refused:
        return render(request, "login/login.html", status_code=429 if refused.locked else 401,
                      next=_safe_next(next) or "", values={"username": username},
                      error=str(refused))
    session = console_sessions.start(engine, clock, user, address, policy_of(request),
                                     previous_token=request.cookies.get(auth.SESSION_COOKIE))
    response = redirect(_safe_next(next) or auth.home_for(request, user))
    response.set_cookie(auth.SESSION_COOKIE, session.token, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
def logout(request: Request, user: AnyUser, engine: EngineDep, clock: ClockDep) -> Response:
    token = auth.session_token(request)
    if token:
        console_sessions.end(engine, clock, token, user, address_of(request))
    response = redirect("/login", "You are signed out.", "info")
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.post("/logout-everywhere")
def logout_everywhere(request: Request, user: AnyUser, engine: EngineDep,
                      clock: ClockDep) -> Response:
    ended = console_sessions.end_all(engine, clock, user, address_of(request))
    response = redirect("/login", f"You are signed out everywhere ({ended} session"
                                  f"{'' if ended == 1 else 's'} ended).", "info")
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
