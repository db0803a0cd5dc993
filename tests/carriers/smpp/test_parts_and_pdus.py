"""Outgoing text -> exact submit_sm octets; incoming deliver_sm octets -> fields."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta, timezone

import pytest

from proactive_sms.carriers.smpp.addressing import SmppAddress
from proactive_sms.carriers.smpp.parts import (
    ConcatRefs,
    EncodedPart,
    concat_udh,
    encode_parts,
)
from proactive_sms.carriers.smpp.pdus import (
    PreEncodedSubmitSm,
    absolute_validity,
    parse_deliver_sm,
    submit_sm_body,
)
from proactive_sms.domain.encoding import Encoding, split_parts


def test_single_part_has_no_udh() -> None:
    assert encode_parts(["Hi {there}"], "gsm7", ref=9) == [
        EncodedPart(0x00, 0x00, b"Hi \x1b\x28there\x1b\x29")
    ]


def test_gsm7_parts_carry_udh_and_unpacked_septets() -> None:
    parts = encode_parts(["ab", "c€"], "gsm7", ref=200)
    assert parts == [
        EncodedPart(0x40, 0x00, bytes([5, 0, 3, 200, 2, 1]) + b"ab"),
        EncodedPart(0x40, 0x00, bytes([5, 0, 3, 200, 2, 2]) + b"c\x1b\x65"),
    ]


def test_ucs2_parts_are_utf16be_with_surrogate_pairs() -> None:
    parts = encode_parts(["مر", "حبا😀"], "ucs2", ref=1)
    assert [p.data_coding for p in parts] == [0x08, 0x08]
    assert parts[0].short_message == concat_udh(1, 2, 1) + "مر".encode("utf-16-be")
    assert parts[1].short_message[6:] == "حبا😀".encode("utf-16-be")
    assert parts[1].short_message[-4:] == bytes.fromhex("D83DDE00")


def test_domain_split_round_trips_through_the_parts() -> None:
    body = "Bonjour " * 60  # 480 septets: 4 parts of at most 153
    split = split_parts(body, Encoding.GSM7)
    parts = encode_parts(split, "gsm7", ref=3)
    assert [p.short_message[3:6] for p in parts] == [bytes([3, 4, n]) for n in range(1, 5)]
    assert b"".join(p.short_message[6:] for p in parts).decode("ascii") == body
    assert all(len(p.short_message) <= 159 for p in parts)


@pytest.mark.parametrize(
    ("parts", "encoding", "message"),
    [
        (["naïve ✓"], "gsm7", "GSM 03.38"),
        (["x"], "latin1", "unknown encoding"),
        ([], "gsm7", "at least one part"),
        (["x" * 255], "gsm7", "more than short_message holds"),
        (["x"] * 256, "gsm7", "cannot be concatenated"),
    ],
)
def test_unsendable_parts_are_refused(parts: list[str], encoding: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_parts(parts, encoding, ref=1)


def test_refs_rotate_through_1_to_255() -> None:
    refs = ConcatRefs(start=254)
    assert [refs.next() for _ in range(4)] == [254, 255, 1, 2]


NEW_YORK_WINTER = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        (None, ""),
        (datetime(2026, 11, 25, 18, 30, 5, 999_000, tzinfo=UTC), "261125183005000+"),
        # an aware time elsewhere is converted, never written with its own offset
        (datetime(2026, 11, 25, 13, 30, 5, tzinfo=NEW_YORK_WINTER), "261125183005000+"),
        (datetime(2026, 1, 2, 3, 4, 5), "260102030405000+"),  # naive: UTC by contract
    ],
)
def test_validity_is_absolute_utc(until: datetime | None, expected: str) -> None:
    assert absolute_validity(until) == expected


def test_submit_sm_octets() -> None:
    body = submit_sm_body(
        SmppAddress(1, 1, "15550001111"),
        SmppAddress(1, 1, "15552223333"),
        EncodedPart(0x40, 0x08, b"\x05\x00\x03\x07\x02\x01\x00A"),
        "261125183005000+",
    )
    expected = (
        b"\x00"  # service_type ""
        + b"\x01\x0115550001111\x00"  # source TON 1, NPI 1
        + b"\x01\x0115552223333\x00"  # destination TON 1, NPI 1
        + b"\x40\x00\x00"  # esm_class UDHI, protocol_id, priority_flag
        + b"\x00"  # schedule_delivery_time: now
        + b"261125183005000+\x00"
        + b"\x01\x00"  # registered_delivery 1, replace_if_present 0
        + b"\x08\x00\x08"  # data_coding, sm_default_msg_id, sm_length
        + b"\x05\x00\x03\x07\x02\x01\x00A"
    )
    assert body == expected


def test_pre_encoded_submit_sm_gets_its_header_at_send_time() -> None:
    message = PreEncodedSubmitSm(b"BODY", call=None)
    message.sequence_num = 0x01020304
    assert message.pdu() == struct.pack("!IIII", 20, 0x04, 0, 0x01020304) + b"BODY"


def _deliver_sm(body: bytes, sequence: int = 7) -> bytes:
    return struct.pack("!IIII", 16 + len(body), 0x05, 0, sequence) + body


def _sm_body(esm_class: int, data_coding: int, short_message: bytes, tlvs: bytes = b"") -> bytes:
    return (
        b"\x00"
        + b"\x01\x01447700900123\x00"
        + b"\x03\x0012345\x00"
        + bytes([esm_class, 0, 0])
        + b"\x00\x00"
        + b"\x00\x00"
        + bytes([data_coding, 0, len(short_message)])
        + short_message
        + tlvs
    )


def test_deliver_sm_fields_and_tlvs() -> None:
    tlvs = struct.pack("!HH", 0x001E, 4) + b"abc\x00" + struct.pack("!HHB", 0x0427, 1, 2)
    fields = parse_deliver_sm(_deliver_sm(_sm_body(0x04, 0, b"id:abc", tlvs), sequence=42))
    assert fields.sequence_num == 42
    assert fields.source == SmppAddress(1, 1, "447700900123")
    assert fields.destination == SmppAddress(3, 0, "12345")
    assert fields.is_receipt and not fields.has_udh
    assert fields.short_message == b"id:abc"
    assert fields.tlvs == {0x001E: b"abc\x00", 0x0427: b"\x02"}


def test_message_payload_stands_in_for_an_empty_short_message() -> None:
    tlv = struct.pack("!HH", 0x0424, 5) + b"hello"
    fields = parse_deliver_sm(_deliver_sm(_sm_body(0x00, 0, b"", tlv)))
    assert fields.short_message == b"hello"
    assert not fields.is_receipt


@pytest.mark.parametrize(
    "pdu",
    [
        b"\x00" * 10,
        _deliver_sm(_sm_body(0, 0, b"hi"))[:-1],  # declared length longer than the octets
        struct.pack("!IIII", 17, 0x04, 0, 1) + b"\x00",  # a submit_sm, not a deliver_sm
        _deliver_sm(b"\x00\x01\x01" + b"1" * 80),  # an address that never ends
        _deliver_sm(_sm_body(0, 0, b"hi") + b"\x00\x1e\x00\x09ab"),  # TLV shorter than it says
    ],
)
def test_malformed_deliver_sm_raises_value_error(pdu: bytes) -> None:
    with pytest.raises(ValueError):
        parse_deliver_sm(pdu)
