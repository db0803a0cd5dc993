"""Transport codes (issue 12, page 8; admin): the unit's registrations with kind, status,
throughput, connection, DNC list, SMS solution, keywords and the answers to STOP/START/HELP;
editing those answers is `psms registration keywords` (administration.set_keyword_responses).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from proactive_sms.domain.keyword_responses import SETTING_KEYS
from proactive_sms.interfaces.web.auth import AdminUser, CurrentBu
from proactive_sms.interfaces.web.deps import (
    ClockDep,
    EngineDep,
    address_of,
    clock_of,
    engine_of,
)
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import (
    administration,
    audit,
    code_prices,
    code_routes,
    transport_codes,
)
from proactive_sms.services.administration import InvalidRequest

router = APIRouter()

KEYWORD_GROUPS = (("opt_out", "Extra opt-out words"), ("opt_in", "Extra opt-in words"),
                  ("help", "Extra help words"))


@router.get("/registrations", response_class=HTMLResponse)
def registrations(request: Request, user: AdminUser, bu: CurrentBu,
                  engine: EngineDep, clock: ClockDep) -> Response:
    views = transport_codes.registration_views(engine, bu)
    # Each code's connections in order, the one carrying now and each one's breaker.
    routes = code_routes.route_views(engine, clock, [v.registration for v in views])
    return render(request, "registrations/list.html", views=views, routes=routes,
                  groups=KEYWORD_GROUPS, prices=code_prices.prices_by_code(engine, bu))


@router.get("/registrations/{code}", response_class=HTMLResponse)
def registration(code: str, request: Request, user: AdminUser, bu: CurrentBu,
                 engine: EngineDep) -> Response:
    view = transport_codes.registration_view(engine, bu, code)  # 404 outside the unit
    return _form(request, engine, view, {}, None)


def _form(request: Request, engine, view, errors: dict, values: dict | None,
          status_code: int = 200, price_values: dict | None = None) -> Response:
    stored = view.settings
    shown = values if values is not None else {
        "sender_name": stored.get("sender_name") or "", "contact": stored.get("contact") or "",
        "opt_out_text": stored.get("opt_out_text") or "",
        "opt_in_text": stored.get("opt_in_text") or "",
        "help_text": stored.get("help_text") or "",
        **{f"extra_{key}": ", ".join(view.extra_keywords.get(key, []))
           for key, _ in KEYWORD_GROUPS}}
    prices = code_prices.prices_of(engine, view.registration)
    route = code_routes.route_views(engine, clock_of(request),
                                    [view.registration])[view.registration.id]
    return render(request, "registrations/detail.html", status_code=status_code, view=view,
                  values=shown, errors=errors, groups=KEYWORD_GROUPS, route=route,
                  prices=prices, price_values=price_values or {"currency": prices.currency or ""})


def _words(raw: str) -> list[str]:
    return [w.strip() for w in raw.replace("\n", ",").split(",") if w.strip()]


@router.post("/registrations/{code}/keywords")
def save_keywords(code: str, request: Request, user: AdminUser, bu: CurrentBu,
                  engine: EngineDep,
                  sender_name: Annotated[str, Form()] = "",
                  contact: Annotated[str, Form()] = "",
                  opt_out_text: Annotated[str, Form()] = "",
                  opt_in_text: Annotated[str, Form()] = "",
                  help_text: Annotated[str, Form()] = "",
                  extra_opt_out: Annotated[str, Form()] = "",
                  extra_opt_in: Annotated[str, Form()] = "",
                  extra_help: Annotated[str, Form()] = "") -> Response:
    """Save what the code answers and its extra keywords. An empty text field keeps the text
    the code has (as an option left out of `psms registration keywords` does)."""
    view = transport_codes.registration_view(engine, bu, code)
    values = {"sender_name": sender_name, "contact": contact, "opt_out_text": opt_out_text,
              "opt_in_text": opt_in_text, "help_text": help_text,
              "extra_opt_out": extra_opt_out, "extra_opt_in": extra_opt_in,
              "extra_help": extra_help}
    updates: dict = {key: value.strip() or None
                     for key, value in values.items() if not key.startswith("extra_")}
    # A toll-free code's form has no answer texts; a crafted post with one is refused by the
    # service (the carrier answers STOP/START/HELP there).
    updates["extra_keywords"] = {"opt_out": _words(extra_opt_out),
                                 "opt_in": _words(extra_opt_in), "help": _words(extra_help)}
    updates = {k: v for k, v in updates.items() if v is not None}
    try:
        saved = administration.set_keyword_responses(engine, bu, view.code, updates)
    except InvalidRequest as exc:
        return _form(request, engine, view, {_field_of(str(exc)): str(exc)}, values, 422)
    audit.record(engine, user, "registration.keywords", saved.code,
                 {k: v for k, v in updates.items()},
                 address=address_of(request))
    return redirect(f"/registrations/{view.code}", f"Keyword answers of {saved.code} saved.")


def _field_of(message: str) -> str:
    """The form field an error is about: the domain names the setting or the keyword kind
    first ("help_text must say…", "opt_in keyword 'STOP' already reads as opt_out…")."""
    for key in SETTING_KEYS:
        if message.startswith(key) and key != "extra_keywords":
            return key
    for kind, _ in KEYWORD_GROUPS:
        if message.startswith((f"{kind} keyword", f"{kind}:")):
            return f"extra_{kind}"
    return "form"


@router.post("/registrations/{code}/price")
def save_price(code: str, request: Request, user: AdminUser, bu: CurrentBu,
               engine: EngineDep,
               price: Annotated[str, Form()] = "",
               currency: Annotated[str, Form()] = "",
               country: Annotated[str, Form()] = "",
               remove: Annotated[str, Form()] = "") -> Response:
    """Set (or remove) the code's price per segment, for every destination or for one
    country (services.spend: the unit prices in one currency)."""
    view = transport_codes.registration_view(engine, bu, code)
    values = {"price": price, "currency": currency, "country": country}
    try:
        if remove:
            saved = code_prices.remove_price(engine, bu, view.code, country or None)
        else:
            saved = code_prices.set_price(engine, bu, clock_of(request), view.code, price, currency,
                                    country or None)
    except InvalidRequest as exc:
        return _form(request, engine_of(request), view,
                     {f"price_{exc.field or 'price'}": str(exc)}, None, 422, price_values=values)
    audit.record(engine, user, "registration.priced", saved.code, saved.as_dict(),
                 address=address_of(request))
    return redirect(f"/registrations/{view.code}", f"Price of {saved.code}: {saved.summary()}.")


