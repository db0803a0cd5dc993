"""Delivery receipts as SMSCs send them: deliver_sm, esm_class 0x04, the de-facto text, TLVs."""

from __future__ import annotations

import re
import time

from . import pdu

# outcome -> (stat word, err field, message_state TLV value, dlvrd count)
RECEIPT_STATES: dict[str, tuple[str, str, int, str]] = {
    "delivered": ("DELIVRD", "000", 2, "001"),
    "expired": ("EXPIRED", "000", 3, "000"),
    "undeliverable": ("UNDELIV", "001", 5, "000"),
}

# Characters that read the same in ASCII and in the GSM 03.38 default alphabet, so a receipt's text
# excerpt decodes identically whichever way the client reads data_coding 0.
_UNSAFE = re.compile(r"[^ !\"#%&'()*+,\-./0-9:;<=>?A-Za-z]")


class ReceiptClock:
    """YYMMDDhhmm strings (UTC), cached per minute because formatting a date per receipt is slow."""

    def __init__(self) -> None:
        self._minute = -1
        self._text = ""

    def stamp(self, epoch_s: float) -> str:
        minute = int(epoch_s // 60)
        if minute != self._minute:
            self._minute = minute
            self._text = time.strftime("%y%m%d%H%M", time.gmtime(minute * 60))
        return self._text


def excerpt(text: str) -> str:
    """The first 20 characters of the text, with any the encodings disagree on replaced by '?'."""
    return _UNSAFE.sub("?", text[:20])


def receipt_text(
    receipt_id: str, outcome: str, submit_date: str, done_date: str, text_excerpt: str
) -> str:
    stat, err, _state, dlvrd = RECEIPT_STATES[outcome]
    return (
        f"id:{receipt_id} sub:001 dlvrd:{dlvrd} submit date:{submit_date} done date:{done_date} "
        f"stat:{stat} err:{err} text:{text_excerpt}"
    )


def receipt_body(
    receipt_id: str,
    outcome: str,
    text: str,
    original: pdu.SubmitSm,
) -> bytes:
    """A deliver_sm body for `original`'s receipt: addresses swapped, both TLVs included."""
    message_state = RECEIPT_STATES[outcome][2]
    tlvs = pdu.tlv(pdu.TLV_RECEIPTED_MESSAGE_ID, receipt_id.encode("ascii") + b"\0") + pdu.tlv(
        pdu.TLV_MESSAGE_STATE, bytes((message_state,))
    )
    return pdu.build_sm_body(
        original.destination_addr,
        original.dest_addr_ton,
        original.dest_addr_npi,
        original.source_addr,
        original.source_addr_ton,
        original.source_addr_npi,
        pdu.ESM_RECEIPT,
        0,
        text.encode("ascii"),
        tlvs=tlvs,
    )
