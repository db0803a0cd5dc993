"""Console users: one business unit each, a role, an Argon2 hash of the password (never the
password), an optional agent, and a disabled mark."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, update

from proactive_sms.store.errors import AlreadyExists, NotFound
from proactive_sms.store.schema import agent, business_unit, console_user


@dataclass(frozen=True)
class StoredUser:
    id: int
    business_unit_id: int
    tenant_id: int
    username: str
    password_hash: str
    role: str
    agent_id: int | None
    agent_name: str | None
    disabled_at: datetime | None
    password_changed_at: datetime
    created_at: datetime
    version: int = 1  # raised by every change (store.versions)


def _query():
    return (select(console_user, business_unit.c.tenant_id, agent.c.name.label("agent_name"))
            .join(business_unit, business_unit.c.id == console_user.c.business_unit_id)
            .outerjoin(agent, agent.c.id == console_user.c.agent_id))


def add(conn: Connection, business_unit_id: int, username: str, password_hash: str, role: str,
        agent_id: int | None, now: datetime) -> StoredUser:
    if conn.scalar(select(console_user.c.id).where(console_user.c.username == username)):
        raise AlreadyExists("console user", username)
    user_id = conn.execute(console_user.insert().values(
        business_unit_id=business_unit_id, username=username, password_hash=password_hash,
        role=role, agent_id=agent_id, password_changed_at=now,
        created_at=now)).inserted_primary_key[0]
    return by_id(conn, user_id)


def by_id(conn: Connection, user_id: int) -> StoredUser:
    row = conn.execute(_query().where(console_user.c.id == user_id)).first()
    if row is None:
        raise NotFound("console user", user_id)
    return _user(row)


def by_username(conn: Connection, username: str) -> StoredUser | None:
    """The user of that username in any unit (usernames are unique), or None."""
    row = conn.execute(_query().where(console_user.c.username == username)).first()
    return _user(row) if row else None


def find(conn: Connection, business_unit_id: int, username: str) -> StoredUser:
    """The unit's user of that name; another unit's user is NotFound like an unknown one."""
    row = conn.execute(_query().where(console_user.c.username == username,
                                      console_user.c.business_unit_id == business_unit_id)
                       ).first()
    if row is None:
        raise NotFound("console user", username)
    return _user(row)


def of_business_unit(conn: Connection, business_unit_id: int) -> list[StoredUser]:
    rows = conn.execute(_query().where(console_user.c.business_unit_id == business_unit_id)
                        .order_by(console_user.c.username))
    return [_user(row) for row in rows]


def count(conn: Connection) -> int:
    return conn.scalar(select(func.count()).select_from(console_user)) or 0


def set_disabled(conn: Connection, user_id: int, disabled_at: datetime | None) -> None:
    conn.execute(update(console_user).where(console_user.c.id == user_id)
                 .values(disabled_at=disabled_at, version=console_user.c.version + 1))


def set_password_hash(conn: Connection, user_id: int, password_hash: str,
                      now: datetime) -> None:
    conn.execute(update(console_user).where(console_user.c.id == user_id)
                 .values(password_hash=password_hash, password_changed_at=now,
                         version=console_user.c.version + 1))


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _user(row) -> StoredUser:
    return StoredUser(row.id, row.business_unit_id, row.tenant_id, row.username,
                      row.password_hash, row.role, row.agent_id, row.agent_name,
                      _aware(row.disabled_at), _aware(row.password_changed_at),
                      _aware(row.created_at), row.version)
