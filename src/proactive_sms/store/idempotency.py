"""Idempotency keys of the HTTP API: claim a key for a request, keep its answer, replay it.

A key belongs to one business unit and lives 24 hours. Claiming inserts the key with no answer
yet, in a transaction of its own, before the request runs: the unique (BU, key) constraint lets
exactly one of two concurrent requests claim it; the other sees it in progress.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update

from proactive_sms.store.dialect import insert
from proactive_sms.store.schema import idempotency_key

KEPT_FOR = timedelta(hours=24)
# A claim never answered (its process died mid-request) may be taken over after this long; the
# operations behind the keys are safe to resume (a skill start continues where it stopped).
STALE_AFTER = timedelta(minutes=15)


class ClaimOutcome(enum.StrEnum):
    CLAIMED = "claimed"  # the key is new (or its claim went stale): run the request
    REPLAY = "replay"  # the same request was answered before: answer the same
    MISMATCH = "mismatch"  # the key was used for another request
    IN_PROGRESS = "in_progress"  # the same request is running right now


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    status_code: int | None = None
    body: Any = None


def claim(conn: Connection, business_unit_id: int, key: str, fingerprint: str,
          now: datetime) -> Claim:
    """Claim `key` for the request of that fingerprint, or say what it already holds. Keys
    older than KEPT_FOR are purged here, lazily, whichever BU they belong to."""
    conn.execute(delete(idempotency_key).where(idempotency_key.c.created_at < now - KEPT_FOR))
    inserted = conn.execute(
        insert(conn, idempotency_key)
        .values(business_unit_id=business_unit_id, key=key, fingerprint=fingerprint,
                status_code=None, response_body=None, created_at=now)
        .on_conflict_do_nothing()
        .returning(idempotency_key.c.id)
    ).first()
    if inserted is not None:
        return Claim(ClaimOutcome.CLAIMED)
    row = conn.execute(select(idempotency_key).where(
        idempotency_key.c.business_unit_id == business_unit_id,
        idempotency_key.c.key == key)).one()
    if row.fingerprint != fingerprint:
        return Claim(ClaimOutcome.MISMATCH)
    if row.status_code is not None:
        return Claim(ClaimOutcome.REPLAY, row.status_code, row.response_body)
    taken_over = conn.execute(update(idempotency_key).where(
        idempotency_key.c.id == row.id, idempotency_key.c.status_code.is_(None),
        idempotency_key.c.created_at < now - STALE_AFTER,
    ).values(created_at=now)).rowcount == 1
    return Claim(ClaimOutcome.CLAIMED if taken_over else ClaimOutcome.IN_PROGRESS)


def answer(conn: Connection, business_unit_id: int, key: str, status_code: int,
           body: Any) -> None:
    """Keep the answer of the claimed request, for replays."""
    conn.execute(update(idempotency_key).where(
        idempotency_key.c.business_unit_id == business_unit_id, idempotency_key.c.key == key,
    ).values(status_code=status_code, response_body=body))


def release(conn: Connection, business_unit_id: int, key: str) -> None:
    """Forget an unanswered claim (the request failed and changed nothing): the key is free."""
    conn.execute(delete(idempotency_key).where(
        idempotency_key.c.business_unit_id == business_unit_id, idempotency_key.c.key == key,
        idempotency_key.c.status_code.is_(None)))
