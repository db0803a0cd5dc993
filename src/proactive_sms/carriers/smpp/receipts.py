"""Delivery receipts: a deliver_sm's TLVs and text -> DeliveryReceipt. Pure, no I/O.

The de-facto receipt text (SMPP 3.4 appendix B) is
    id:<id> sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000
    text:<first 20 characters>
and SMSCs vary it: upper-case keys, seconds in the dates, hex or zero-padded ids, a hex err,
fields missing, the id only in the receipted_message_id TLV. TLVs win over the text when both are
present (they are typed, the text is free-form). Matching the id to a message (hex vs decimal,
duplicates, receipts before the submit_sm_resp) is the store's business, not this module's: every
receipt is passed up, even one whose id is empty, so that nothing is silently dropped here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from proactive_sms.carriers.base import DeliveryReceipt, ReceiptState, normalize_message_id
from proactive_sms.carriers.smpp.pdus import (
    TAG_MESSAGE_STATE,
    TAG_NETWORK_ERROR_CODE,
    TAG_RECEIPTED_MESSAGE_ID,
)

# message_state TLV values (SMPP 3.4 section 5.2.28)
_MESSAGE_STATES: dict[int, ReceiptState] = {
    1: ReceiptState.ENROUTE,
    2: ReceiptState.DELIVERED,
    3: ReceiptState.EXPIRED,
    4: ReceiptState.DELETED,
    5: ReceiptState.UNDELIVERABLE,
    6: ReceiptState.ACCEPTED,
    7: ReceiptState.UNKNOWN,
    8: ReceiptState.REJECTED,
}

# "stat:" spellings seen in the wild: the 7-letter SMPP forms and the long words some SMSCs use.
_STAT_WORDS: dict[str, ReceiptState] = {
    "DELIVRD": ReceiptState.DELIVERED,
    "DELIVERED": ReceiptState.DELIVERED,
    "UNDELIV": ReceiptState.UNDELIVERABLE,
    "UNDELIVERABLE": ReceiptState.UNDELIVERABLE,
    "UNDELIVERED": ReceiptState.UNDELIVERABLE,
    "FAILED": ReceiptState.UNDELIVERABLE,
    "EXPIRED": ReceiptState.EXPIRED,
    "DELETED": ReceiptState.DELETED,
    "REJECTD": ReceiptState.REJECTED,
    "REJECTED": ReceiptState.REJECTED,
    "ENROUTE": ReceiptState.ENROUTE,
    "ACCEPTD": ReceiptState.ACCEPTED,
    "ACCEPTED": ReceiptState.ACCEPTED,
    "UNKNOWN": ReceiptState.UNKNOWN,
}

# A key must not be the tail of a longer word ("xid:"); "text:" ends the structured part, since
# the quoted original text may itself contain "id:" or "stat:".
_FIELD = re.compile(
    r"(?<![A-Za-z0-9_])(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text)\s*:", re.I
)


def receipt_fields(text: str) -> dict[str, str]:
    """The key:value pairs of a receipt text, keys lower-cased ('submit date', 'done date')."""
    fields: dict[str, str] = {}
    matches = list(_FIELD.finditer(text))
    for index, match in enumerate(matches):
        key = match.group(1).lower().replace("_", " ")
        if key == "text":
            fields.setdefault("text", text[match.end() :])
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields.setdefault(key, text[match.end() : end].strip())
    return fields


def parse_error_code(value: str) -> int | None:
    """'000' -> 0, '0A' -> 10 (some SMSCs write err in hex); anything else -> None."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        return int(value, 16)
    except ValueError:
        return None


def parse_done_date(value: str) -> datetime | None:
    """'YYMMDDhhmm' or 'YYMMDDhhmmss' -> datetime, read as UTC (receipts carry no zone)."""
    value = value.strip()
    for pattern, size in (("%y%m%d%H%M%S", 12), ("%y%m%d%H%M", 10)):
        if len(value) == size and value.isdigit():
            try:
                return datetime.strptime(value, pattern).replace(tzinfo=UTC)
            except ValueError:
                return None
    return None


def _state_from_text(stat: str) -> ReceiptState:
    word = stat.strip().upper()
    if word.isdigit():
        return _MESSAGE_STATES.get(int(word), ReceiptState.UNKNOWN)
    return _STAT_WORDS.get(word, ReceiptState.UNKNOWN)


def _tlv_cstring(value: bytes) -> str:
    return value.split(b"\x00", 1)[0].decode("latin-1").strip()


def parse_receipt(text: str, tlvs: Mapping[int, bytes] | None = None) -> DeliveryReceipt:
    """Build the DeliveryReceipt of one receipt deliver_sm from its text and its TLVs."""
    tlvs = tlvs or {}
    fields = receipt_fields(text)

    raw_id = _tlv_cstring(tlvs.get(TAG_RECEIPTED_MESSAGE_ID, b""))
    if not raw_id:
        raw_id = fields.get("id", "")

    state = ReceiptState.UNKNOWN
    state_tlv = tlvs.get(TAG_MESSAGE_STATE, b"")
    if state_tlv:
        state = _MESSAGE_STATES.get(int.from_bytes(state_tlv, "big"), ReceiptState.UNKNOWN)
    elif "stat" in fields:
        state = _state_from_text(fields["stat"])

    error_code = parse_error_code(fields["err"]) if "err" in fields else None
    network_error = tlvs.get(TAG_NETWORK_ERROR_CODE, b"")
    if error_code is None and len(network_error) == 3:
        # network_error_code: 1 octet network type, then the 2-octet code
        error_code = int.from_bytes(network_error[1:], "big")

    done_at = parse_done_date(fields["done date"]) if "done date" in fields else None
    return DeliveryReceipt(
        carrier_message_id=normalize_message_id(raw_id),
        state=state,
        error_code=error_code,
        done_at=done_at,
        raw=text,
    )
