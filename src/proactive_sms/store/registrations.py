"""SMS registrations (transport codes) and the carrier connections they send through."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select

from proactive_sms.store import paging
from proactive_sms.store.dialect import insert
from proactive_sms.store.errors import AlreadyExists, NotFound
from proactive_sms.store.schema import (
    carrier_connection,
    registration_connection,
    sms_registration,
)
from proactive_sms.store.secret_box import SecretBox, box_for


@dataclass(frozen=True)
class CarrierConnection:
    id: int
    tenant_id: int
    name: str
    kind: str
    host: str
    port: int
    system_id: str
    password: str
    window_size: int
    # Whether it is bound, and why it last failed, are observations of the dispatchers that run
    # it, kept in one place: store.link_status (not here, in the connection's settings).
    enquire_link_s: float | None = None  # idle seconds before a keep-alive; None: the default
    version: int = 1  # raised by every change (store.versions)
    # An HTTP provider's account (kind "http"; None on SMPP): the API shape, the account id,
    # the API's base URL and our public base URL for its callbacks. `password` is its token.
    provider: str | None = None
    account: str | None = None
    base_url: str | None = None
    callback_url: str | None = None


@dataclass(frozen=True)
class Registration:
    id: int
    business_unit_id: int
    code: str
    kind: str
    status: str
    throughput_per_s: float
    throughput_unit: str
    connection_id: int | None
    dnc_list_id: int | None
    solution: str
    keyword_responses: dict
    version: int = 1  # raised by every change (store.versions)


def upsert_connection(
    conn: Connection, tenant_id: int, name: str, host: str, port: int, system_id: str,
    password: str, window_size: int, now: datetime, *, enquire_link_s: float | None = None,
) -> CarrierConnection:
    # Sealed at rest with the key kept outside the database (store.secret_box).
    values = dict(host=host, port=port, system_id=system_id,
                  password=box_for(conn.engine.url).seal(password), window_size=window_size,
                  enquire_link_s=enquire_link_s)
    # Saving over an archived connection of that name brings it back with these settings.
    conn.execute(
        insert(conn, carrier_connection)
        .values(tenant_id=tenant_id, name=name, kind="smpp", created_at=now, **values)
        .on_conflict_do_update(index_elements=["tenant_id", "name"],
                               set_={**values, "archived_at": None, "kind": "smpp",
                                     "provider": None, "account": None, "base_url": None,
                                     "callback_url": None,
                                     "version": carrier_connection.c.version + 1})
    )
    return find_connection(conn, tenant_id, name)


def upsert_http_connection(
    conn: Connection, tenant_id: int, name: str, *, provider: str, account: str, token: str,
    base_url: str, callback_url: str, window_size: int, now: datetime,
) -> CarrierConnection:
    """Add (or update) an HTTP provider connection. host and port are the base URL's (for the
    lists that show an address); system_id is unused (empty)."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    values = dict(host=parts.hostname or "", port=port, system_id="",
                  password=box_for(conn.engine.url).seal(token), window_size=window_size,
                  enquire_link_s=None, provider=provider, account=account, base_url=base_url,
                  callback_url=callback_url)
    conn.execute(
        insert(conn, carrier_connection)
        .values(tenant_id=tenant_id, name=name, kind="http", created_at=now, **values)
        .on_conflict_do_update(index_elements=["tenant_id", "name"],
                               set_={**values, "kind": "http", "archived_at": None,
                                     "version": carrier_connection.c.version + 1})
    )
    return find_connection(conn, tenant_id, name)


def seal(conn: Connection, password: str) -> str:
    """A connection password as stored: sealed with the key kept outside the database."""
    return box_for(conn.engine.url).seal(password)


def find_connection(conn: Connection, tenant_id: int, name: str) -> CarrierConnection:
    row = conn.execute(
        select(carrier_connection).where(
            carrier_connection.c.tenant_id == tenant_id, carrier_connection.c.name == name,
            carrier_connection.c.archived_at.is_(None),
        )
    ).first()
    if row is None:
        raise NotFound("carrier connection", name)
    return _connection(row, box_for(conn.engine.url))


