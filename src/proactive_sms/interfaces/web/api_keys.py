"""/api-keys (admins): the unit's API keys for scripts and integrations; create one (its secret
is shown once, on the page that created it: only its hash is stored) and revoke one (its next
request is refused). Every change is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from proactive_sms.interfaces.web import forms
from proactive_sms.interfaces.web.auth import AdminUser, CurrentBu
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import api_keys, audit
from proactive_sms.store.errors import NotFound
from proactive_sms.store.tenancy import BusinessUnit

router = APIRouter()


def _page(request: Request, engine, bu: BusinessUnit, status_code: int = 200,
          **context) -> Response:
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return render(request, "api_keys/list.html", status_code=status_code,
                  keys=api_keys.list_keys(engine, bu), **context)


@router.get("/api-keys")
def keys_page(request: Request, user: AdminUser, bu: CurrentBu, engine: EngineDep) -> Response:
    return _page(request, engine, bu)


@router.post("/api-keys")
def create_key(request: Request, user: AdminUser, bu: CurrentBu, engine: EngineDep,
               clock: ClockDep, name: Annotated[str, Form(max_length=200)] = "") -> Response:
    try:
        created = api_keys.create(engine, bu, clock, name)
    except forms.FORM_ERRORS as exc:
        return _page(request, engine, bu, status_code=422, errors=forms.errors_of(exc, "name"),
                     values={"name": name})
    audit.record(engine, user, "api_key.created", created.key.name,
                 address=address_of(request))
    return _page(request, engine, bu, status_code=201, created=created.key.name,
                 shown_secret=created.secret,
                 flashes=[("success", f"API key {created.key.name} created.")])


@router.post("/api-keys/{name}/revoke")
def revoke_key(request: Request, name: str, user: AdminUser, bu: CurrentBu, engine: EngineDep,
               clock: ClockDep) -> Response:
    try:
        revoked = api_keys.revoke(engine, bu, clock, name)
    except NotFound:
        return redirect("/api-keys", f"No API key '{name}' in this unit.", "error")
    audit.record(engine, user, "api_key.revoked", revoked.name, address=address_of(request))
    return redirect("/api-keys", f"API key {revoked.name} revoked: its next request is refused.")
