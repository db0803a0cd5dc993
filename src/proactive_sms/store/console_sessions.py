"""Console sessions (signed-in browsers) and sign-in attempts. A session is found by the SHA-256
of its token; the token itself is never stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, delete, func, select, update

from proactive_sms.store.schema import console_session, login_attempt


@dataclass(frozen=True)
class StoredSession:
    id: int
    user_id: int
    address: str | None
    created_at: datetime
    last_seen_at: datetime


def add(conn: Connection, token_hash: str, user_id: int, address: str | None,
        now: datetime) -> StoredSession:
    session_id = conn.execute(console_session.insert().values(
        token_hash=token_hash, user_id=user_id, address=address, created_at=now,
        last_seen_at=now)).inserted_primary_key[0]
    return StoredSession(session_id, user_id, address, now, now)


def by_token_hash(conn: Connection, token_hash: str) -> StoredSession | None:
    row = conn.execute(select(console_session)
                       .where(console_session.c.token_hash == token_hash)).first()
    return _session(row) if row else None


def of_user(conn: Connection, user_id: int) -> list[StoredSession]:
    rows = conn.execute(select(console_session).where(console_session.c.user_id == user_id)
                        .order_by(console_session.c.created_at))
    return [_session(row) for row in rows]


def touch(conn: Connection, session_id: int, now: datetime) -> None:
    conn.execute(update(console_session).where(console_session.c.id == session_id)
                 .values(last_seen_at=now))


def remove(conn: Connection, session_id: int) -> None:
    conn.execute(delete(console_session).where(console_session.c.id == session_id))


def remove_of_user(conn: Connection, user_id: int, keep_token_hash: str | None = None) -> int:
    """End every session of the user (but the one of `keep_token_hash`); how many ended."""
    query = delete(console_session).where(console_session.c.user_id == user_id)
    if keep_token_hash is not None:
        query = query.where(console_session.c.token_hash != keep_token_hash)
    return conn.execute(query).rowcount


def remove_expired(conn: Connection, idle_before: datetime, created_before: datetime) -> int:
    return conn.execute(delete(console_session).where(
        (console_session.c.last_seen_at < idle_before)
        | (console_session.c.created_at < created_before))).rowcount


def add_attempt(conn: Connection, username: str, address: str, succeeded: bool,
                now: datetime) -> None:
    conn.execute(login_attempt.insert().values(username=username, address=address,
                                               succeeded=succeeded, attempted_at=now))


def failures_of_username(conn: Connection, username: str, since: datetime) -> list[datetime]:
    """The times of the failed attempts at a username after `since` and after its last
    successful sign-in, oldest first."""
    key = login_attempt.c.username == username
    last_success = select(func.max(login_attempt.c.attempted_at)).where(
        key, login_attempt.c.succeeded.is_(True)).scalar_subquery()
    rows = conn.execute(select(login_attempt.c.attempted_at).where(
        key, login_attempt.c.succeeded.is_(False), login_attempt.c.attempted_at >= since,
        ~and_(last_success.is_not(None), login_attempt.c.attempted_at <= last_success))
        .order_by(login_attempt.c.attempted_at))
    return [_aware(row.attempted_at) for row in rows]


def failures_of_address(conn: Connection, address: str, since: datetime) -> list[datetime]:
    """The times of the failed attempts from an address after `since`, oldest first. A success
    does not wipe them: a guesser with an account of their own could otherwise sign in to it
    between guesses at others'."""
    rows = conn.execute(select(login_attempt.c.attempted_at).where(
        login_attempt.c.address == address, login_attempt.c.succeeded.is_(False),
        login_attempt.c.attempted_at >= since).order_by(login_attempt.c.attempted_at))
    return [_aware(row.attempted_at) for row in rows]


def remove_attempts_before(conn: Connection, before: datetime) -> None:
    conn.execute(delete(login_attempt).where(login_attempt.c.attempted_at < before))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _session(row) -> StoredSession:
    return StoredSession(row.id, row.user_id, row.address, _aware(row.created_at),
                         _aware(row.last_seen_at))
