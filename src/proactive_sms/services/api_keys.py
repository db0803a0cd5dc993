"""API keys: create (the secret is shown once), list, revoke, and authenticate a request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.services.administration import checked_name
from proactive_sms.store import api_keys, tenancy
from proactive_sms.store.tenancy import BusinessUnit

# The prefix makes a leaked key easy to recognise (secret scanners, logs).
SECRET_PREFIX = "psms_"


@dataclass(frozen=True)
class CreatedKey:
    key: api_keys.ApiKey
    secret: str  # shown once; only its hash is stored


def hash_secret(secret: str) -> str:
    # A plain SHA-256 suffices: the secret is 256 random bits, not a password to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def create(engine: Engine, bu: BusinessUnit, clock: Clock, name: str) -> CreatedKey:
    """Make a key for the BU and return its secret (it cannot be read back later)."""
    checked_name("API key", name)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        key = api_keys.add_key(conn, bu.id, name, hash_secret(secret), clock.now())
    return CreatedKey(key, secret)


def list_keys(engine: Engine, bu: BusinessUnit) -> list[api_keys.ApiKey]:
    with engine.connect() as conn:
        return api_keys.list_keys(conn, bu.id)


def revoke(engine: Engine, bu: BusinessUnit, clock: Clock, name: str) -> api_keys.ApiKey:
    """Revoke a key at once: its next request is refused."""
    with engine.begin() as conn:
        key = api_keys.find_key(conn, bu.id, name)
        api_keys.revoke_key(conn, key.id, clock.now())
        return api_keys.find_key(conn, bu.id, name)


def authenticate(engine: Engine, secret: str) -> BusinessUnit | None:
    """The business unit of an active key with this secret, or None."""
    with engine.connect() as conn:
        key = api_keys.active_key_by_hash(conn, hash_secret(secret))
        return tenancy.business_unit_by_id(conn, key.business_unit_id) if key else None


def get_key(engine: Engine, bu: BusinessUnit, name: str) -> api_keys.ApiKey:
    """One key of the unit by name (never its secret: only the hash is kept)."""
    with engine.connect() as conn:
        return api_keys.find_key(conn, bu.id, name)


def rename(engine: Engine, bu: BusinessUnit, clock: Clock, name: str, new_name: str,
           expected_version: int | None = None, *, actor: str | None = None) -> api_keys.ApiKey:
    """Give a key another name (the name rule of a new key; unique in the unit). The name is
    all there is to change: a key's secret cannot be changed, only replaced by a new key."""
    from proactive_sms.services import audit
    from proactive_sms.store import versions
    from proactive_sms.store.errors import AlreadyExists
    from proactive_sms.store.schema import api_key

    checked_name("API key", new_name)
    with engine.begin() as conn:
        key = api_keys.find_key(conn, bu.id, name)
        if new_name != key.name:
            try:
                api_keys.find_key(conn, bu.id, new_name)
            except LookupError:
                pass
            else:
                raise AlreadyExists("api key", new_name)
        versions.change(conn, api_key, key.id, expected_version, "api key", key.name,
                        name=new_name)
        audit.record(conn, None, "api_key.renamed", key.name, {"name": new_name}, bu=bu,
                     now=clock.now(), username=actor)
        return api_keys.find_key(conn, bu.id, new_name)


def remove(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
           expected_version: int | None = None, *, actor: str | None = None) -> api_keys.ApiKey:
    """Remove a key: it is revoked at once (its next request is refused) and kept, revoked, so
    the audit log's entries about it still name a key that existed and its name is not reused
    by mistake for a key with other holders. Removing a revoked key changes nothing."""
    from proactive_sms.services import audit
    from proactive_sms.store import versions
    from proactive_sms.store.schema import api_key

    with engine.begin() as conn:
        key = api_keys.find_key(conn, bu.id, name)
        if key.revoked_at is None:
            versions.change(conn, api_key, key.id, expected_version, "api key", key.name,
                            revoked_at=clock.now())
            audit.record(conn, None, "api_key.revoked", key.name, "", bu=bu, now=clock.now(),
                         username=actor)
        elif expected_version is not None and expected_version != key.version:
            from proactive_sms.store.errors import StaleVersion
            raise StaleVersion("api key", key.name, expected_version, key.version)
        return api_keys.find_key(conn, bu.id, name)
