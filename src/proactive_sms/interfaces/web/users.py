"""/users (admins): the unit's console users; create one with a role (and an agent user's
agent), disable or enable, reset a password. A password is shown once, on the page that
created it, and never stored or sent again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from proactive_sms.interfaces.web import forms
from proactive_sms.interfaces.web.auth import AdminUser, CurrentBu
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.rendering import is_htmx, redirect, render
from proactive_sms.services import agents, audit, console_users
from proactive_sms.services.console_users import ROLES
from proactive_sms.store.tenancy import BusinessUnit

router = APIRouter()


def _page(request: Request, engine, bu: BusinessUnit, status_code: int = 200,
          **context) -> Response:
    context.setdefault("values", {"role": "supervisor"})
    context.setdefault("errors", {})
    return render(request, "users/list.html", status_code=status_code,
                  users=console_users.list_users(engine, bu),
                  agents=[view.name for view in agents.all_agents(engine, bu)],
                  roles=ROLES, **context)


@router.get("/users")
def users_page(request: Request, user: AdminUser, bu: CurrentBu, engine: EngineDep) -> Response:
    return _page(request, engine, bu)


@router.post("/users")
def create_user(request: Request, user: AdminUser, bu: CurrentBu, engine: EngineDep,
                clock: ClockDep,
                username: Annotated[str, Form(max_length=200)] = "",
                role: Annotated[str, Form(max_length=20)] = "",
                agent: Annotated[str, Form(max_length=200)] = "",
                password: Annotated[str, Form(max_length=1000)] = "") -> Response:
    chosen = password or console_users.generate_password()
    try:
        created = console_users.create(engine, bu, clock, username, role, chosen,
                                       agent or None, by=user, address=address_of(request))
    except forms.FORM_ERRORS as exc:
        return _page(request, engine, bu, status_code=422, errors=forms.errors_of(exc),
                     values={"username": username, "role": role, "agent": agent})
    return _page(request, engine, bu, status_code=201, created=created.username,
                 shown_password=None if password else chosen,
                 flashes=[("success", f"User {created.username} created.")])


@router.get("/users/{username}")
def user_page(request: Request, username: str, user: AdminUser, bu: CurrentBu,
              engine: EngineDep) -> Response:
    """One user of the unit and what they did lately (another unit's user: 404)."""
    shown = console_users.get_user(engine, bu, username)
    recent = audit.entries(engine, bu, username=shown.username, page_size=20)
    return render(request, "users/detail.html", shown=shown, recent=recent)


@router.post("/users/{username}/disable")
def disable_user(request: Request, username: str, user: AdminUser, bu: CurrentBu,
                 engine: EngineDep, clock: ClockDep) -> Response:
    try:
        changed = console_users.set_disabled(engine, bu, clock, username, True, by=user,
                                             address=address_of(request))
    except console_users.UserRefused as refused:
        return redirect("/users", refused.reason, "error")
    if is_htmx(request):
        return render(request, "users/_row.html", row=changed)
    return redirect("/users", f"User {username} disabled; their sessions ended.")


@router.post("/users/{username}/enable")
def enable_user(request: Request, username: str, user: AdminUser, bu: CurrentBu,
                engine: EngineDep, clock: ClockDep) -> Response:
    changed = console_users.set_disabled(engine, bu, clock, username, False, by=user,
                                         address=address_of(request))
    if is_htmx(request):
        return render(request, "users/_row.html", row=changed)
    return redirect("/users", f"User {username} enabled.")


@router.post("/users/{username}/password")
def reset_password(request: Request, username: str, user: AdminUser, bu: CurrentBu,
                   engine: EngineDep, clock: ClockDep) -> Response:
    password = console_users.generate_password()
    reset = console_users.reset_password(engine, bu, clock, username, password, by=user,
                                         address=address_of(request))
    return _page(request, engine, bu, created=reset.username, shown_password=password,
                 flashes=[("success", f"Password of {reset.username} reset; their sessions "
                                      "ended.")])