def connection_by_id(conn: Connection, connection_id: int) -> CarrierConnection:
    row = conn.execute(
        select(carrier_connection).where(carrier_connection.c.id == connection_id)
    ).first()
    if row is None:
        raise NotFound("carrier connection", connection_id)
    return _connection(row, box_for(conn.engine.url))


def _connection(row, box: SecretBox) -> CarrierConnection:
    return CarrierConnection(row.id, row.tenant_id, row.name, row.kind, row.host, row.port,
                             row.system_id, box.open(row.password), row.window_size,
                             row.enquire_link_s, row.version, row.provider, row.account,
                             row.base_url, row.callback_url)


def add_registration(conn: Connection, *, business_unit_id: int, code: str, kind: str,
                     status: str, throughput_per_s: float, throughput_unit: str,
                     connection_id: int | None, dnc_list_id: int | None, solution: str,
                     keyword_responses: dict, now: datetime) -> Registration:
    values = dict(kind=kind, status=status, throughput_per_s=throughput_per_s,
                  throughput_unit=throughput_unit, connection_id=connection_id,
                  dnc_list_id=dnc_list_id, solution=solution,
                  keyword_responses=keyword_responses)
    existing = conn.execute(select(sms_registration.c.id, sms_registration.c.business_unit_id,
                                   sms_registration.c.archived_at)
                            .where(sms_registration.c.code == code)).first()
    if existing is not None:
        if existing.archived_at is None or existing.business_unit_id != business_unit_id:
            raise AlreadyExists("registration", code)
        # The unit's own archived code, added again: the same row comes back with these
        # settings, so its history (texts, conversations) stays with it.
        conn.execute(sms_registration.update().where(sms_registration.c.id == existing.id)
                     .values(**values, archived_at=None,
                             version=sms_registration.c.version + 1))
    else:
        conn.execute(sms_registration.insert().values(
            business_unit_id=business_unit_id, code=code, created_at=now, **values))
    found = find_registration(conn, business_unit_id, code)
    set_route(conn, found.id, [connection_id] if connection_id is not None else [])
    return found


def find_registration(conn: Connection, business_unit_id: int, code: str) -> Registration:
    row = conn.execute(select(sms_registration).where(
        sms_registration.c.business_unit_id == business_unit_id, sms_registration.c.code == code,
        sms_registration.c.archived_at.is_(None),
    )).first()
    if row is None:
        raise NotFound("registration", code)
    return _registration(row)


def registration_by_id(conn: Connection, registration_id: int) -> Registration:
    row = conn.execute(
        select(sms_registration).where(sms_registration.c.id == registration_id)
    ).first()
    if row is None:
        raise NotFound("registration", registration_id)
    return _registration(row)


def list_registrations(conn: Connection, business_unit_id: int | None = None) -> list[Registration]:
    query = select(sms_registration).order_by(sms_registration.c.id)
    if business_unit_id is not None:
        # A unit's list leaves archived codes out; the whole installation's (dispatch, inbound)
        # keeps them, as replies to an archived code are still honored.
        query = query.where(sms_registration.c.business_unit_id == business_unit_id,
                            sms_registration.c.archived_at.is_(None))
    return [_registration(r) for r in conn.execute(query)]


def _registration(row) -> Registration:
    return Registration(row.id, row.business_unit_id, row.code, row.kind, row.status,
                        row.throughput_per_s, row.throughput_unit, row.connection_id,
                        row.dnc_list_id, row.solution, dict(row.keyword_responses or {}),
                        row.version)


def set_keyword_responses(conn: Connection, registration_id: int, settings: dict) -> None:
    conn.execute(sms_registration.update().where(sms_registration.c.id == registration_id)
                 .values(keyword_responses=settings, version=sms_registration.c.version + 1))


