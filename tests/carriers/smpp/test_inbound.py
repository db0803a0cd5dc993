"""Replies: decoding by data_coding, UDH parsing and reassembly of long replies."""

from __future__ import annotations

import pytest

from proactive_sms.carriers.smpp.inbound import (
    MAX_OPEN_SETS,
    ConcatInfo,
    Reassembler,
    decode_text,
    split_udh,
)


@pytest.mark.parametrize(
    ("data_coding", "payload", "expected"),
    [
        (0x00, b"STOP", "STOP"),
        (0x00, b"\x00\x02 \x1b\x65", "@$ €"),  # GSM-7: '@' is 0x00, '$' is 0x02
        (0x00, b"caf\xe9", "café"),  # not septets: an SMSC that means Latin-1 by 0
        (0x01, b"hello", "hello"),
        (0x03, b"caf\xe9", "café"),
        (0x08, "مرحبا 😀".encode("utf-16-be"), "مرحبا 😀"),
        (0x08, b"\x00A\x00", "A\ufffd"),  # odd length: decoded with a replacement, not lost
        (0xF1, b"hi", "hi"),  # message class 1, GSM-7
        (0xF5, b"hi", "hi"),  # message class 1, 8-bit data
        (0x04, b"\x01\x02", "\x01\x02"),
    ],
)
def test_decode_text(data_coding: int, payload: bytes, expected: str) -> None:
    assert decode_text(data_coding, payload) == expected


@pytest.mark.parametrize(
    ("short_message", "concat", "payload"),
    [
        (bytes([5, 0, 3, 9, 2, 1]) + b"abc", ConcatInfo(9, 2, 1), b"abc"),
        (bytes([6, 8, 4, 1, 2, 3, 2]) + b"x", ConcatInfo(0x0102, 3, 2), b"x"),
        # a port-addressing IE first, then concat
        (bytes([11, 5, 4, 0, 1, 0, 2, 0, 3, 7, 2, 2]) + b"y", ConcatInfo(7, 2, 2), b"y"),
        (bytes([3, 0x24, 1, 0]) + b"z", None, b"z"),  # national language shift, no concat
        (bytes([5, 0, 3, 9, 2, 3]) + b"q", None, b"q"),  # seq 3 of 2: nonsense, not concat
    ],
)
def test_split_udh(short_message: bytes, concat: ConcatInfo | None, payload: bytes) -> None:
    assert split_udh(short_message) == (concat, payload)


@pytest.mark.parametrize("short_message", [b"", bytes([9, 0, 3])])
def test_broken_udh_raises(short_message: bytes) -> None:
    with pytest.raises(ValueError):
        split_udh(short_message)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_parts_out_of_order_make_one_text_with_every_resp() -> None:
    reassembler = Reassembler(30.0)
    assert reassembler.add("+1", "12345", 8, ConcatInfo(4, 2, 2), b"\x00B", 11) == []
    (text,) = reassembler.add("+1", "12345", 8, ConcatInfo(4, 2, 1), b"\x00A", 10)
    assert text.payload == b"\x00A\x00B"
    assert text.sequence_nums == [11, 10]
    assert text.missing == ()
    assert len(reassembler) == 0


def test_same_ref_from_two_senders_stays_apart() -> None:
    reassembler = Reassembler(30.0)
    reassembler.add("+1", "1", 0, ConcatInfo(4, 2, 1), b"a", 1)
    reassembler.add("+2", "1", 0, ConcatInfo(4, 2, 1), b"b", 2)
    (text,) = reassembler.add("+2", "1", 0, ConcatInfo(4, 2, 2), b"B", 3)
    assert (text.sender, text.payload) == ("+2", b"bB")


def test_a_part_sent_twice_is_kept_once_and_both_copies_acknowledged() -> None:
    reassembler = Reassembler(30.0)
    reassembler.add("+1", "1", 0, ConcatInfo(4, 2, 1), b"a", 1)
    reassembler.add("+1", "1", 0, ConcatInfo(4, 2, 1), b"a", 5)
    (text,) = reassembler.add("+1", "1", 0, ConcatInfo(4, 2, 2), b"b", 6)
    assert (text.payload, text.sequence_nums) == (b"ab", [1, 5, 6])


def test_stale_set_is_handed_up_with_what_arrived() -> None:
    clock = FakeClock()
    reassembler = Reassembler(30.0, now=clock)
    reassembler.add("+1", "1", 0, ConcatInfo(4, 3, 1), b"a", 1)
    reassembler.add("+1", "1", 0, ConcatInfo(4, 3, 3), b"c", 3)
    clock.now += 29
    assert reassembler.expired() == []
    clock.now += 1
    (text,) = reassembler.expired()
    assert (text.payload, text.missing, text.sequence_nums) == (b"ac", (2,), [1, 3])


def test_open_sets_are_bounded() -> None:
    reassembler = Reassembler(30.0)
    for ref in range(MAX_OPEN_SETS):
        reassembler.add(f"+{ref}", "1", 0, ConcatInfo(1, 2, 1), b"x", ref)
    pushed_out = reassembler.add("+new", "1", 0, ConcatInfo(1, 2, 1), b"y", 99999)
    assert [text.sender for text in pushed_out] == ["+0"]
    assert len(reassembler) == MAX_OPEN_SETS
