"""Console users: create, list, disable, reset a password, and sign in (with throttling).

Passwords are hashed with Argon2id (argon2-cffi's defaults, which follow RFC 9106's second
recommended option); the hash carries its parameters, so stronger settings later still verify
old hashes and `needs_rehash` upgrades them at the next sign-in. Usernames are unique across the
installation (see store/schema.py); a user belongs to one business unit and sees only it.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.domain.login_throttle import ACCOUNT_RULE, ADDRESS_RULE, wait_text
from proactive_sms.services import audit
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.store import agents, console_sessions, console_users
from proactive_sms.store.console_users import StoredUser
from proactive_sms.store.tenancy import BusinessUnit

ROLES = ("admin", "supervisor", "agent")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # a longer one is a mistake or an attack on the hasher's time
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so that an unknown name costs the same
    time as a wrong password and the timing does not tell which usernames exist."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class ConsoleUser:
    """A signed-in person, as pages and services see them."""
    id: int
    bu_id: int
    tenant_id: int
    username: str
    role: str  # admin | supervisor | agent
    agent_id: int | None
    agent_name: str | None = None


@dataclass(frozen=True)
class UserView:
    """A user as the users page and `psms user list` show them (never the hash)."""
    id: int
    username: str
    role: str
    agent_name: str | None
    disabled_at: datetime | None
    created_at: datetime
    password_changed_at: datetime
    version: int = 1  # raised by every change (the API's ETag)


class UserRefused(InvalidRequest):
    """A user change refused: `field` names the value and `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class SignInRefused(Exception):
    """A sign-in refused. The message is the one to show; it never says whether the username
    exists."""

    def __init__(self, message: str, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


WRONG_CREDENTIALS = "Wrong username or password."


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_password_policy(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserRefused(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserRefused(field, f"must be at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise UserRefused(field, "must not be only spaces")


def generate_password() -> str:
    """A random password for a new user or a reset: 20 URL-safe characters (~120 bits)."""
    return secrets.token_urlsafe(15)


def console_user(stored: StoredUser) -> ConsoleUser:
    return ConsoleUser(stored.id, stored.business_unit_id, stored.tenant_id, stored.username,
                       stored.role, stored.agent_id, stored.agent_name)


def _view(stored: StoredUser) -> UserView:
    return UserView(stored.id, stored.username, stored.role, stored.agent_name,
                    stored.disabled_at, stored.created_at, stored.password_changed_at,
                    stored.version)


def create(engine: Engine, bu: BusinessUnit, clock: Clock, username: str, role: str,
           password: str, agent: str | None = None, *,
           by: ConsoleUser | None = None, address: str | None = None) -> UserView:
    """A new user of the unit. An agent user names an agent of the same unit; other roles may
    not name one."""
    name = normalize_username(username)
    if not USERNAME.fullmatch(name):
        raise UserRefused("username", "must be 1-64 letters, digits, '.', '_', '@' or '-', "
                                      "starting with a letter or digit")
    if role not in ROLES:
        raise UserRefused("role", f"must be one of {', '.join(ROLES)}; got '{role}'")
    if role == "agent" and not agent:
        raise UserRefused("agent", "an agent user must name their agent")
    if role != "agent" and agent:
        raise UserRefused("agent", "only an agent user is tied to an agent")
    check_password_policy(password)
    password_hash = _hasher.hash(password)
    now = clock.now()
    with engine.begin() as conn:
        agent_id = None
        if agent:
            try:
                agent_id = agents.find(conn, bu.id, agent).id
            except LookupError:
                raise UserRefused("agent", f"no agent '{agent}' in this business unit") from None
        if console_users.by_username(conn, name) is not None:
            raise UserRefused("username", f"'{name}' is taken")
        stored = console_users.add(conn, bu.id, name, password_hash, role, agent_id, now)
        audit.record(conn, by, "user.created", name, f"role {role}"
                     + (f", agent {agent}" if agent else ""), bu=bu, now=now, address=address)
        return _view(stored)


def list_users(engine: Engine, bu: BusinessUnit) -> list[UserView]:
    with engine.connect() as conn:
        return [_view(stored) for stored in console_users.of_business_unit(conn, bu.id)]


def get_user(engine: Engine, bu: BusinessUnit, username: str) -> UserView:
    with engine.connect() as conn:
        return _view(console_users.find(conn, bu.id, normalize_username(username)))


def set_disabled(engine: Engine, bu: BusinessUnit, clock: Clock, username: str,
                 disabled: bool = True, *, by: ConsoleUser | None = None,
                 address: str | None = None) -> UserView:
    """Disable a user (their sessions end at once) or enable them again."""
    now = clock.now()
    with engine.begin() as conn:
        stored = console_users.find(conn, bu.id, normalize_username(username))
        if by is not None and by.id == stored.id and disabled:
            raise UserRefused("username", "you cannot disable yourself")
        console_users.set_disabled(conn, stored.id, now if disabled else None)
        ended = console_sessions.remove_of_user(conn, stored.id) if disabled else 0
        audit.record(conn, by, "user.disabled" if disabled else "user.enabled", stored.username,
                     f"{ended} session(s) ended" if disabled else "", bu=bu, now=now,
                     address=address)
        return _view(console_users.by_id(conn, stored.id))


def reset_password(engine: Engine, bu: BusinessUnit, clock: Clock, username: str,
                   password: str, *, by: ConsoleUser | None = None,
                   address: str | None = None) -> UserView:
    """Set a new password; the user's sessions end (whoever knew the old one is out)."""
    check_password_policy(password)
    password_hash = _hasher.hash(password)
    now = clock.now()
    with engine.begin() as conn:
        stored = console_users.find(conn, bu.id, normalize_username(username))
        console_users.set_password_hash(conn, stored.id, password_hash, now)
        console_sessions.remove_of_user(conn, stored.id)
        audit.record(conn, by, "user.password_reset", stored.username, "", bu=bu, now=now,
                     address=address)
        return _view(console_users.by_id(conn, stored.id))


def change_own_password(engine: Engine, clock: Clock, user: ConsoleUser, current: str,
                        new: str, address: str, keep_token_hash: str | None = None) -> int:
    """A signed-in user sets a new password, proving the current one (checked and throttled
    like a sign-in, so a borrowed session cannot guess it). Their other sessions end; the one
    of `keep_token_hash` stays. How many ended."""
    check_password_policy(new, "new_password")
    if new == current:
        raise UserRefused("new_password", "must differ from the current password")
    try:
        authenticate(engine, clock, user.username, current, address)
    except SignInRefused as refused:
        reason = str(refused) if refused.locked else "is not your password"
        raise UserRefused("current_password", reason) from None
    password_hash = _hasher.hash(new)
    now = clock.now()
    with engine.begin() as conn:
        console_users.set_password_hash(conn, user.id, password_hash, now)
        ended = console_sessions.remove_of_user(conn, user.id, keep_token_hash)
        audit.record(conn, user, "user.password_changed", user.username,
                     f"{ended} other session(s) ended", now=now, address=address)
    return ended


def any_user(engine: Engine) -> bool:
    with engine.connect() as conn:
        return console_users.count(conn) > 0


def authenticate(engine: Engine, clock: Clock, username: str, password: str,
                 address: str) -> ConsoleUser:
    """The user whose password this is, or SignInRefused with the message to show.

    Refused without checking the password while the username or the address is locked (see
    domain/login_throttle.py). Every checked attempt is recorded for throttling; a failure of
    a known user is audited in their unit."""
    name = normalize_username(username)[:64]
    now = clock.now()
    _check_not_locked(engine, name, address, now)
    with engine.connect() as conn:
        stored = console_users.by_username(conn, name)
    ok = _verify(stored.password_hash if stored else _dummy_hash(), password)
    ok = ok and stored is not None and stored.disabled_at is None
    with engine.begin() as conn:
        console_sessions.add_attempt(conn, name, address, ok, now)
        console_sessions.remove_attempts_before(conn, now - timedelta(days=1))
        if stored is not None and not ok:
            audit.record(conn, None, "login.failed", stored.username,
                         "disabled user" if stored.disabled_at else "wrong password",
                         bu_id=stored.business_unit_id, now=now, address=address,
                         username=stored.username)
        if ok and _hasher.check_needs_rehash(stored.password_hash):
            console_users.set_password_hash(conn, stored.id, _hasher.hash(password),
                                            stored.password_changed_at)
    if not ok:
        _check_not_locked(engine, name, address, now)  # this failure may be the one that locks
        raise SignInRefused(WRONG_CREDENTIALS)
    return console_user(stored)


def _verify(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_not_locked(engine: Engine, username: str, address: str, now: datetime) -> None:
    with engine.connect() as conn:
        by_name = console_sessions.failures_of_username(conn, username,
                                                        now - ACCOUNT_RULE.window)
        by_address = console_sessions.failures_of_address(conn, address,
                                                          now - ADDRESS_RULE.window)
    until = max(filter(None, (ACCOUNT_RULE.locked_until(by_name, now),
                              ADDRESS_RULE.locked_until(by_address, now))), default=None)
    if until is not None:
        raise SignInRefused("Too many failed sign-ins. Try again in "
                            f"{wait_text(until, now)}.", locked=True)


# --- changing and removing a user ---------------------------------------------------------------

USER_FIELDS = ("role", "agent", "disabled")


def change_user(engine: Engine, bu: BusinessUnit, clock: Clock, username: str, changes: dict,
                expected_version: int | None = None, *, by: ConsoleUser | None = None,
                actor: str | None = None) -> UserView:
    """Change a user's role, agent or disabled mark, checked as at creation (an agent user
    names an agent of the unit; other roles name none). Disabling ends their sessions, and so
    does a new role (a session must not keep the rights of the old one). The password has its
    own action (reset_password) and is never part of a change."""
    from proactive_sms.store import versions
    from proactive_sms.store.schema import console_user as user_table

    unknown = sorted(set(changes) - set(USER_FIELDS))
    if unknown:
        raise UserRefused(unknown[0], f"cannot be changed (the fields that can: "
                                      f"{', '.join(USER_FIELDS)})")
    now = clock.now()
    with engine.begin() as conn:
        stored = console_users.find(conn, bu.id, normalize_username(username))
        role = changes.get("role", stored.role)
        agent_name = changes.get("agent", stored.agent_name)
        if role != "agent" and "agent" not in changes:
            agent_name = None  # leaving the agent role lets the agent go
        if role not in ROLES:
            raise UserRefused("role", f"must be one of {', '.join(ROLES)}; got '{role}'")
        if role == "agent" and not agent_name:
            raise UserRefused("agent", "an agent user must name their agent")
        if role != "agent" and agent_name:
            raise UserRefused("agent", "only an agent user is tied to an agent")
        if by is not None and by.id == stored.id and (changes.get("disabled")
                                                      or role != stored.role):
            raise UserRefused("username", "you cannot disable yourself or change your role")
        agent_id = None
        if agent_name:
            try:
                agent_id = agents.find(conn, bu.id, agent_name).id
            except LookupError:
                raise UserRefused("agent", f"no agent '{agent_name}' in this business unit"
                                  ) from None
        values: dict = {"role": role, "agent_id": agent_id}
        if "disabled" in changes:
            disabled = bool(changes["disabled"])
            values["disabled_at"] = (stored.disabled_at or now) if disabled else None
        versions.change(conn, user_table, stored.id, expected_version, "console user",
                        stored.username, **values)
        if values.get("disabled_at") or role != stored.role:
            console_sessions.remove_of_user(conn, stored.id)
        audit.record(conn, by, "user.changed", stored.username, dict(changes), bu=bu, now=now,
                     username=actor)
        return _view(console_users.by_id(conn, stored.id))


def remove_user(engine: Engine, bu: BusinessUnit, clock: Clock, username: str,
                expected_version: int | None = None, *, by: ConsoleUser | None = None,
                actor: str | None = None) -> None:
    """Delete a user: their sessions end, and their entries in the audit log keep the username
    they were written with (the log copies it) but no longer point at the row."""
    from sqlalchemy import update

    from proactive_sms.store import versions
    from proactive_sms.store.schema import audit_log
    from proactive_sms.store.schema import console_user as user_table

    now = clock.now()
    with engine.begin() as conn:
        stored = console_users.find(conn, bu.id, normalize_username(username))
        if by is not None and by.id == stored.id:
            raise UserRefused("username", "you cannot remove yourself")
        console_sessions.remove_of_user(conn, stored.id)
        conn.execute(update(audit_log).where(audit_log.c.user_id == stored.id)
                     .values(user_id=None))
        versions.remove(conn, user_table, stored.id, expected_version, kind="console user",
                        key=stored.username)
        audit.record(conn, by, "user.removed", stored.username, f"role {stored.role}", bu=bu,
                     now=now, username=actor)
