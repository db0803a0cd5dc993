"""/business-unit (admins): the unit's settings. The short link domain is set here, with the
checks and messages of `PATCH /v1/business-unit` and `psms bu set` (all three call
services.administration.set_link_domain); the rest is shown as the unit has it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from proactive_sms.interfaces.web import forms
from proactive_sms.interfaces.web.auth import AdminUser, CurrentBu
from proactive_sms.interfaces.web.deps import EngineDep
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import administration
from proactive_sms.store.tenancy import BusinessUnit

router = APIRouter()


def _page(request: Request, bu: BusinessUnit, status_code: int = 200,
          values: dict | None = None, errors: dict | None = None) -> Response:
    return render(request, "business_unit/settings.html", status_code=status_code, bu=bu,
                  values=values or {"link_domain": bu.link_domain or ""}, errors=errors or {})


@router.get("/business-unit")
def settings_page(request: Request, user: AdminUser, bu: CurrentBu) -> Response:
    return _page(request, bu)


@router.post("/business-unit/link-domain")
def set_link_domain(request: Request, user: AdminUser, bu: CurrentBu, engine: EngineDep,
                    link_domain: Annotated[str, Form(max_length=200)] = "") -> Response:
    try:
        unit = administration.set_link_domain(engine, bu, link_domain, actor=user.username)
    except forms.FORM_ERRORS as exc:
        return _page(request, bu, 422, {"link_domain": link_domain},
                     forms.errors_of(exc, "link_domain"))
    if unit.link_domain:
        done = (f"Link domain set to {unit.link_domain}: skills started from now on send "
                "tracked short links.")
    else:
        done = "No link domain: skills started from now on send their links as written."
    return redirect("/business-unit", done)
