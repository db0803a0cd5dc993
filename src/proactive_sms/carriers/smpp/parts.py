"""The short_message octets of every part of one text, with the concatenation UDH when needed.

The domain has already split the text (never inside an escape pair or a surrogate pair), so here
each part is only encoded and, for a long text, prefixed by the 8-bit-reference concatenation
header `05 00 03 ref total seq` with the UDHI bit (0x40) set in esm_class. aiosmpplib's own
splitting and its SAR path are never used: the SAR path raises UnboundLocalError and kills
ESME.start() (see shared SMPP.md), and re-splitting could cut where the domain would not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from proactive_sms.domain.encoding import encode_gsm7, encode_ucs2

DATA_CODING_GSM7 = 0x00  # SMSC default alphabet, unpacked: one octet per septet
DATA_CODING_LATIN1 = 0x03
DATA_CODING_UCS2 = 0x08  # UTF-16BE
ESM_CLASS_DEFAULT = 0x00
ESM_CLASS_UDHI = 0x40  # short_message starts with a user data header
MAX_SHORT_MESSAGE_OCTETS = 254  # the sm_length field of SMPP 3.4
MAX_PARTS = 255  # the total count is one octet in the UDH

_ENCODERS = {"gsm7": (DATA_CODING_GSM7, encode_gsm7), "ucs2": (DATA_CODING_UCS2, encode_ucs2)}


@dataclass(frozen=True, slots=True)
class EncodedPart:
    esm_class: int
    data_coding: int
    short_message: bytes  # UDH (if any) followed by the encoded text


def concat_udh(ref: int, total: int, seq: int) -> bytes:
    """The 6-octet UDH of part seq (1-based) of total, all parts sharing ref (1..255)."""
    return bytes((0x05, 0x00, 0x03, ref, total, seq))


def encode_parts(parts: Sequence[str], encoding: str, ref: int) -> list[EncodedPart]:
    """Encode the domain's parts; one part goes without UDH, several share the reference ref.

    Raises ValueError when the encoding is unknown, a part has characters the encoding lacks, or
    a part does not fit short_message: the domain split it wrong, and sending it would fail at
    the SMSC or, worse, reach the handset garbled.
    """
    try:
        data_coding, encoder = _ENCODERS[encoding]
    except KeyError:
        raise ValueError(f"unknown encoding {encoding!r} (expected gsm7 or ucs2)") from None
    if not parts:
        raise ValueError("a text needs at least one part")
    total = len(parts)
    if total > MAX_PARTS:
        raise ValueError(f"{total} parts cannot be concatenated (at most {MAX_PARTS})")
    if not 1 <= ref <= 255:
        raise ValueError(f"concatenation reference {ref} is outside 1..255")
    encoded: list[EncodedPart] = []
    for seq, part in enumerate(parts, start=1):
        payload = encoder(part)
        if total == 1:
            short_message, esm_class = payload, ESM_CLASS_DEFAULT
        else:
            short_message, esm_class = concat_udh(ref, total, seq) + payload, ESM_CLASS_UDHI
        if len(short_message) > MAX_SHORT_MESSAGE_OCTETS:
            raise ValueError(
                f"part {seq}/{total} takes {len(short_message)} octets, "
                f"more than short_message holds ({MAX_SHORT_MESSAGE_OCTETS})"
            )
        encoded.append(EncodedPart(esm_class, data_coding, short_message))
    return encoded


class ConcatRefs:
    """Rotating concatenation references 1..255, one per long text.

    Handsets reassemble by (sender, ref), so two long texts to the same person in flight at once
    must not share a ref; rotating through 255 values makes a clash need 255 long texts from one
    code to one person within the handset's reassembly time.
    """

    def __init__(self, start: int = 1) -> None:
        self._next = (start - 1) % 255 + 1

    def next(self) -> int:
        ref = self._next
        self._next = ref % 255 + 1
        return ref
