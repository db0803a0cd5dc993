"""Carrier connections (issue 12, page 8; admin): each with its link status as the dispatcher
records it (bound or not, since when, the last error) and the unit's codes that use it;
create and edit (the password is write-only: never shown, left empty to keep it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from proactive_sms.interfaces.web.auth import AdminUser, CurrentBu
from proactive_sms.interfaces.web.deps import ClockDep, EngineDep, address_of
from proactive_sms.interfaces.web.rendering import redirect, render
from proactive_sms.services import audit, carrier_connections
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.carrier_connections import ConnectionRefused
from proactive_sms.store.errors import AlreadyExists

router = APIRouter()

NEW = {"name": "", "host": "127.0.0.1", "port": "2775", "system_id": "", "window_size": "10"}


@router.get("/connections", response_class=HTMLResponse)
def connections(request: Request, user: AdminUser, bu: CurrentBu, engine: EngineDep,
                clock: ClockDep) -> Response:
    views = carrier_connections.connection_views(engine, bu, clock)
    template = ("connections/_table.html" if request.headers.get("HX-Request") == "true"
                else "connections/list.html")
    return render(request, template, views=views)


@router.get("/connections/new", response_class=HTMLResponse)
def new_connection(request: Request, user: AdminUser) -> Response:
    return render(request, "connections/form.html", existing=None, values=NEW, errors={})


@router.get("/connections/new-http", response_class=HTMLResponse)
def new_http_connection(request: Request, user: AdminUser) -> Response:
    return _http_form(request, None, NEW_HTTP, {})


@router.post("/connections/new-http")
def create_http(request: Request, user: AdminUser, bu: CurrentBu, engine: EngineDep,
                clock: ClockDep, name: Annotated[str, Form()] = "",
                provider: Annotated[str, Form()] = "twilio",
                account: Annotated[str, Form()] = "", token: Annotated[str, Form()] = "",
                base_url: Annotated[str, Form()] = "", callback_url: Annotated[str, Form()] = "",
                window_size: Annotated[str, Form()] = "",
                signature_secret: Annotated[str, Form()] = "") -> Response:
    values = {"name": name, "provider": provider, "account": account, "base_url": base_url,
              "callback_url": callback_url, "window_size": window_size}
    return _save_http(request, user, bu, engine, clock, None, values, token, signature_secret)


@router.get("/connections/{name}/edit", response_class=HTMLResponse)
def edit_connection(name: str, request: Request, user: AdminUser, bu: CurrentBu,
                    engine: EngineDep, clock: ClockDep) -> Response:
    found = carrier_connections.connection_view(engine, bu, clock, name).connection  # or 404
    if found.kind == "http":
        return _http_form(request, found.name, _http_values(found), {}, found)
    values = {"name": found.name, "host": found.host, "port": str(found.port),
              "system_id": found.system_id, "window_size": str(found.window_size)}
    return render(request, "connections/form.html", existing=found.name, values=values,
                  errors={})


@router.post("/connections")
def create(request: Request, user: AdminUser, bu: CurrentBu, engine: EngineDep,
           clock: ClockDep, name: Annotated[str, Form()] = "",
           host: Annotated[str, Form()] = "", port: Annotated[str, Form()] = "",
           system_id: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
           window_size: Annotated[str, Form()] = "") -> Response:
    return _save(request, user, bu, engine, clock, None, name, host, port, system_id,
                 password, window_size)


@router.post("/connections/{existing}")
def update(existing: str, request: Request, user: AdminUser, bu: CurrentBu, engine: EngineDep,
           clock: ClockDep, host: Annotated[str, Form()] = "",
           port: Annotated[str, Form()] = "", system_id: Annotated[str, Form()] = "",
           password: Annotated[str, Form()] = "",
           window_size: Annotated[str, Form()] = "", account: Annotated[str, Form()] = "",
           token: Annotated[str, Form()] = "", base_url: Annotated[str, Form()] = "",
           callback_url: Annotated[str, Form()] = "",
           signature_secret: Annotated[str, Form()] = "") -> Response:
    found = carrier_connections.connection_view(engine, bu, clock, existing).connection  # or 404
    if found.kind == "http":
        values = {"name": existing, "provider": found.provider or "", "account": account,
                  "base_url": base_url, "callback_url": callback_url,
                  "window_size": window_size}
        return _save_http(request, user, bu, engine, clock, found, values, token,
                          signature_secret)
    return _save(request, user, bu, engine, clock, existing, existing, host, port, system_id,
                 password, window_size)


def _save(request: Request, user, bu, engine, clock, existing: str | None, name: str, host: str,
          port: str, system_id: str, password: str, window_size: str) -> Response:
    values = {"name": name, "host": host, "port": port, "system_id": system_id,
              "window_size": window_size}
    errors: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for field, raw in (("port", port), ("window_size", window_size)):
        try:
            numbers[field] = int(raw.strip())
        except ValueError:
            errors[field] = f"{field.replace('_', ' ')} must be a whole number, got '{raw}'"
    if not errors:
        try:
            saved = carrier_connections.save_connection(
                engine, bu, clock, name=name, host=host, port=numbers["port"],
                system_id=system_id, password=password or None,
                window_size=numbers["window_size"], existing=existing)
        except ConnectionRefused as exc:
            errors[exc.field] = str(exc)
        except InvalidRequest as exc:
            errors["form"] = str(exc)
    if errors:
        return render(request, "connections/form.html", status_code=422, existing=existing,
                      values=values, errors=errors)
    audit.record(engine, user, "connection.updated" if existing else "connection.created",
                 saved.name, {"host": saved.host, "port": saved.port,
                              "system_id": saved.system_id, "window_size": saved.window_size,
                              "password_changed": bool(password)},
                 address=address_of(request))
    if existing is None:  # a dispatcher opens it when a code first sends through it
        return redirect("/connections", f"Connection {saved.name} added.")
    return redirect("/connections", f"Connection {saved.name} saved. A running dispatcher keeps "
                    "its open session: restart it (psms serve, psms dispatch) to use the new "
                    "settings.")


NEW_HTTP = {"name": "", "provider": "twilio", "account": "", "base_url": "", "callback_url": "",
            "window_size": "10"}


def _http_values(found) -> dict[str, str]:
    return {"name": found.name, "provider": found.provider or "", "account": found.account or "",
            "base_url": found.base_url or "", "callback_url": found.callback_url or "",
            "window_size": str(found.window_size)}


def _http_form(request: Request, existing: str | None, values: dict, errors: dict,
               found=None, status_code: int = 200) -> Response:
    from proactive_sms.carriers.http.providers import SHAPES
    from proactive_sms.services.carrier_callbacks import account_of

    callbacks = None
    if found is not None:
        account = account_of(found)
        callbacks = {"status": account.callback("status"),
                     "inbound": account.callback("inbound")}
    return render(request, "connections/http_form.html", status_code=status_code,
                  existing=existing, values=values, errors=errors, providers=list(SHAPES),
                  callbacks=callbacks)


def _save_http(request: Request, user, bu, engine, clock, found, values: dict[str, str],
               token: str, signature_secret: str = "") -> Response:
    """Add (found None) or change an HTTP provider connection; the token (and Vonage's
    signature secret) are write-only."""
    from proactive_sms.services import administration, setup_changes

    errors: dict[str, str] = {}
    try:
        window = int(values["window_size"].strip())
    except ValueError:
        errors["window_size"] = f"window must be a whole number, got '{values['window_size']}'"
    if not errors:
        try:
            if found is None:
                saved = administration.add_http_connection(
                    engine, bu, clock, values["name"].strip(), provider=values["provider"],
                    account=values["account"], token=token,
                    base_url=values["base_url"].strip() or None,
                    callback_url=values["callback_url"], window_size=window, replace=False,
                    signature_secret=signature_secret or None)
            else:
                changes = {"account": values["account"].strip(),
                           "base_url": values["base_url"].strip() or found.base_url,
                           "callback_url": values["callback_url"], "window_size": window}
                if token:
                    changes["password"] = token
                if signature_secret:
                    changes["signature_secret"] = signature_secret
                saved = setup_changes.change_connection(engine, bu, clock, found.name, changes,
                                                        actor=user.username)
        except AlreadyExists:
            errors["name"] = f"a connection named '{values['name']}' exists already"
        except InvalidRequest as exc:
            errors[exc.field if exc.field in values or exc.field in ("token", "signature_secret")
                   else "form"] = \
                str(exc)
    if errors:
        return _http_form(request, found.name if found else None, values, errors, found,
                          status_code=422)
    if found is None:
        audit.record(engine, user, "connection.created", saved.name,
                     {"provider": saved.provider, "account": saved.account,
                      "base_url": saved.base_url, "callback_url": saved.callback_url,
                      "window_size": saved.window_size}, address=address_of(request))
        return redirect("/connections", f"Connection {saved.name} added. Give the provider its "
                        f"callback URLs (Edit shows them).")
    return redirect("/connections", f"Connection {saved.name} saved. A running dispatcher keeps "
                    "its client: restart it (psms serve, psms dispatch) to use the new settings.")
