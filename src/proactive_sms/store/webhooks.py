"""Webhook endpoints: one URL per business unit, and which BUs have one (cached for the hot path).

Events are written in the transaction of the change they report, by the dispatcher's batches
among others. To keep that path as fast as before when no BU has a webhook, the set of BUs with an
active endpoint is read at most every few seconds per engine (`watched`); changes made through
this process are seen at once (`forget_watched`), other processes see them within WATCH_TTL_S.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, select, update

from proactive_sms.domain import webhook_signature
from proactive_sms.store.schema import business_unit, webhook_endpoint
from proactive_sms.store.secret_box import SecretBox, box_for

WATCH_TTL_S = 5.0


@dataclass(frozen=True)
class Endpoint:
    id: int
    business_unit_id: int
    url: str
    secret: str
    active: bool
    event_types: tuple[str, ...] | None  # None: every type
    created_at: datetime
    updated_at: datetime
    version: int = 1  # raised by every change (store.versions)

    @property
    def signature_scheme(self) -> str:
        """`standard` (Standard Webhooks only) or `legacy` (a secret made before it: the old
        PSMS-Signature header is sent too, until the secret is rotated)."""
        return "legacy" if webhook_signature.is_legacy(self.secret) else "standard"


@dataclass(frozen=True)
class Watch:
    """What the emitters need to know about one BU with an active endpoint."""

    business_unit: str  # its name, put in every event
    event_types: frozenset[str] | None  # None: every type

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types


def find_endpoint(conn: Connection, business_unit_id: int) -> Endpoint | None:
    row = conn.execute(select(webhook_endpoint).where(
        webhook_endpoint.c.business_unit_id == business_unit_id)).first()
    return _endpoint(row, box_for(conn.engine.url)) if row else None


def endpoints_of(conn: Connection, business_unit_ids: Sequence[int]) -> dict[int, Endpoint]:
    """The active endpoints of these BUs (BUs without one are absent)."""
    if not business_unit_ids:
        return {}
    rows = conn.execute(select(webhook_endpoint).where(
        webhook_endpoint.c.business_unit_id.in_(list(set(business_unit_ids))),
        webhook_endpoint.c.active.is_(True)))
    box = box_for(conn.engine.url)
    return {row.business_unit_id: _endpoint(row, box) for row in rows}


def save_endpoint(conn: Connection, business_unit_id: int, *, url: str, active: bool,
                  event_types: Sequence[str] | None, secret: str, now: datetime) -> bool:
    """Create the BU's endpoint with `secret`, or change its URL, state and filter (the secret
    it has is kept). True when it was created."""
    values = {"url": url, "active": active,
              "event_types": list(event_types) if event_types is not None else None,
              "updated_at": now}
    changed = conn.execute(update(webhook_endpoint).where(
        webhook_endpoint.c.business_unit_id == business_unit_id).values(
        **values, version=webhook_endpoint.c.version + 1)).rowcount
    if changed:
        return False
    conn.execute(webhook_endpoint.insert().values(
        business_unit_id=business_unit_id, secret=box_for(conn.engine.url).seal(secret),
        created_at=now, **values))
    return True


def set_secret(conn: Connection, business_unit_id: int, secret: str, now: datetime) -> bool:
    return conn.execute(update(webhook_endpoint).where(
        webhook_endpoint.c.business_unit_id == business_unit_id).values(
        secret=box_for(conn.engine.url).seal(secret), updated_at=now,
        version=webhook_endpoint.c.version + 1)).rowcount == 1


def remove_endpoint(conn: Connection, business_unit_id: int) -> bool:
    return conn.execute(delete(webhook_endpoint).where(
        webhook_endpoint.c.business_unit_id == business_unit_id)).rowcount == 1


def _endpoint(row, box: SecretBox) -> Endpoint:
    types = tuple(row.event_types) if row.event_types is not None else None
    return Endpoint(row.id, row.business_unit_id, row.url, box.open(row.secret), bool(row.active),
                    types,
                    aware(row.created_at), aware(row.updated_at), row.version)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite gives back naive UTC: every moment this module hands out says its zone."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


# --- the cached set of BUs with an active endpoint ---------------------------------------------

_watched: weakref.WeakKeyDictionary[Engine, tuple[float, dict[int, Watch]]] = (
    weakref.WeakKeyDictionary())
_watched_lock = threading.Lock()


def watched(conn: Connection) -> Mapping[int, Watch]:
    """BU id -> Watch for every BU with an active endpoint, at most WATCH_TTL_S old. Nearly
    always a dictionary look-up: it is asked for every batch of state changes."""
    engine = conn.engine
    entry = _watched.get(engine)
    now = time.monotonic()
    if entry is not None and now < entry[0]:
        return entry[1]
    rows = conn.execute(
        select(webhook_endpoint.c.business_unit_id, webhook_endpoint.c.event_types,
               business_unit.c.name)
        .join(business_unit, business_unit.c.id == webhook_endpoint.c.business_unit_id)
        .where(webhook_endpoint.c.active.is_(True)))
    found = {bu_id: Watch(name, frozenset(types) if types is not None else None)
             for bu_id, types, name in rows}
    with _watched_lock:
        _watched[engine] = (now + WATCH_TTL_S, found)
    return found


def forget_watched(engine: Engine) -> None:
    """After an endpoint changed (and committed): the next emitter reads the table again."""
    with _watched_lock:
        _watched.pop(engine, None)
