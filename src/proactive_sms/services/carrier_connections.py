"""Carrier connections as the console shows and edits them: each with its link status and the
codes that send through it; created or edited with a write-only password.

Connections belong to the tenant (administration.add_connection); every BU of the tenant sees
them, and the codes listed are the viewer's BU's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.services import administration
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.link_status import LinkSummary, summarize
from proactive_sms.store import link_status, registrations
from proactive_sms.store.errors import AlreadyExists, NotFound
from proactive_sms.store.registrations import CarrierConnection
from proactive_sms.store.tenancy import BusinessUnit

MAX_CONNECTIONS_SHOWN = 1000  # per tenant: more would be a directory, not a page


class ConnectionRefused(InvalidRequest):
    """A connection setting that is wrong; `field` names it (as the API's fields do)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ConnectionView:
    connection: CarrierConnection
    link: LinkSummary
    codes: list[str]  # the viewer's BU's registrations that send through it

    @property
    def name(self) -> str:
        return self.connection.name


def connection_views(engine: Engine, bu: BusinessUnit, clock: Clock) -> list[ConnectionView]:
    """The tenant's connections in creation order, with their status and the BU's codes."""
    with engine.connect() as conn:
        found = registrations.page_connections(conn, bu.tenant_id, 0,
                                               MAX_CONNECTIONS_SHOWN).items
        reports = link_status.of_connections(conn, [c.id for c in found])
        codes: dict[int, list[str]] = {}
        own = registrations.list_registrations(conn, bu.id)
        for reg_id, route in registrations.routes(conn, own).items():
            code = next(r.code for r in own if r.id == reg_id)
            for connection_id in route:  # a fallback of a code counts as sending through it
                codes.setdefault(connection_id, []).append(code)
    now = clock.now()
    return [ConnectionView(c, summarize(reports[c.id], now), codes.get(c.id, []))
            for c in found]


def links(engine: Engine, clock: Clock, connection_ids: list[int]) -> dict[int, LinkSummary]:
    """The link status of these connections (ids the caller found in the BU's tenant)."""
    with engine.connect() as conn:
        reports = link_status.of_connections(conn, connection_ids)
    now = clock.now()
    return {i: summarize(reports[i], now) for i in connection_ids}


def connection_view(engine: Engine, bu: BusinessUnit, clock: Clock,
                    name: str) -> ConnectionView:
    for view in connection_views(engine, bu, clock):
        if view.name == name:
            return view
    raise NotFound("carrier connection", name)


def save_connection(engine: Engine, bu: BusinessUnit, clock: Clock, *, name: str, host: str,
                    port: int, system_id: str, password: str | None, window_size: int,
                    existing: str | None = None) -> CarrierConnection:
    """Create a connection (`existing` None: a name in use is refused) or edit the one named
    `existing` (its name cannot change: registrations and workers know it by name). The
    password is write-only: None or empty on an edit keeps the stored one."""
    name, host, system_id = name.strip(), host.strip(), system_id.strip()
    if existing is not None and name != existing:
        raise ConnectionRefused("a connection's name cannot change", "name")
    if not name or len(name) > 100:
        raise ConnectionRefused("name must have 1 to 100 characters", "name")
    if not host or len(host) > 200:
        raise ConnectionRefused("host must have 1 to 200 characters", "host")
    if not 1 <= port <= 65535:
        raise ConnectionRefused(f"port must be 1..65535, got {port}", "port")
    if not system_id or len(system_id) > 15:
        raise ConnectionRefused("system_id must have 1 to 15 characters (SMPP 3.4)",
                                "system_id")
    if not 1 <= window_size <= 1000:
        raise ConnectionRefused(f"window size must be 1..1000, got {window_size}",
                                "window_size")
    if existing is None:
        if password is None or password == "":
            raise ConnectionRefused("a new connection needs its password", "password")
    else:
        stored = administration.find_connection(engine, bu, existing)
        if not password:
            password = stored.password
    if len(password) > 8:
        raise ConnectionRefused("password must have at most 8 characters (SMPP 3.4)",
                                "password")
    try:
        return administration.add_connection(engine, bu, clock, name, host, port, system_id,
                                             password, window_size,
                                             replace=existing is not None)
    except AlreadyExists:
        raise ConnectionRefused(f"a connection named '{name}' exists already", "name") from None
