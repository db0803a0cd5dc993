"""API keys of a business unit: only the hash of each secret is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from proactive_sms.store.errors import AlreadyExists, NotFound
from proactive_sms.store.schema import api_key


@dataclass(frozen=True)
class ApiKey:
    id: int
    business_unit_id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None
    version: int = 1  # raised by every change (store.versions)


def add_key(conn: Connection, business_unit_id: int, name: str, key_hash: str,
            now: datetime) -> ApiKey:
    if conn.scalar(select(api_key.c.id).where(api_key.c.business_unit_id == business_unit_id,
                                              api_key.c.name == name)):
        raise AlreadyExists("api key", name)
    key_id = conn.execute(api_key.insert().values(
        business_unit_id=business_unit_id, name=name, key_hash=key_hash,
        created_at=now)).inserted_primary_key[0]
    return ApiKey(key_id, business_unit_id, name, now, None)


def list_keys(conn: Connection, business_unit_id: int) -> list[ApiKey]:
    rows = conn.execute(select(api_key).where(api_key.c.business_unit_id == business_unit_id)
                        .order_by(api_key.c.id))
    return [_key(row) for row in rows]


def find_key(conn: Connection, business_unit_id: int, name: str) -> ApiKey:
    row = conn.execute(select(api_key).where(api_key.c.business_unit_id == business_unit_id,
                                             api_key.c.name == name)).first()
    if row is None:
        raise NotFound("api key", name)
    return _key(row)


def revoke_key(conn: Connection, key_id: int, now: datetime) -> None:
    conn.execute(update(api_key).where(api_key.c.id == key_id, api_key.c.revoked_at.is_(None))
                 .values(revoked_at=now, version=api_key.c.version + 1))


def active_key_by_hash(conn: Connection, key_hash: str) -> ApiKey | None:
    """The key with that hash, unless it was revoked."""
    row = conn.execute(select(api_key).where(api_key.c.key_hash == key_hash,
                                             api_key.c.revoked_at.is_(None))).first()
    return _key(row) if row else None


def _key(row) -> ApiKey:
    return ApiKey(row.id, row.business_unit_id, row.name, row.created_at, row.revoked_at,
                  row.version)
