"""Transport codes and recipients -> SMPP (TON, NPI, address), and inbound numbers back."""

from __future__ import annotations

import pytest

from proactive_sms.carriers.base import SourceKind
from proactive_sms.carriers.smpp.addressing import (
    SmppAddress,
    e164_address,
    inbound_number,
    source_address,
)


@pytest.mark.parametrize(
    ("source", "kind", "expected"),
    [
        ("+15551234567", SourceKind.LONG, SmppAddress(1, 1, "15551234567")),
        ("+18005550100", SourceKind.TOLL_FREE, SmppAddress(1, 1, "18005550100")),
        ("12345", SourceKind.SHORT, SmppAddress(3, 0, "12345")),
        ("ACME Bank", SourceKind.ALPHANUMERIC, SmppAddress(5, 0, "ACME Bank")),
    ],
)
def test_source_addresses(source: str, kind: SourceKind, expected: SmppAddress) -> None:
    assert source_address(source, kind) == expected


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("+1555abc", SourceKind.LONG),
        ("", SourceKind.LONG),
        ("+1234567890123456", SourceKind.LONG),  # 16 digits: longer than E.164 allows
        ("12-34", SourceKind.SHORT),
        ("ACME Bank Ltd", SourceKind.ALPHANUMERIC),  # 13 characters
        ("Café", SourceKind.ALPHANUMERIC),  # not ASCII
        ("A\x00B", SourceKind.ALPHANUMERIC),  # a NUL would end the C-string
    ],
)
def test_bad_sources_are_refused(source: str, kind: SourceKind) -> None:
    with pytest.raises(ValueError):
        source_address(source, kind)


def test_destination_is_international_without_plus() -> None:
    assert e164_address("+447700900123") == SmppAddress(1, 1, "447700900123")


def test_refusal_message_masks_the_number() -> None:
    with pytest.raises(ValueError) as error:
        e164_address("+1555123456x")
    assert "555123" not in str(error.value)


@pytest.mark.parametrize(
    ("ton", "address", "expected"),
    [
        (1, "15551234567", "+15551234567"),
        (1, "+15551234567", "+15551234567"),
        (0, "5551234567", "5551234567"),  # national: no country code guessed
        (3, "12345", "12345"),
        (5, "ACME", "ACME"),
        (1, "", ""),
    ],
)
def test_inbound_numbers(ton: int, address: str, expected: str) -> None:
    assert inbound_number(ton, address) == expected