def page(conn: Connection, business_unit_id: int, after_id: int,
         limit: int) -> paging.Page[Registration]:
    """The BU's registrations after an id, in id order."""
    query = select(sms_registration).where(sms_registration.c.business_unit_id == business_unit_id,
                                           sms_registration.c.archived_at.is_(None))
    return paging.fetch(conn, query, sms_registration.c.id, after_id, limit, _registration)


def page_connections(conn: Connection, tenant_id: int, after_id: int,
                     limit: int) -> paging.Page[CarrierConnection]:
    """The tenant's carrier connections after an id, in id order."""
    query = select(carrier_connection).where(carrier_connection.c.tenant_id == tenant_id,
                                             carrier_connection.c.archived_at.is_(None))
    box = box_for(conn.engine.url)
    return paging.fetch(conn, query, carrier_connection.c.id, after_id, limit,
                        lambda row: _connection(row, box))


# --- routes: a code's connections in order (migration 0027) ----------------------------------

def set_route(conn: Connection, registration_id: int, connection_ids: Sequence[int]) -> None:
    """Make `connection_ids` (no repeats) the code's connections, first first; the code's
    `connection_id` becomes the first (None for none). Does not raise the version: the caller
    changing the registration does."""
    if len(set(connection_ids)) != len(connection_ids):
        raise ValueError("a connection may appear once in a route")
    conn.execute(delete(registration_connection)
                 .where(registration_connection.c.registration_id == registration_id))
    if connection_ids:
        conn.execute(registration_connection.insert(), [
            {"registration_id": registration_id, "position": n, "connection_id": c}
            for n, c in enumerate(connection_ids)])
    conn.execute(sms_registration.update().where(sms_registration.c.id == registration_id)
                 .values(connection_id=connection_ids[0] if connection_ids else None))


def routes(conn: Connection, registrations: Sequence[Registration]) -> dict[int, list[int]]:
    """Registration id -> its connection ids in order. A code with no route rows (written
    before 0027's tables by some other path) has its one `connection_id`."""
    found: dict[int, list[int]] = {r.id: [] for r in registrations}
    ids = list(found)
    for start in range(0, len(ids), 900):
        rows = conn.execute(select(registration_connection)
                            .where(registration_connection.c.registration_id
                                   .in_(ids[start:start + 900]))
                            .order_by(registration_connection.c.registration_id,
                                      registration_connection.c.position))
        for row in rows:
            found[row.registration_id].append(row.connection_id)
    for reg in registrations:
        if not found[reg.id] and reg.connection_id is not None:
            found[reg.id] = [reg.connection_id]
    return found


def route_of(conn: Connection, registration: Registration) -> list[int]:
    """One registration's connection ids, first first."""
    return routes(conn, [registration])[registration.id]


def connection_names(conn: Connection, connection_ids: Sequence[int]) -> dict[int, str]:
    """Connection id -> its name (archived ones too: a route may outlive nothing, but history
    may name one)."""
    if not connection_ids:
        return {}
    rows = conn.execute(select(carrier_connection.c.id, carrier_connection.c.name)
                        .where(carrier_connection.c.id.in_(list(set(connection_ids)))))
    return {row.id: row.name for row in rows}


def registrations_routed_through(conn: Connection, connection_id: int) -> list[tuple[str, int]]:
    """(code, business unit id) of live registrations whose route names the connection."""
    rows = conn.execute(
        select(sms_registration.c.code, sms_registration.c.business_unit_id)
        .where(sms_registration.c.archived_at.is_(None),
               sms_registration.c.id.in_(
                   select(registration_connection.c.registration_id)
                   .where(registration_connection.c.connection_id == connection_id))
               | (sms_registration.c.connection_id == connection_id))
        .order_by(sms_registration.c.code))
    return [(row.code, row.business_unit_id) for row in rows]
