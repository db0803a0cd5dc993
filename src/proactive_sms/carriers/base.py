"""The seam between the services and the SMS network.

Every carrier adapter (SMPP, HTTP providers) speaks in these types, so the dispatcher, the receipt
matcher and the inbound handler never see a PDU or a provider's JSON.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class SourceKind(enum.StrEnum):
    """What kind of sender address a text leaves from (decides TON/NPI on SMPP)."""

    LONG = "long"  # a 10-digit number, sent as international E.164
    SHORT = "short"  # a 5-6 digit short code
    TOLL_FREE = "toll_free"  # an E.164 toll-free number
    ALPHANUMERIC = "alphanumeric"  # a name; outside North America only


@dataclass(frozen=True, slots=True)
class OutboundText:
    """One text to hand to the carrier: already rendered, encoded and split by the domain."""

    message_id: int  # our message id, echoed back in the result
    source: str  # the transport code (E.164 for long/toll-free, digits for short codes)
    source_kind: SourceKind
    destination: str  # E.164, with the leading +
    body: str  # the rendered text, exactly as the recipient should read it
    encoding: str  # "gsm7" or "ucs2" (domain.encoding.Encoding values)
    parts: tuple[str, ...]  # the body split into segments; one element for a single SMS
    validity_until: datetime | None = None  # UTC; the carrier must not deliver after it


class SubmitStatus(enum.StrEnum):
    """What happened to one submit, as the dispatcher needs to decide the next step."""

    ACCEPTED = "accepted"  # every part accepted; carrier_message_ids holds one id per part
    THROTTLED = "throttled"  # 0x58 on the first part: nothing left; pause the code, retry at head
    QUEUE_FULL = "queue_full"  # 0x14 on the first part: nothing left; retry with backoff
    TEMPORARY = "temporary"  # another retryable error before anything was accepted
    PERMANENT = "permanent"  # the carrier refused it for good (e.g. 0x0B invalid destination)
    NOT_SENT = "not_sent"  # no PDU left this process (not bound, connection down): safe to retry
    UNCERTAIN = "uncertain"  # a PDU left but no answer came (timeout, connection lost)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The answer to OutboundText, with enough to decide retry, failure or success."""

    message_id: int
    status: SubmitStatus
    carrier_message_ids: tuple[str, ...] = ()  # as the carrier gave them, one per part
    error_code: int | None = None  # the SMPP command_status (or provider code) when not accepted
    detail: str = ""  # a short human explanation for logs and the message record
    # HTTP providers: how long the provider asked us to wait (Retry-After) before the next
    # submit; the lane pauses that long (besides cutting its rate)
    retry_after_s: float | None = None
    # The provider says the recipient unsubscribed (Twilio 21610): onto the applicable DNC list
    recipient_opted_out: bool = False
    # The refusal is the link's, not the text's (credentials refused): the link is down
    link_error: bool = False

    @property
    def retryable(self) -> bool:
        return self.status in (
            SubmitStatus.THROTTLED,
            SubmitStatus.QUEUE_FULL,
            SubmitStatus.TEMPORARY,
            SubmitStatus.NOT_SENT,
        )


class ReceiptState(enum.StrEnum):
    """Final (or intermediate) delivery states reported by the network."""

    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"
    EXPIRED = "expired"
    REJECTED = "rejected"
    DELETED = "deleted"
    ENROUTE = "enroute"  # not final
    ACCEPTED = "accepted"  # not final
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """A delivery receipt; the carrier id as the carrier gave it (see clean_message_id).

    recipient, submitted_at and text_prefix are what a receipt says of its text besides the id:
    they let a receipt settle a text whose submit answer (and so whose id) never came.
    """

    carrier_message_id: str
    state: ReceiptState
    error_code: int | None = None
    done_at: datetime | None = None
    raw: str = ""  # the receipt text as received, for the record
    recipient: str = ""  # the handset the text went to (the receipt's source address), E.164
    submitted_at: datetime | None = None  # the receipt's "submit date" (minutes, read as UTC)
    text_prefix: str = ""  # the receipt's "text:" field: the text's first characters (~20)


@dataclass(frozen=True, slots=True)
class InboundText:
    """A text a person sent to one of our transport codes."""

    sender: str  # E.164 when the carrier gives a number
    recipient: str  # the transport code it was sent to
    text: str
    carrier_message_id: str = ""
    received_at: datetime | None = None


ReceiptHandler = Callable[[DeliveryReceipt], Awaitable[None]]


class ReceiptSink(Protocol):
    """A receipt handler that can also take receipts without a task each (receipts come at the
    submit rate): `add_soon` queues one and calls `done(error)` on the event loop once it is
    stored (error None) or could not be (the error). An SMPP carrier given one uses add_soon;
    any carrier may still await it as a ReceiptHandler."""

    async def __call__(self, receipt: DeliveryReceipt) -> None: ...
    def add_soon(self, receipt: DeliveryReceipt,
                 done: Callable[[BaseException | None], None]) -> None: ...


InboundHandler = Callable[[InboundText], Awaitable[None]]


def clean_message_id(raw: str | bytes | int) -> str:
    """A carrier message id as the carrier gave it, less the padding around it (spaces, NULs).

    SMPP ids are opaque, case-sensitive strings: "abc" and "ABC", "012" and "12" may be two
    messages. This spelling is the one stored and matched first.
    """
    if isinstance(raw, int):
        return str(raw)
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    return text.strip().strip("\x00").strip()


def normalize_message_id(raw: str | bytes | int) -> str:
    """The folded reading of a carrier message id: upper case, no leading zeros.

    Only a fallback for matching: two ids that differ only in case or zero padding fold to one
    (see receipt_id_candidates); the id itself is stored as clean_message_id gives it.
    """
    text = clean_message_id(raw).upper()
    stripped = text.lstrip("0")
    return stripped or ("0" if text else "")


def receipt_id_candidates(raw: str | bytes | int) -> tuple[str, ...]:
    """The folded ids a receipt's id may stand for, most literal first.

    Some SMSCs answer submit_sm with a hex id and give the same id in decimal in the receipt (or
    the reverse), or change its case or zero padding. Which one a given SMSC does is not knowable
    from one id ("123" is valid in both), so the receipt matcher tries each folded reading
    against the folded ids it stored, once the id as given matched nothing.
    """
    exact = normalize_message_id(raw)
    if not exact:
        return ()
    candidates = [exact]
    if exact.isdigit():
        candidates.append(format(int(exact), "X"))  # a decimal receipt id for a hex submit id
    with contextlib.suppress(ValueError):  # not hex at all: only the literal spelling
        candidates.append(str(int(exact, 16)))  # a hex receipt id for a decimal submit id
    return tuple(dict.fromkeys(candidates))


@dataclass(slots=True)
class CarrierStats:
    """Counters a carrier connection keeps for status pages and metrics."""

    submitted_pdus: int = 0
    accepted_pdus: int = 0
    errors_by_code: dict[int, int] = field(default_factory=dict)
    reconnects: int = 0
