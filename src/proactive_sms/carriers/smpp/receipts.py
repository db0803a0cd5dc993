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

import functools
from collections.abc import Mapping
from datetime import UTC, datetime

from proactive_sms.carriers.base import DeliveryReceipt, ReceiptState, clean_message_id
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

_NAMES = frozenset({"id", "sub", "dlvrd", "submit date", "done date", "stat", "err"})


def receipt_fields(text: str) -> dict[str, str]:
    """The key:value pairs of a receipt text, keys lower-cased ('submit date', 'done date').

    One pass over space-separated tokens (receipts arrive at the submit rate, so no regex).
    Keys are case-insensitive, the first of a repeated key wins, unknown keys are skipped, a
    value may follow its key after a space ("id: 123"), and "text:" takes the rest of the text,
    since the quoted original may itself contain "id:" or "stat:".
    """
    fields: dict[str, str] = {}
    offset = 0
    previous = ""
    waiting: str | None = None  # a key whose value is the next token
    for token in text.split(" "):
        colon = token.find(":")
        if colon < 0:
            if waiting is not None and token:
                fields.setdefault(waiting, token)
                waiting = None
            previous = token.lower()
        else:
            key = token[:colon].lower()
            if key == "text":
                fields["text"] = text[offset + colon + 1 :]
                break
            if key == "date" and previous in ("submit", "done"):
                key = previous + " date"
            elif key in ("submit_date", "done_date"):
                key = key.replace("_", " ")
            waiting = None
            if key in _NAMES:
                value = token[colon + 1 :]
                if value:
                    fields.setdefault(key, value)
                else:
                    waiting = key
            previous = ""
        offset += len(token) + 1
    return fields


def parse_error_code(value: str) -> int | None:
    """'000' -> 0, '0A' -> 10 (some SMSCs write err in hex); anything else -> None."""
    value = value.strip()
    if not value:
        return None
    if _ascii_digits(value):
        return int(value)
    try:
        return int(value, 16)
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)  # receipts of one minute share their dates
def parse_done_date(value: str) -> datetime | None:
    """'YYMMDDhhmm' or 'YYMMDDhhmmss' -> datetime, read as UTC (receipts carry no zone)."""
    value = value.strip()
    if len(value) not in (10, 12) or not _ascii_digits(value):
        return None
    try:
        return datetime(
            2000 + int(value[0:2]),
            int(value[2:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[8:10]),
            int(value[10:12] or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def _ascii_digits(value: str) -> bool:
    """0-9 only: str.isdigit() also takes superscripts (latin-1 0xB2, 0xB3, 0xB9), which int()
    refuses."""
    return value.isascii() and value.isdigit()


def _state_from_text(stat: str) -> ReceiptState:
    word = stat.strip().upper()
    if _ascii_digits(word):
        return _MESSAGE_STATES.get(int(word), ReceiptState.UNKNOWN)
    return _STAT_WORDS.get(word, ReceiptState.UNKNOWN)


def _tlv_cstring(value: bytes) -> str:
    return value.split(b"\x00", 1)[0].decode("latin-1").strip()


def parse_receipt(
    text: str, tlvs: Mapping[int, bytes] | None = None, recipient: str = ""
) -> DeliveryReceipt:
    """Build the DeliveryReceipt of one receipt deliver_sm from its text and its TLVs.

    `recipient` is the deliver_sm's source address (the handset the text went to). The id is kept
    as the carrier spelled it: SMPP ids are case-sensitive strings.
    """
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
    submitted_at = parse_done_date(fields["submit date"]) if "submit date" in fields else None
    return DeliveryReceipt(
        carrier_message_id=clean_message_id(raw_id),
        state=state,
        error_code=error_code,
        done_at=done_at,
        raw=text,
        recipient=recipient,
        submitted_at=submitted_at,
        text_prefix=fields.get("text", "")[:_TEXT_PREFIX_CHARS],
    )


_TEXT_PREFIX_CHARS = 20  # what appendix B quotes of the text; more is the SMSC's extra
