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


@router.get("/connections/{name}/edit", response_class=HTMLResponse)
def edit_connection(name: str, request: Request, user: AdminUser, bu: CurrentBu,
                    engine: EngineDep, clock: ClockDep) -> Response:
    found = carrier_connections.connection_view(engine, bu, clock, name).connection  # or 404
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
           window_size: Annotated[str, Form()] = "") -> Response:
    carrier_connections.connection_view(engine, bu, clock, existing)  # 404 if not the tenant's
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
