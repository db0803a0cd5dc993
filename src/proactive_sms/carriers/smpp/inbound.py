"""Replies from people: decoding by data_coding, the concatenation UDH, reassembly. Pure.

A long reply arrives as several deliver_sm, each with a UDH naming (ref, total, seq). Their
deliver_sm_resp are held until the whole text has been handed to the application (so a crash
never loses a part that was acknowledged); the Reassembler keeps the parts and the sequence
numbers to acknowledge, and gives up on a set after a timeout by handing up what it has.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from proactive_sms.domain.encoding import decode_gsm7, decode_ucs2

_IE_CONCAT_8BIT = 0x00
_IE_CONCAT_16BIT = 0x08
MAX_OPEN_SETS = 1024  # a flood of never-completed parts must not grow memory without bound


def decode_text(data_coding: int, payload: bytes) -> str:
    """Decode a reply by its data_coding; never raises, so a reply is never lost to a bad octet.

    0x00 GSM-7 unpacked (the SMSC default alphabet; SMSCs that mean Latin-1 by it send octets
    above 0x7F, which is how they are told apart), 0x01 IA5/ASCII, 0x03 Latin-1, 0x08 UCS-2
    (UTF-16BE), 0xF0-0xFF message-class codings (bit 2: 8-bit data, else GSM-7). Anything else
    is shown as Latin-1 so that someone can still read it.
    """
    if (data_coding & 0xF0) == 0xF0:
        data_coding = 0x04 if data_coding & 0x04 else 0x00
    if data_coding == 0x00:
        try:
            return decode_gsm7(payload)
        except ValueError:
            return payload.decode("latin-1")
    if data_coding == 0x01:
        return payload.decode("ascii", "replace")
    if data_coding == 0x08:
        try:
            return decode_ucs2(payload)
        except ValueError:
            return payload.decode("utf-16-be", "replace")
    return payload.decode("latin-1")


@dataclass(frozen=True, slots=True)
class ConcatInfo:
    ref: int
    total: int
    seq: int


def split_udh(short_message: bytes) -> tuple[ConcatInfo | None, bytes]:
    """Separate the UDH (esm_class 0x40 set) from the text; the concat IE if there is one.

    Raises ValueError when the header length runs past the data.
    """
    if not short_message:
        raise ValueError("UDHI set but short_message is empty")
    header_length = short_message[0]
    if header_length + 1 > len(short_message):
        raise ValueError(f"UDH length {header_length} exceeds the {len(short_message)} octets")
    header, payload = short_message[1 : header_length + 1], short_message[header_length + 1 :]
    concat: ConcatInfo | None = None
    pos = 0
    while pos + 2 <= len(header):
        element, size = header[pos], header[pos + 1]
        data = header[pos + 2 : pos + 2 + size]
        if len(data) < size:
            break
        if element == _IE_CONCAT_8BIT and size == 3:
            concat = ConcatInfo(data[0], data[1], data[2])
        elif element == _IE_CONCAT_16BIT and size == 4:
            concat = ConcatInfo(int.from_bytes(data[:2], "big"), data[2], data[3])
        pos += 2 + size
    if concat is not None and not 1 <= concat.seq <= concat.total:
        concat = None  # a nonsense header: treat the part as a text of its own
    return concat, payload


SetKey = tuple[str, str, int, int]  # sender, recipient, ref, total


@dataclass(slots=True)
class AssembledText:
    """A reassembled reply (or what arrived of it), with the deliver_sm to acknowledge."""

    sender: str
    recipient: str
    data_coding: int
    payload: bytes  # the parts' octets joined in order, decoded only now (a cut pair survives)
    sequence_nums: list[int]
    missing: tuple[int, ...] = ()  # part numbers that never came (set given up after a timeout)


@dataclass(slots=True)
class _OpenSet:
    opened_at: float
    data_coding: int
    parts: dict[int, bytes] = field(default_factory=dict)
    sequence_nums: list[int] = field(default_factory=list)


class Reassembler:
    """Open sets of parts keyed by (sender, recipient, ref, total); O(1) per part."""

    def __init__(self, max_age_s: float, now: Callable[[], float] = time.monotonic) -> None:
        self._max_age_s = max_age_s
        self._now = now
        self._open: dict[SetKey, _OpenSet] = {}

    def __len__(self) -> int:
        return len(self._open)

    def add(
        self,
        sender: str,
        recipient: str,
        data_coding: int,
        concat: ConcatInfo,
        payload: bytes,
        sequence_num: int,
    ) -> list[AssembledText]:
        """Keep one part; returns the text it completes, plus any set pushed out by the bound."""
        key = (sender, recipient, concat.ref, concat.total)
        open_set = self._open.get(key)
        ready: list[AssembledText] = []
        if open_set is None:
            if len(self._open) >= MAX_OPEN_SETS:
                oldest = next(iter(self._open))
                ready.append(self._close(oldest))
            open_set = self._open[key] = _OpenSet(self._now(), data_coding)
        # A part sent again (the SMSC timed out waiting for our held resp) replaces the first
        # copy; both deliver_sm get their resp once the text is handed up.
        open_set.parts[concat.seq] = payload
        open_set.sequence_nums.append(sequence_num)
        if len(open_set.parts) == concat.total:
            ready.append(self._close(key))
        return ready

    def expired(self) -> list[AssembledText]:
        """Sets older than max_age_s, handed up with what arrived (dicts keep insertion order)."""
        limit = self._now() - self._max_age_s
        stale = [key for key, open_set in self._open.items() if open_set.opened_at <= limit]
        return [self._close(key) for key in stale]

    def clear(self) -> None:
        """Forget every open set: their parts were not acknowledged; the SMSC sends them again."""
        self._open.clear()

    def _close(self, key: SetKey) -> AssembledText:
        open_set = self._open.pop(key)
        sender, recipient, _ref, total = key
        present = sorted(open_set.parts)
        return AssembledText(
            sender=sender,
            recipient=recipient,
            data_coding=open_set.data_coding,
            payload=b"".join(open_set.parts[seq] for seq in present),
            sequence_nums=open_set.sequence_nums,
            missing=tuple(seq for seq in range(1, total + 1) if seq not in open_set.parts),
        )
