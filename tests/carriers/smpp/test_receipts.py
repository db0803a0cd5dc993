"""Receipt deliver_sm (text and TLVs) -> DeliveryReceipt, as a table of what SMSCs really send."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from proactive_sms.carriers.base import ReceiptState
from proactive_sms.carriers.smpp.pdus import (
    TAG_MESSAGE_STATE,
    TAG_NETWORK_ERROR_CODE,
    TAG_RECEIPTED_MESSAGE_ID,
)
from proactive_sms.carriers.smpp.receipts import (
    parse_done_date,
    parse_error_code,
    parse_receipt,
    receipt_fields,
)

STANDARD = (
    "id:1234567890 sub:001 dlvrd:001 submit date:2611251830 done date:2611251831 "
    "stat:DELIVRD err:000 text:Hello there"
)

CASES = [
    # (what it shows, text, tlvs, id, state, err, done_at)
    (
        "the de-facto text",
        STANDARD,
        {},
        "1234567890",
        ReceiptState.DELIVERED,
        0,
        datetime(2026, 11, 25, 18, 31, tzinfo=UTC),
    ),
    (
        "upper-case keys, seconds in dates; the id's case is kept (ids are case-sensitive)",
        "ID:ab12 SUB:001 DLVRD:000 SUBMIT DATE:261125183001 DONE DATE:261125183105 "
        "STAT:UNDELIV ERR:001 TEXT:x",
        {},
        "ab12",
        ReceiptState.UNDELIVERABLE,
        1,
        datetime(2026, 11, 25, 18, 31, 5, tzinfo=UTC),
    ),
    (
        "leading zeros are part of the id as given (the store folds them only as a fallback)",
        "id:00000A1F stat:DELIVRD err:000",
        {},
        "00000A1F",
        ReceiptState.DELIVERED,
        0,
        None,
    ),
    (
        "receipted_message_id TLV wins over the text (and its NUL is dropped)",
        "id:999 stat:DELIVRD err:000",
        {TAG_RECEIPTED_MESSAGE_ID: b"0042\x00"},
        "0042",
        ReceiptState.DELIVERED,
        0,
        None,
    ),
    (
        "message_state TLV wins over stat:",
        "id:7 stat:DELIVRD err:000",
        {TAG_MESSAGE_STATE: bytes([3])},
        "7",
        ReceiptState.EXPIRED,
        0,
        None,
    ),
    (
        "id only in the TLV, no text at all",
        "",
        {TAG_RECEIPTED_MESSAGE_ID: b"f00d\x00", TAG_MESSAGE_STATE: bytes([2])},
        "f00d",
        ReceiptState.DELIVERED,
        None,
        None,
    ),
    (
        "hex err",
        "id:1 stat:REJECTD err:0A",
        {},
        "1",
        ReceiptState.REJECTED,
        10,
        None,
    ),
    (
        "err missing: network_error_code TLV gives it",
        "id:1 stat:UNDELIV",
        {TAG_NETWORK_ERROR_CODE: bytes([3, 0x00, 0x22])},
        "1",
        ReceiptState.UNDELIVERABLE,
        0x22,
        None,
    ),
    (
        "the quoted text contains receipt-like words: they are not fields",
        "id:55 stat:ENROUTE err:000 text:stat:DELIVRD id:66",
        {},
        "55",
        ReceiptState.ENROUTE,
        0,
        None,
    ),
    (
        "long state words and lower-case values",
        "id:9 stat:delivered err:0",
        {},
        "9",
        ReceiptState.DELIVERED,
        0,
        None,
    ),
    ("ACCEPTD is not final", "id:9 stat:ACCEPTD", {}, "9", ReceiptState.ACCEPTED, None, None),
    ("an unknown stat word", "id:9 stat:WHATEVER", {}, "9", ReceiptState.UNKNOWN, None, None),
    ("no id anywhere: still a receipt", "stat:DELIVRD", {}, "", ReceiptState.DELIVERED, None, None),
    (
        "an id of only zeros stays as given",
        "id:0000 stat:DELIVRD",
        {},
        "0000",
        ReceiptState.DELIVERED,
        None,
        None,
    ),
    (
        "a bad done date is dropped, not fatal",
        "id:5 done date:2613991299 stat:EXPIRED",
        {},
        "5",
        ReceiptState.EXPIRED,
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("text", "tlvs", "receipt_id", "state", "error_code", "done_at"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_receipt_is_parsed(text, tlvs, receipt_id, state, error_code, done_at) -> None:
    receipt = parse_receipt(text, tlvs)
    assert receipt.carrier_message_id == receipt_id
    assert receipt.state is state
    assert receipt.error_code == error_code
    assert receipt.done_at == done_at
    assert receipt.raw == text


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (1, ReceiptState.ENROUTE),
        (2, ReceiptState.DELIVERED),
        (3, ReceiptState.EXPIRED),
        (4, ReceiptState.DELETED),
        (5, ReceiptState.UNDELIVERABLE),
        (6, ReceiptState.ACCEPTED),
        (7, ReceiptState.UNKNOWN),
        (8, ReceiptState.REJECTED),
        (99, ReceiptState.UNKNOWN),
    ],
)
def test_message_state_values(state: int, expected: ReceiptState) -> None:
    assert parse_receipt("", {TAG_MESSAGE_STATE: bytes([state])}).state is expected


def test_fields_keep_the_first_of_a_repeated_key_and_the_whole_text() -> None:
    fields = receipt_fields(STANDARD)
    assert fields["submit date"] == "2611251830"
    assert fields["text"] == "Hello there"
    assert receipt_fields("id:1 id:2")["id"] == "1"


@pytest.mark.parametrize(
    ("value", "expected"), [("000", 0), ("001", 1), ("0A", 10), ("", None), ("n/a", None)]
)
def test_error_codes(value: str, expected: int | None) -> None:
    assert parse_error_code(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2601051500", datetime(2026, 1, 5, 15, 0, tzinfo=UTC)),
        ("260105150007", datetime(2026, 1, 5, 15, 0, 7, tzinfo=UTC)),
        ("26010515", None),
        ("abcdefghij", None),
    ],
)
def test_done_dates(value: str, expected: datetime | None) -> None:
    assert parse_done_date(value) == expected
