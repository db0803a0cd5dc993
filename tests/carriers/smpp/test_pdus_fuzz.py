"""Property: whatever octets arrive as a deliver_sm, our decoder gives a DeliverSmFields or our own
error (ValueError, which deliveries answers with 0x65); never another exception."""

from __future__ import annotations

import contextlib
import struct

from hypothesis import example, given
from hypothesis import strategies as st

from proactive_sms.carriers.smpp.inbound import split_udh
from proactive_sms.carriers.smpp.pdus import DeliverSmFields, parse_deliver_sm
from proactive_sms.carriers.smsc_sim import pdu as sim_pdu

_WELL_FORMED_HEAD = sim_pdu.build_sm_body("15551234567", 1, 1, "12345", 3, 0, 0x04, 0, b"")[:-1]


def _framed(body: bytes, command_id: int = 0x05, extra_length: int = 0) -> bytes:
    return struct.pack("!IIII", 16 + len(body) + extra_length, command_id, 0, 7) + body


@given(st.binary(max_size=400))
@example(b"")
@example(b"\x00" * 15)
@example(_framed(b"", extra_length=4))
def test_arbitrary_octets_decode_or_raise_value_error(octets: bytes) -> None:
    try:
        fields = parse_deliver_sm(octets)
    except ValueError:
        return
    assert isinstance(fields, DeliverSmFields)


@given(st.binary(max_size=300), st.integers(0, 0xFFFFFFFF), st.sampled_from([0, -3, 5]))
def test_wrong_command_ids_and_lengths_are_refused(body: bytes, command_id: int, skew: int) -> None:
    octets = _framed(body, command_id, skew)
    try:
        fields = parse_deliver_sm(octets)
    except ValueError:
        return
    assert command_id == 0x05 and skew == 0
    assert fields.sequence_num == 7


@given(st.integers(0, 255), st.binary(max_size=254), st.binary(max_size=120))
def test_well_formed_heads_with_any_message_and_tlvs(
    esm_class: int, short_message: bytes, tlvs: bytes
) -> None:
    body = _WELL_FORMED_HEAD[:-9] + bytes((esm_class,)) + _WELL_FORMED_HEAD[-8:]
    body += bytes((len(short_message),)) + short_message + tlvs
    try:
        fields = parse_deliver_sm(_framed(body))
    except ValueError:
        return
    assert fields.esm_class == esm_class
    if fields.has_udh:
        with contextlib.suppress(ValueError):
            split_udh(fields.short_message)
