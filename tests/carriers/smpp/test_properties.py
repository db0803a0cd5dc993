"""Whatever an SMSC sends, the parsers answer or raise ValueError: never another exception, which
would end the session (and, with the deliver_sm unacknowledged, end it again on every redelivery).
"""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from proactive_sms.carriers.smpp.inbound import decode_text, split_udh
from proactive_sms.carriers.smpp.parts import encode_parts
from proactive_sms.carriers.smpp.pdus import parse_deliver_sm
from proactive_sms.carriers.smpp.receipts import parse_receipt
from proactive_sms.domain.encoding import Encoding, analyze, split_parts


@given(st.text(), st.dictionaries(st.sampled_from([0x001E, 0x0427, 0x0423]), st.binary()))
def test_any_receipt_text_and_tlvs_parse(text: str, tlvs: dict[int, bytes]) -> None:
    receipt = parse_receipt(text, tlvs)
    assert receipt.raw == text


@given(st.integers(0, 255), st.binary())
def test_any_payload_decodes(data_coding: int, payload: bytes) -> None:
    assert isinstance(decode_text(data_coding, payload), str)


@given(st.binary(max_size=300))
def test_any_udh_splits_or_raises_value_error(short_message: bytes) -> None:
    try:
        concat, payload = split_udh(short_message)
    except ValueError:
        return
    assert concat is None or 1 <= concat.seq <= concat.total
    assert short_message.endswith(payload)


@given(st.binary(max_size=400), st.integers(0, 2**31 - 1))
def test_any_deliver_sm_body_parses_or_raises_value_error(body: bytes, sequence: int) -> None:
    pdu = struct.pack("!IIII", 16 + len(body), 0x05, 0, sequence) + body
    try:
        fields = parse_deliver_sm(pdu)
    except ValueError:
        return
    assert fields.sequence_num == sequence


GSM_HEAVY = st.text(alphabet="aZ0 @£$_{}[]~|^€\\\n\f", min_size=1, max_size=1200)


@given(st.one_of(GSM_HEAVY, st.text(min_size=1, max_size=1200)))
def test_domain_parts_always_encode_within_short_message(body: str) -> None:
    report = analyze(body)
    parts = split_parts(body, report.encoding)
    try:
        encoded = encode_parts(parts, report.encoding.value, ref=42)
    except ValueError:
        # Only a lone surrogate (no handset could show it) may be refused.
        assert report.encoding is Encoding.UCS2
        return
    # unpacked GSM-7: one octet per septet (160, or 6 + 153); UCS-2: 140 octets
    limit = 160 if report.encoding is Encoding.GSM7 else 140
    assert all(len(p.short_message) <= limit for p in encoded)
    if len(parts) > 1:
        assert [p.short_message[:6] for p in encoded] == [
            bytes([5, 0, 3, 42, len(parts), n]) for n in range(1, len(parts) + 1)
        ]
