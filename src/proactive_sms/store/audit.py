"""The audit log: one row per action a person took, per business unit, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from proactive_sms.store.schema import audit_log


@dataclass(frozen=True)
class AuditEntry:
    id: int
    business_unit_id: int
    user_id: int | None
    username: str
    action: str
    target: str
    detail: str
    address: str | None
    at: datetime


def add(conn: Connection, business_unit_id: int, user_id: int | None, username: str,
        action: str, target: str, detail: str, address: str | None, at: datetime) -> None:
    conn.execute(audit_log.insert().values(
        business_unit_id=business_unit_id, user_id=user_id, username=username, action=action,
        target=target, detail=detail, address=address, at=at))


def _filtered(query, business_unit_id: int, username: str | None, action: str | None):
    query = query.where(audit_log.c.business_unit_id == business_unit_id)
    if username:
        query = query.where(audit_log.c.username == username)
    if action:
        # 'user' finds user.created, user.disabled...; 'login' finds login and login.failed
        query = query.where((audit_log.c.action == action)
                            | audit_log.c.action.startswith(action + ".", autoescape=True))
    return query


def page(conn: Connection, business_unit_id: int, *, username: str | None = None,
         action: str | None = None, offset: int = 0, limit: int = 50) -> list[AuditEntry]:
    """Newest first."""
    rows = conn.execute(_filtered(select(audit_log), business_unit_id, username, action)
                        .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
                        .offset(offset).limit(limit))
    return [_entry(row) for row in rows]


def count(conn: Connection, business_unit_id: int, *, username: str | None = None,
          action: str | None = None) -> int:
    query = _filtered(select(func.count()).select_from(audit_log), business_unit_id,
                      username, action)
    return conn.scalar(query) or 0


def actions(conn: Connection, business_unit_id: int) -> list[str]:
    """The actions the unit's log holds (for the filter's choices)."""
    rows = conn.execute(select(audit_log.c.action).distinct()
                        .where(audit_log.c.business_unit_id == business_unit_id)
                        .order_by(audit_log.c.action))
    return [row.action for row in rows]


def _entry(row) -> AuditEntry:
    at = row.at.replace(tzinfo=UTC) if row.at.tzinfo is None else row.at
    return AuditEntry(row.id, row.business_unit_id, row.user_id, row.username, row.action,
                      row.target, row.detail, row.address, at)
