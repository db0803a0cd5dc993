"""The two PDUs whose bytes we own: the submit_sm we send and the deliver_sm we receive.

aiosmpplib frames, binds, keeps the link alive and answers enquire_link; but its SubmitSm encodes,
splits and correlates text by itself, and its DeliverSm parser raises on receipts it does not
expect (a 12-digit date, a hex err, an unknown TON), which would drop the session in a loop.
So we hand aiosmpplib a submit_sm whose body is built here, and read deliver_sm bytes here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiosmpplib.protocol import PDU_HEADER_LENGTH, SmppMessage
from aiosmpplib.state import SmppCommand, SmppCommandStatus

from proactive_sms.carriers.smpp.addressing import SmppAddress
from proactive_sms.carriers.smpp.parts import EncodedPart

REGISTERED_DELIVERY_RECEIPT = 0x01  # a receipt on final success and on failure

# TLV tags read from deliver_sm
TAG_RECEIPTED_MESSAGE_ID = 0x001E
TAG_NETWORK_ERROR_CODE = 0x0423
TAG_MESSAGE_STATE = 0x0427
TAG_MESSAGE_PAYLOAD = 0x0424

_NUL = b"\x00"
_HEADER = struct.Struct("!IIII")
_TLV_HEADER = struct.Struct("!HH")


def absolute_validity(until: datetime | None) -> str:
    """SMPP absolute time 'YYMMDDhhmmss000+' in UTC, or '' (the SMSC's default) for None.

    Absolute rather than relative: the deadline stays exact however long the text waited in our
    queue or the SMSC's, and the UTC form (offset 00, '+') needs no time-zone arithmetic on either
    side. Naive datetimes are taken as UTC (OutboundText.validity_until is UTC by contract).
    """
    if until is None:
        return ""
    if until.tzinfo is not None:
        until = until.astimezone(UTC)
    # tenths digit 0, offset 00 quarter-hours, '+': the SMSC reads it as UTC
    return until.strftime("%y%m%d%H%M%S") + "000+"


def _address(address: SmppAddress) -> bytes:
    return struct.pack("!BB", address.ton, address.npi) + address.address.encode("ascii") + _NUL


def submit_sm_body(
    source: SmppAddress,
    destination: SmppAddress,
    part: EncodedPart,
    validity_period: str = "",
    service_type: str = "",
) -> bytes:
    """The mandatory body of one submit_sm (SMPP 3.4 section 4.4.1), no TLVs."""
    return b"".join(
        (
            service_type.encode("ascii") + _NUL,
            _address(source),
            _address(destination),
            struct.pack("!BBB", part.esm_class, 0, 0),  # esm_class, protocol_id, priority_flag
            _NUL,  # schedule_delivery_time: immediately
            validity_period.encode("ascii") + _NUL,
            struct.pack("!BB", REGISTERED_DELIVERY_RECEIPT, 0),  # replace_if_present_flag 0
            struct.pack("!BBB", part.data_coding, 0, len(part.short_message)),
            part.short_message,
        )
    )


class PreEncodedSubmitSm(SmppMessage):
    """A submit_sm whose body is already built; aiosmpplib only numbers and writes it.

    Deliberately not a subclass of aiosmpplib's SubmitSm: that class would be re-encoded, split
    by the sender loop, fed to the throttle handler and to the segment correlator. This class
    only has to answer `smpp_command` and `pdu()`. The private names keep the body (which holds
    a phone number) out of aiosmpplib's JSON logs, which dump public attributes only.
    """

    def __init__(self, body: bytes, call: object) -> None:
        # SmppMessage is a dataclass; its generated __init__ would run check_param on every
        # field, which is wasted work here (sequence_num is set by aiosmpplib when it sends).
        self.sequence_num = 0
        self.command_status = SmppCommandStatus.ESME_ROK
        self._body = body
        self._call = call

    @property
    def smpp_command(self) -> SmppCommand:
        return SmppCommand.SUBMIT_SM

    @property
    def call(self) -> object:
        """Whatever the sender attached (the pending part it belongs to)."""
        return self._call

    def pdu(self) -> bytes:
        return self.pack_header(PDU_HEADER_LENGTH + len(self._body)) + self._body


@dataclass(frozen=True, slots=True)
class DeliverSmFields:
    """A deliver_sm as received, before anyone decided whether it is a receipt or a reply."""

    sequence_num: int
    source: SmppAddress
    destination: SmppAddress
    esm_class: int
    data_coding: int
    short_message: bytes  # or the message_payload TLV when short_message is empty
    tlvs: dict[int, bytes] = field(default_factory=dict)

    @property
    def is_receipt(self) -> bool:
        # esm_class bits 2-5 are the message type: 0x04 is an SMSC delivery receipt, 0x20 an
        # intermediate notification, 0x08/0x10 SME acknowledgements. Only type 0 is a person's
        # text; the rest must never reach an agent's inbox as if someone had written it.
        return bool(self.esm_class & 0x3C)

    @property
    def has_udh(self) -> bool:
        return bool(self.esm_class & 0x40)


def _cstring_end(pdu: bytes, pos: int, limit: int) -> int:
    end = pdu.find(_NUL, pos, pos + limit + 1)
    if end < 0:
        raise ValueError(f"C-string at offset {pos} has no NUL within {limit} octets")
    return end


def parse_deliver_sm(pdu: bytes) -> DeliverSmFields:
    """Read a whole deliver_sm PDU (header included). Raises ValueError when it is malformed.

    Written with plain index arithmetic: it runs once per receipt, at the submit rate.
    """
    if len(pdu) < PDU_HEADER_LENGTH:
        raise ValueError("PDU shorter than its header")
    length, command_id, _status, sequence_num = _HEADER.unpack_from(pdu)
    if command_id != SmppCommand.DELIVER_SM or length != len(pdu):
        raise ValueError("not a complete deliver_sm PDU")
    try:
        pos = _cstring_end(pdu, PDU_HEADER_LENGTH, 5) + 1  # service_type
        end = _cstring_end(pdu, pos + 2, 64)
        source = SmppAddress(pdu[pos], pdu[pos + 1], pdu[pos + 2 : end].decode("latin-1"))
        pos = end + 1
        end = _cstring_end(pdu, pos + 2, 64)
        destination = SmppAddress(pdu[pos], pdu[pos + 1], pdu[pos + 2 : end].decode("latin-1"))
        esm_class = pdu[end + 1]
        pos = _cstring_end(pdu, end + 4, 16) + 1  # after protocol_id, priority: schedule time
        pos = _cstring_end(pdu, pos, 16) + 1  # validity_period
        data_coding = pdu[pos + 2]  # after registered_delivery, replace_if_present_flag
        sm_length = pdu[pos + 4]  # after sm_default_msg_id
        pos += 5
    except IndexError:
        raise ValueError("deliver_sm ends inside its mandatory fields") from None
    short_message = pdu[pos : pos + sm_length]
    if len(short_message) != sm_length:
        raise ValueError("deliver_sm ends inside short_message")
    pos += sm_length
    tlvs: dict[int, bytes] = {}
    while pos < length:
        if pos + 4 > length:
            raise ValueError(f"truncated TLV header at offset {pos}")
        tag, size = _TLV_HEADER.unpack_from(pdu, pos)
        pos += 4
        if pos + size > length:
            raise ValueError(f"TLV 0x{tag:04X} runs past the end of the PDU")
        tlvs[tag] = pdu[pos : pos + size]
        pos += size
    if not short_message and TAG_MESSAGE_PAYLOAD in tlvs:
        short_message = tlvs[TAG_MESSAGE_PAYLOAD]
    return DeliverSmFields(
        sequence_num, source, destination, esm_class, data_coding, short_message, tlvs
    )
