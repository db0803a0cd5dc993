"""SMPP addresses (TON, NPI, digits) for our transport codes and the people we text.

SMPP 3.4 carries an address as three fields. What carriers expect:
- an E.164 number (long codes, toll-free numbers, every recipient): TON=1 (international),
  NPI=1 (ISDN/E.164), the digits without the leading '+';
- a short code: TON=3 (network specific), NPI=0;
- an alphanumeric sender name: TON=5 (alphanumeric), NPI=0, at most 11 characters.
"""

from __future__ import annotations

from dataclasses import dataclass

from proactive_sms.carriers.base import SourceKind

TON_UNKNOWN = 0
TON_INTERNATIONAL = 1
TON_NETWORK_SPECIFIC = 3
TON_ALPHANUMERIC = 5
NPI_UNKNOWN = 0
NPI_ISDN = 1

_MAX_ALPHANUMERIC = 11  # what a handset displays; longer names are cut or refused by carriers


@dataclass(frozen=True, slots=True)
class SmppAddress:
    ton: int
    npi: int
    address: str  # as written in the PDU: ASCII, at most 20 characters


def e164_address(number: str) -> SmppAddress:
    """'+15551234567' -> TON=1 NPI=1 '15551234567'. Raises ValueError for anything else."""
    digits = number[1:] if number.startswith("+") else number
    if not (digits.isascii() and digits.isdigit() and 1 <= len(digits) <= 15):
        raise ValueError(f"not an E.164 number: {_masked(number)}")
    return SmppAddress(TON_INTERNATIONAL, NPI_ISDN, digits)


def source_address(source: str, kind: SourceKind) -> SmppAddress:
    """The sender fields for one of our transport codes, by the kind of code it is."""
    if kind in (SourceKind.LONG, SourceKind.TOLL_FREE):
        return e164_address(source)
    if kind is SourceKind.SHORT:
        if not (source.isascii() and source.isdigit() and 3 <= len(source) <= 8):
            raise ValueError(f"not a short code: {source!r}")
        return SmppAddress(TON_NETWORK_SPECIFIC, NPI_UNKNOWN, source)
    if kind is SourceKind.ALPHANUMERIC:
        # The address field is an ASCII C-string; a NUL would end it early.
        printable = source.isascii() and source.isprintable()
        if not (printable and 1 <= len(source) <= _MAX_ALPHANUMERIC):
            raise ValueError(f"not an alphanumeric sender (1-11 printable ASCII): {source!r}")
        return SmppAddress(TON_ALPHANUMERIC, NPI_UNKNOWN, source)
    raise ValueError(f"unknown source kind {kind!r}")


def inbound_number(ton: int, address: str) -> str:
    """A number from a deliver_sm as we store numbers: E.164 with '+' when the SMSC says so.

    Other TONs (national, short codes, names) are passed as given: guessing a country code here
    would make a wrong number look authoritative; the inbound service normalizes with context.
    """
    if ton == TON_INTERNATIONAL and address:
        return "+" + address.lstrip("+")
    return address


def _masked(number: str) -> str:
    """Logs and errors never carry a full phone number (see STYLE.md)."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 6) + number[-4:]
