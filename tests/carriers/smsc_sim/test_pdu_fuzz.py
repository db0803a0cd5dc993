"""Property: whatever octets an ESME sends, the simulator's decoder gives a decoded PDU or its own
PduError; never another exception, which would end the connection inside data_received."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from proactive_sms.carriers.smsc_sim import pdu, receipts
from proactive_sms.carriers.smsc_sim.records import decode_text


@given(st.binary(max_size=300))
@example(b"psms")
@example(b"psms\0secret\0")
def test_bind_bodies_decode_or_raise_pdu_error(body: bytes) -> None:
    try:
        bind = pdu.parse_bind(body)
    except pdu.PduError as exc:
        assert exc.status == pdu.ESME_RINVMSGLEN
        return
    assert isinstance(bind.system_id, str) and 0 <= bind.interface_version <= 255


_HEAD = pdu.build_sm_body("12345", 3, 0, "15551234567", 1, 1, 0, 0, b"")[:-1]


@given(st.one_of(st.binary(max_size=400), st.binary(max_size=300).map(lambda tail: _HEAD + tail)))
@example(_HEAD + b"\x05hi")
@example(_HEAD + b"\x00\x04\x24\xff\xff")
def test_submit_sm_bodies_decode_or_raise_pdu_error(body: bytes) -> None:
    try:
        sm = pdu.parse_submit_sm(body)
    except pdu.PduError:
        return
    # What the session does next with a decoded submit_sm must not raise either.
    udh, payload = pdu.concat_info(sm.esm_class, sm.short_message, sm.tlvs)
    assert udh is None or len(udh) == 3
    text = decode_text(sm.data_coding, payload)
    excerpt = receipts.excerpt(text)
    receipt = receipts.receipt_text("1", "delivered", "2601010000", "2601010000", excerpt)
    receipts.receipt_body("1", "delivered", receipt, sm)


@given(st.binary(max_size=200), st.integers(0, 10))
def test_tlvs_decode_or_raise_pdu_error(body: bytes, pos: int) -> None:
    try:
        tlvs = pdu.parse_tlvs(body, pos)
    except pdu.PduError:
        return
    assert all(0 <= tag <= 0xFFFF for tag in tlvs)


@given(st.integers(0, 255), st.binary(max_size=300))
def test_any_payload_decodes_to_text(data_coding: int, payload: bytes) -> None:
    assert isinstance(decode_text(data_coding, payload), str)
