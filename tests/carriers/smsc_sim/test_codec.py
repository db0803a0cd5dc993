"""The simulator's own codecs: GSM-7, PDU bodies, UDH, receipts text."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proactive_sms.carriers import smsc_sim
from proactive_sms.carriers.smsc_sim import gsm7, pdu, receipts
from proactive_sms.carriers.smsc_sim.config import SimulatorConfig
from proactive_sms.carriers.smsc_sim.receipts import ReceiptClock

GSM_CHARS = st.sampled_from(sorted(set(gsm7.BASIC) - {"\x1b"} | set(gsm7.EXTENSION.values())))


@given(st.text(GSM_CHARS, max_size=300))
def test_gsm7_round_trips_every_alphabet_text(text: str) -> None:
    assert gsm7.decode(gsm7.encode(text)) == text


@given(st.text(GSM_CHARS, max_size=400), st.integers(min_value=2, max_value=160))
def test_gsm7_split_never_separates_an_escape_from_its_character(text: str, size: int) -> None:
    parts = gsm7.split_septets(gsm7.encode(text), size)
    assert all(len(part) <= size for part in parts)
    assert "".join(gsm7.decode(part) for part in parts) == text


@pytest.mark.parametrize(
    ("septets", "text"),
    [
        (b"\x00\x01\x02\x1b\x65", "@£$€"),
        (b"\x1b\x41", "A"),  # unknown escape reads as the basic character
        (b"ab\x1b", "ab "),  # dangling escape
        (b"\x80", "?"),  # not a septet
    ],
)
def test_gsm7_decode_edge_cases(septets: bytes, text: str) -> None:
    assert gsm7.decode(septets) == text


def test_gsm7_encode_names_the_missing_character() -> None:
    with pytest.raises(ValueError, match="'ع'"):
        gsm7.encode("aع")


@given(
    source=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
    destination=st.text(st.characters(min_codepoint=48, max_codepoint=57), max_size=20),
    esm_class=st.integers(0, 255),
    data_coding=st.integers(0, 255),
    registered=st.integers(0, 255),
    short_message=st.binary(max_size=400),
)
def test_sm_body_round_trips(
    source: str,
    destination: str,
    esm_class: int,
    data_coding: int,
    registered: int,
    short_message: bytes,
) -> None:
    body = pdu.build_sm_body(
        source, 5, 0, destination, 1, 1, esm_class, data_coding, short_message, registered
    )
    sm = pdu.parse_submit_sm(body)
    assert (sm.source_addr, sm.source_addr_ton, sm.source_addr_npi) == (source, 5, 0)
    assert (sm.destination_addr, sm.dest_addr_ton, sm.dest_addr_npi) == (destination, 1, 1)
    assert (sm.esm_class, sm.data_coding, sm.registered_delivery) == (
        esm_class,
        data_coding,
        registered,
    )
    assert sm.short_message == short_message  # > 254 octets travel as message_payload


@given(st.binary(max_size=300))
def test_parse_submit_sm_never_raises_anything_but_pdu_error(body: bytes) -> None:
    with contextlib.suppress(pdu.PduError):
        pdu.parse_submit_sm(body)


@pytest.mark.parametrize(
    ("tlvs", "expected"),
    [
        ({pdu.TLV_SAR_MSG_REF_NUM: b"\x01\x02", pdu.TLV_SAR_TOTAL_SEGMENTS: b"\x03",
          pdu.TLV_SAR_SEGMENT_SEQNUM: b"\x02"}, (0x0102, 3, 2)),
        ({}, None),
    ],
)  # fmt: skip
def test_sar_tlvs_stand_in_for_a_udh(tlvs: dict[int, bytes], expected: object) -> None:
    assert pdu.concat_info(0, b"text", tlvs) == (expected, b"text")


@pytest.mark.parametrize(
    ("text", "excerpt"),
    [
        ("Hello, world! How are you today?", "Hello, world! How ar"),
        ("Prix: 5€ @home_", "Prix: 5? ?home?"),  # characters ASCII and GSM-7 disagree on
        ("مرحبا", "?????"),
    ],
)
def test_receipt_excerpt_is_20_characters_safe_in_both_readings(text: str, excerpt: str) -> None:
    assert receipts.excerpt(text) == excerpt


def test_receipt_dates_are_utc_minutes() -> None:
    clock = ReceiptClock()
    assert clock.stamp(1_767_225_599.9) == "2512312359"  # 2025-12-31 23:59:59 UTC
    assert clock.stamp(1_767_225_600.0) == "2601010000"


def test_default_config_is_valid_and_masks_passwords() -> None:
    config = SimulatorConfig()
    assert config.to_dict()["credentials"] == {"psms": "***"}
    assert config.receipt_delay_s == 0.05


def test_the_shipped_example_config_loads() -> None:
    path = Path(smsc_sim.__file__).parent / "example_config.json"
    config = SimulatorConfig.from_json_file(path)
    assert config.throttle_above_per_s == 100
    assert config.receipt_outcome_by_destination == {r"\+1555000.*": "undeliverable"}
