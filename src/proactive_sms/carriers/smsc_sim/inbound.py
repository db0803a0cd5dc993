"""Mobile-originated texts as the network would hand them to us: one deliver_sm per part."""

from __future__ import annotations

from . import gsm7, pdu

GSM7_SINGLE, GSM7_PART = 160, 153  # septets
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units


def address(value: str) -> tuple[str, int, int]:
    """(addr, ton, npi) as an SMSC spells a party: E.164 digits without '+' (TON 1, NPI 1),
    short codes of up to 6 digits (TON 3), other digits as unknown TON, names alphanumeric (TON 5).
    """
    if value.startswith("+") and value[1:].isdigit():
        return value[1:], 1, 1
    if value.isdigit():
        return (value, 3, 0) if len(value) <= 6 else (value, 0, 1)
    return value, 5, 0


def inbound_bodies(
    sender: str, recipient: str, text: str, data_coding: int | None, ref: int
) -> list[bytes]:
    """deliver_sm bodies for `text`: GSM-7 when it fits the alphabet (or data_coding=0 is forced),
    else UCS-2; longer texts as concatenated parts with an 8-bit reference UDH."""
    if data_coding is None:
        data_coding = 0 if gsm7.can_encode(text) else 8
    if data_coding == 0:
        encoded = gsm7.encode(text)
        parts = [encoded] if len(encoded) <= GSM7_SINGLE else gsm7.split_septets(encoded, GSM7_PART)
    elif data_coding == 8:
        encoded = text.encode("utf-16-be")
        parts = (
            [encoded] if len(encoded) <= 2 * UCS2_SINGLE else _split_ucs2(encoded, 2 * UCS2_PART)
        )
    else:
        raise ValueError(f"data_coding {data_coding}: only 0 (GSM-7) and 8 (UCS-2) can be injected")
    source, source_ton, source_npi = address(sender)
    dest, dest_ton, dest_npi = address(recipient)
    if len(parts) == 1:
        return [
            pdu.build_sm_body(
                source, source_ton, source_npi, dest, dest_ton, dest_npi, 0, data_coding, parts[0]
            )
        ]
    if len(parts) > 255:
        raise ValueError("text too long: more than 255 parts")
    return [
        pdu.build_sm_body(
            source,
            source_ton,
            source_npi,
            dest,
            dest_ton,
            dest_npi,
            pdu.ESM_UDHI,
            data_coding,
            bytes((5, 0, 3, ref & 0xFF, len(parts), seq)) + part,
        )
        for seq, part in enumerate(parts, start=1)
    ]


def _split_ucs2(encoded: bytes, part_octets: int) -> list[bytes]:
    # Never end a part on a high surrogate: the pair would be split across two messages.
    parts: list[bytes] = []
    start = 0
    while start < len(encoded):
        end = min(start + part_octets, len(encoded))
        if end < len(encoded) and 0xD8 <= encoded[end - 2] <= 0xDB:
            end -= 2
        parts.append(encoded[start:end])
        start = end
    return parts
