"""Console sessions: a signed-in browser holds a random token in its cookie; the store keeps the
token's SHA-256 with the user, the creation time and the last time it was seen.

A session ends when the person logs out (or out everywhere), when it has been idle longer than
the policy's idle time, when it is older than the absolute time, and when the user is disabled
or their password is reset. Signing in always makes a new token (rotation): a token known before
signing in never becomes a signed-in one.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.services import audit
from proactive_sms.services.console_users import ConsoleUser, console_user
from proactive_sms.store import console_sessions, console_users
from proactive_sms.store.console_sessions import StoredSession


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)

    @classmethod
    def from_env(cls) -> SessionPolicy:
        """PSMS_CONSOLE_IDLE_MINUTES and PSMS_CONSOLE_ABSOLUTE_HOURS (decimals allowed), else
        30 minutes and 12 hours."""
        idle = float(os.environ.get("PSMS_CONSOLE_IDLE_MINUTES") or 30)
        absolute = float(os.environ.get("PSMS_CONSOLE_ABSOLUTE_HOURS") or 12)
        if idle <= 0 or absolute <= 0:
            raise ValueError("PSMS_CONSOLE_IDLE_MINUTES and PSMS_CONSOLE_ABSOLUTE_HOURS must be "
                             "positive")
        return cls(timedelta(minutes=idle), timedelta(hours=absolute))

    @property
    def touch_every(self) -> timedelta:
        # Writing last_seen_at at every request would make each page view a write; a tenth of
        # the idle time (at most 30 s) keeps the idle expiry accurate enough.
        return min(self.idle / 10, timedelta(seconds=30))


@dataclass(frozen=True)
class Session:
    token: str  # the cookie's value; only its hash is stored
    user: ConsoleUser
    session: StoredSession


@dataclass(frozen=True)
class Resumed:
    user: ConsoleUser
    session: StoredSession


def token_hash(token: str) -> str:
    # SHA-256 suffices: the token is 256 random bits, not a password to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def start(engine: Engine, clock: Clock, user: ConsoleUser, address: str | None,
          policy: SessionPolicy, previous_token: str | None = None) -> Session:
    """A new session for a user who just proved who they are; a session the browser held before
    ends (the token rotates at sign-in)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with engine.begin() as conn:
        if previous_token:
            found = console_sessions.by_token_hash(conn, token_hash(previous_token))
            if found is not None:
                console_sessions.remove(conn, found.id)
        console_sessions.remove_expired(conn, now - policy.idle, now - policy.absolute)
        stored = console_sessions.add(conn, token_hash(token), user.id, address, now)
        audit.record(conn, user, "login", user.username, "", now=now, address=address)
    return Session(token, user, stored)


def resume(engine: Engine, clock: Clock, token: str | None,
           policy: SessionPolicy) -> Resumed | None:
    """The live session of this token and its user, or None (unknown, expired, or the user is
    disabled). Seeing it counts as activity for the idle expiry."""
    if not token or len(token) > 100:
        return None
    now = clock.now()
    with engine.connect() as conn:
        found = console_sessions.by_token_hash(conn, token_hash(token))
        stored_user = console_users.by_id(conn, found.user_id) if found else None
    if found is None or stored_user is None:
        return None
    expired = (now - found.last_seen_at > policy.idle or now - found.created_at > policy.absolute
               or stored_user.disabled_at is not None)
    if expired:
        with engine.begin() as conn:
            console_sessions.remove(conn, found.id)
        return None
    if now - found.last_seen_at >= policy.touch_every:
        with engine.begin() as conn:
            console_sessions.touch(conn, found.id, now)
    return Resumed(console_user(stored_user), found)


def end(engine: Engine, clock: Clock, token: str, user: ConsoleUser,
        address: str | None = None) -> None:
    """Log out this browser."""
    with engine.begin() as conn:
        found = console_sessions.by_token_hash(conn, token_hash(token))
        if found is not None:
            console_sessions.remove(conn, found.id)
        audit.record(conn, user, "logout", user.username, "", now=clock.now(), address=address)


def end_all(engine: Engine, clock: Clock, user: ConsoleUser, address: str | None = None) -> int:
    """Log the user out everywhere: every session of theirs ends; how many there were."""
    with engine.begin() as conn:
        ended = console_sessions.remove_of_user(conn, user.id)
        audit.record(conn, user, "logout.everywhere", user.username, f"{ended} session(s) ended",
                     now=clock.now(), address=address)
    return ended


def sessions_of(engine: Engine, user: ConsoleUser) -> list[StoredSession]:
    with engine.connect() as conn:
        return console_sessions.of_user(conn, user.id)


def still_live(engine: Engine, clock: Clock, token: str | None, policy: SessionPolicy) -> bool:
    """Whether this token's session is still live, without counting the look as activity: for a
    long-lived event stream, which must end when its session does (logout, expiry, a disabled
    user) but must not keep an unattended page signed in."""
    if not token or len(token) > 100:
        return False
    now = clock.now()
    with engine.connect() as conn:
        found = console_sessions.by_token_hash(conn, token_hash(token))
        stored_user = console_users.by_id(conn, found.user_id) if found else None
    return not (found is None or stored_user is None or stored_user.disabled_at is not None
                or now - found.last_seen_at > policy.idle
                or now - found.created_at > policy.absolute)
