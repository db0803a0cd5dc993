"""Provider callbacks: received (signature checked, stored, then acknowledged) and processed
(into receipts and inbound texts, by the same store and services as SMPP's).

Receiving runs in the API process (`POST /carrier-callbacks/{connection}/{kind}`); processing
runs in the dispatcher's housekeeping, in its store transaction. A callback may come twice, late,
or before the submit's answer was stored: a duplicate is stored once (its message id, kind and
status are unique); a receipt applies as SMPP receipts do (the first final state wins, a receipt
that overtook its id is held until the id is stored); a status that is not final is recorded
and changes nothing. So a text never moves backwards.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from proactive_sms.carriers.base import DeliveryReceipt
from proactive_sms.carriers.http.providers import shape
from proactive_sms.carriers.http.shape import ProviderAccount
from proactive_sms.domain.clock import Clock
from proactive_sms.domain.phone import mask
from proactive_sms.services.inbound import InboundService, recipient_spellings, sender_e164
from proactive_sms.store import carrier_callbacks, deliveries, dnc, inbound, registrations, tenancy
from proactive_sms.store.errors import NotFound
from proactive_sms.store.registrations import CarrierConnection

log = logging.getLogger(__name__)

KINDS = ("status", "inbound")
MAX_CALLBACK_BYTES = 64 * 1024  # a callback is a form of a few hundred bytes
PROCESS_BATCH = 500


class Received(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # stored already: acknowledged again, not stored twice
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN = "unknown"  # no such HTTP connection, or no such kind


def account_of(connection: CarrierConnection) -> ProviderAccount:
    return ProviderAccount(connection.id, connection.base_url or "", connection.account or "",
                           connection.password, connection.callback_url or "")


def receive(engine: Engine, clock: Clock, connection_id: int, kind: str, query: str,
            body: bytes, headers: Mapping[str, str]) -> Received:
    """Check a callback's signature and store it (before the caller acknowledges it).
    `headers`: lower-case names. The signed URL is the connection's callback URL for `kind`
    (with the query string it came with): the URL the provider was given."""
    if kind not in KINDS:
        return Received.UNKNOWN
    try:
        with engine.connect() as conn:
            connection = registrations.connection_by_id(conn, connection_id)
    except NotFound:
        return Received.UNKNOWN
    if connection.kind != "http" or connection.provider is None:
        return Received.UNKNOWN
    provider = shape(connection.provider)
    account = account_of(connection)
    fields = provider.callback_fields(query, headers, body)
    url = account.callback(kind) + (f"?{query}" if query else "")
    if not provider.verify_callback(account, url, fields, headers, body):
        log.warning("callback to connection %s (%s) refused: bad signature", connection.name,
                    kind)
        return Received.BAD_SIGNATURE
    message_id, event = provider.callback_identity(kind, fields)
    with engine.begin() as conn:
        stored = carrier_callbacks.record(conn, connection_id, kind, message_id, event, fields,
                                          clock.now())
    return Received.STORED if stored else Received.DUPLICATE


@dataclass
class Processed:
    receipts: int = 0
    inbound: int = 0
    opted_out: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)  # callback id -> what was done


def process_pending(conn: Connection, inbound_service: InboundService, now,
                    limit: int = PROCESS_BATCH) -> Processed:
    """Turn stored callbacks into receipts and inbound texts, in the order they came, in the
    caller's transaction (the dispatcher's store batch)."""
    done = Processed()
    pending = carrier_callbacks.unprocessed(conn, limit)
    if not pending:
        return done
    connections: dict[int, CarrierConnection] = {}
    receipts: dict[int, list[DeliveryReceipt]] = {}
    for callback in pending:
        connection = connections.get(callback.connection_id)
        if connection is None:
            connection = connections[callback.connection_id] = registrations.connection_by_id(
                conn, callback.connection_id)
        try:
            read = shape(connection.provider or "").read_callback(callback.kind,
                                                                  callback.payload)
        except (ValueError, TypeError, KeyError) as exc:
            # One that cannot be read (its connection is no longer a provider's, say) is set
            # aside with the reason, not tried at every tick while the others wait behind it.
            log.warning("provider callback %d set aside: %s", callback.id, exc)
            done.outcomes[callback.id] = f"unreadable: {exc}"
            continue
        notes = []
        if read.receipt is not None:
            receipts.setdefault(connection.id, []).append(read.receipt)
            done.receipts += 1
            notes.append(f"receipt {read.receipt.state.value}")
        if read.inbound is not None:
            inbound_service.handle(conn, read.inbound)
            done.inbound += 1
            notes.append("inbound")
        if read.opted_out and _opt_out(conn, read.code, read.opted_out, read.note, now):
            done.opted_out += 1
            notes.append("number onto the DNC list")
        if read.note:
            notes.append(read.note)
        done.outcomes[callback.id] = "; ".join(notes) or "nothing to do"
    for connection_id, batch in receipts.items():
        deliveries.apply_receipts(conn, batch, now, connection_id)
    carrier_callbacks.mark_processed(conn, list(done.outcomes.items()), now)
    return done


def opt_out_at_submit(conn: Connection, registration_id: int, number: str, note: str,
                      now) -> bool:
    """The provider refused a text because its recipient unsubscribed (Twilio 21610): the
    number goes onto the DNC list that applies to the code, so no skill texts it again."""
    reg = registrations.registration_by_id(conn, registration_id)
    return _add(conn, reg, number, note, now)


def _opt_out(conn: Connection, code: str, number: str, note: str, now) -> bool:
    reg = inbound.registration_for(conn, recipient_spellings(code))
    if reg is None:
        log.warning("provider says %s unsubscribed from unknown code %s", mask(number), code)
        return False
    return _add(conn, reg, number, note, now)


def _add(conn: Connection, reg, number: str, note: str, now) -> bool:
    bu = tenancy.business_unit_by_id(conn, reg.business_unit_id)
    list_id = reg.dnc_list_id or dnc.find_list(conn, bu.tenant_id).id
    added = dnc.add_numbers(conn, list_id, [sender_e164(number)], "carrier",
                            f"provider: {note or 'recipient unsubscribed'}", now)
    if added:
        log.info("%s put on the DNC list: the provider says they unsubscribed from %s",
                 mask(number), reg.code)
    return bool(added)
