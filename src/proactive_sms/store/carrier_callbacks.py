"""Provider callbacks (status reports, inbound texts) as received: stored before they are
acknowledged, processed later by the dispatcher (services/carrier_callbacks.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from proactive_sms.store.dialect import insert, is_postgres
from proactive_sms.store.schema import carrier_callback


@dataclass(frozen=True)
class StoredCallback:
    id: int
    connection_id: int
    kind: str  # status | inbound
    provider_message_id: str
    payload: dict[str, str]
    received_at: datetime


def record(conn: Connection, connection_id: int, kind: str, provider_message_id: str,
           event: str, payload: dict[str, str], now: datetime) -> bool:
    """Store a callback; False when the same one (message id, kind, event) is stored already."""
    inserted = conn.execute(
        insert(conn, carrier_callback).values(
            connection_id=connection_id, kind=kind, provider_message_id=provider_message_id[:80],
            event=event[:30], payload=payload, received_at=now)
        .on_conflict_do_nothing().returning(carrier_callback.c.id)).first()
    return inserted is not None


def unprocessed(conn: Connection, limit: int) -> list[StoredCallback]:
    """The oldest callbacks not processed yet, in the order they came. On PostgreSQL the rows
    are locked (SKIP LOCKED): two dispatchers never process one callback twice."""
    query = (select(carrier_callback).where(carrier_callback.c.processed_at.is_(None))
             .order_by(carrier_callback.c.id).limit(limit))
    if is_postgres(conn):
        query = query.with_for_update(skip_locked=True)
    return [StoredCallback(r.id, r.connection_id, r.kind, r.provider_message_id,
                           dict(r.payload), r.received_at) for r in conn.execute(query)]


def mark_processed(conn: Connection, outcomes: Sequence[tuple[int, str]],
                   now: datetime) -> None:
    for callback_id, outcome in outcomes:
        conn.execute(update(carrier_callback).where(carrier_callback.c.id == callback_id)
                     .values(processed_at=now, outcome=outcome[:200]))


def count_unprocessed(conn: Connection) -> int:
    from sqlalchemy import func
    return conn.execute(select(func.count()).select_from(carrier_callback)
                        .where(carrier_callback.c.processed_at.is_(None))).scalar_one()


def prune_processed(conn: Connection, before: datetime) -> int:
    """Forget callbacks processed before `before`: what they did is on the texts, receipts and
    inbound texts by then (a duplicate that comes later is matched there, first state wins)."""
    return conn.execute(delete(carrier_callback).where(
        carrier_callback.c.processed_at.is_not(None),
        carrier_callback.c.processed_at < before)).rowcount
