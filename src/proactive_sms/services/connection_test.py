"""Trying a carrier connection's bind once, on request, to say in words whether it works.

`psms connection test` uses it before a dispatcher ever runs: a wrong password or system_id is
answered "bind refused: wrong password (ESME_RINVPASWD, 0x0000000E)", an unreachable host "connect
or bind failed: ...", in the same words the dispatcher writes to the connection's record. The
carrier is the dispatcher's own (`dispatch.carrier_for`): what binds here binds there. For an
HTTP provider the "bind" is the provider's account check (its credentials taken or not).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from sqlalchemy import Engine

from proactive_sms.domain.clock import Clock
from proactive_sms.services import administration
from proactive_sms.services.dispatch import DispatchOptions, carrier_for
from proactive_sms.store.tenancy import BusinessUnit

_POLL_S = 0.05


@dataclass(frozen=True)
class BindOutcome:
    connection: str
    address: str  # connection_address (never the password)
    bound: bool
    reason: str | None  # why not, as the carrier put it
    took_s: float

    def as_dict(self) -> dict:
        return {"connection": self.connection, "address": self.address, "bound": self.bound,
                "reason": self.reason, "took_s": round(self.took_s, 3)}


async def try_bind(engine: Engine, bu: BusinessUnit, clock: Clock, name: str,
                   timeout_s: float = 10.0) -> BindOutcome:
    """Connect and bind the connection `name` once, then unbind. Not bound within `timeout_s`
    (or refused, or unreachable) gives the first reason the carrier recorded."""
    found = administration.find_connection(engine, bu, name)
    address = connection_address(found)

    async def ignore(*_args) -> None:  # a test bind takes no receipts or inbound texts
        return None

    carrier = carrier_for(found, ignore, ignore, DispatchOptions())
    started = clock.monotonic()
    await carrier.start()
    try:
        # The carrier retries with backoff after a failure: the first reason is the answer.
        while not carrier.bound and carrier.last_error is None:
            if clock.monotonic() - started >= timeout_s:
                break
            await asyncio.sleep(_POLL_S)
        bound = carrier.bound
        reason = None if bound else (carrier.last_error
                                     or f"no bind within {timeout_s:g} s")
    finally:
        with contextlib.suppress(Exception):
            await carrier.stop()
    return BindOutcome(found.name, address, bound, reason, clock.monotonic() - started)


def connection_address(connection) -> str:
    """Where a connection goes, as lists show it: smpp://system_id@host:port, or
    provider://account@base URL (never a password or token)."""
    if connection.kind == "http":
        base = (connection.base_url or "").split("://", 1)[-1]
        return f"{connection.provider}://{connection.account}@{base}"
    return f"smpp://{connection.system_id}@{connection.host}:{connection.port}"
