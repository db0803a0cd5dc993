"""A small SMPP 3.4 PDU codec: only the commands the simulator and its test client exchange.

Hand-written rather than aiosmpplib's message classes because the simulator's hot path needs only a
few fields per submit_sm, and building a dataclass with validation per PDU costs several times more.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number
HEADER_LEN = 16
MAX_PDU_LEN = 64 * 1024  # a submit_sm with a full message_payload fits; anything bigger is garbage

GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
QUERY_SM = 0x00000003
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
REPLACE_SM = 0x00000007
CANCEL_SM = 0x00000008
BIND_TRANSCEIVER = 0x00000009
OUTBIND = 0x0000000B
ENQUIRE_LINK = 0x00000015
SUBMIT_MULTI = 0x00000021
DATA_SM = 0x00000103
RESP_BIT = 0x80000000

COMMAND_NAMES = {
    GENERIC_NACK: "generic_nack",
    BIND_RECEIVER: "bind_receiver",
    BIND_TRANSMITTER: "bind_transmitter",
    QUERY_SM: "query_sm",
    SUBMIT_SM: "submit_sm",
    DELIVER_SM: "deliver_sm",
    UNBIND: "unbind",
    REPLACE_SM: "replace_sm",
    CANCEL_SM: "cancel_sm",
    BIND_TRANSCEIVER: "bind_transceiver",
    OUTBIND: "outbind",
    ENQUIRE_LINK: "enquire_link",
    SUBMIT_MULTI: "submit_multi",
    DATA_SM: "data_sm",
}
COMMAND_NAMES.update({cid | RESP_BIT: f"{name}_resp" for cid, name in list(COMMAND_NAMES.items())})
COMMAND_NAMES[GENERIC_NACK] = "generic_nack"

ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01  # a body field runs past the end of the PDU
ESME_RINVCMDLEN = 0x02  # command_length below 16 or above MAX_PDU_LEN
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04  # submit before bind, or on a receiver-only session
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RX_P_APPN = 0x65  # from an ESME: permanent application error, do not redeliver
ESME_RX_R_APPN = 0x66  # from an ESME: rejected, do not redeliver

TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_SAR_MSG_REF_NUM = 0x020C
TLV_SAR_TOTAL_SEGMENTS = 0x020E
TLV_SAR_SEGMENT_SEQNUM = 0x020F
TLV_SC_INTERFACE_VERSION = 0x0210
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_MESSAGE_STATE = 0x0427

ESM_RECEIPT = 0x04  # esm_class message type: SMSC delivery receipt
ESM_UDHI = 0x40


class PduError(ValueError):
    """A body that cannot be read: answered with generic_nack, never a crash."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class SubmitSm(NamedTuple):
    """The fields of a submit_sm (or deliver_sm: same layout) that the simulator records."""

    service_type: str
    source_addr_ton: int
    source_addr_npi: int
    source_addr: str
    dest_addr_ton: int
    dest_addr_npi: int
    destination_addr: str
    esm_class: int
    protocol_id: int
    priority_flag: int
    schedule_delivery_time: str
    validity_period: str
    registered_delivery: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes]


class Bind(NamedTuple):
    system_id: str
    password: str
    system_type: str
    interface_version: int


def pdu(command_id: int, status: int, sequence: int, body: bytes = b"") -> bytes:
    return HEADER.pack(HEADER_LEN + len(body), command_id, status, sequence) + body


def c_string(value: str) -> bytes:
    return value.encode("latin-1") + b"\0"


def _read_c_string(body: bytes, pos: int) -> tuple[str, int]:
    end = body.index(0, pos)  # ValueError when the terminator is missing
    return body[pos:end].decode("latin-1"), end + 1


def parse_bind(body: bytes) -> Bind:
    try:
        system_id, pos = _read_c_string(body, 0)
        password, pos = _read_c_string(body, pos)
        system_type, pos = _read_c_string(body, pos)
        interface_version = body[pos]
    except (ValueError, IndexError) as exc:
        raise PduError(ESME_RINVMSGLEN, f"truncated bind body: {exc}") from None
    return Bind(system_id, password, system_type, interface_version)


def parse_submit_sm(body: bytes) -> SubmitSm:
    """Read a submit_sm or deliver_sm body; an empty short_message is taken from message_payload."""
    try:
        service_type, pos = _read_c_string(body, 0)
        source_ton, source_npi = body[pos], body[pos + 1]
        source, pos = _read_c_string(body, pos + 2)
        dest_ton, dest_npi = body[pos], body[pos + 1]
        dest, pos = _read_c_string(body, pos + 2)
        esm_class, protocol_id, priority = body[pos], body[pos + 1], body[pos + 2]
        schedule, pos = _read_c_string(body, pos + 3)
        validity, pos = _read_c_string(body, pos)
        registered, data_coding, sm_length = body[pos], body[pos + 2], body[pos + 4]
        pos += 5
    except (ValueError, IndexError) as exc:
        raise PduError(ESME_RINVMSGLEN, f"truncated submit_sm body: {exc}") from None
    short_message = body[pos : pos + sm_length]
    if len(short_message) != sm_length:
        raise PduError(ESME_RINVMSGLEN, "sm_length runs past the end of the PDU")
    pos += sm_length
    tlvs = parse_tlvs(body, pos) if pos < len(body) else {}
    if not short_message and TLV_MESSAGE_PAYLOAD in tlvs:
        short_message = tlvs[TLV_MESSAGE_PAYLOAD]
    return SubmitSm(
        service_type,
        source_ton,
        source_npi,
        source,
        dest_ton,
        dest_npi,
        dest,
        esm_class,
        protocol_id,
        priority,
        schedule,
        validity,
        registered,
        data_coding,
        short_message,
        tlvs,
    )


def parse_tlvs(body: bytes, pos: int) -> dict[int, bytes]:
    tlvs: dict[int, bytes] = {}
    while pos < len(body):
        if pos + 4 > len(body):
            raise PduError(ESME_RINVMSGLEN, "truncated TLV header")
        tag, length = struct.unpack_from(">HH", body, pos)
        value = body[pos + 4 : pos + 4 + length]
        if len(value) != length:
            raise PduError(ESME_RINVMSGLEN, f"TLV 0x{tag:04X} runs past the end of the PDU")
        tlvs[tag] = value
        pos += 4 + length
    return tlvs


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


def concat_info(
    esm_class: int, short_message: bytes, tlvs: dict[int, bytes]
) -> tuple[tuple[int, int, int] | None, bytes]:
    """(ref, total, seq) of a concatenated part and the payload after the UDH.

    UDH information elements 0x00 (8-bit ref) and 0x08 (16-bit ref) are read first; SAR TLVs are
    the fallback. A malformed UDH is kept as payload, because the record must show what was sent.
    """
    if esm_class & ESM_UDHI and short_message:
        udh_len = short_message[0]
        udh = short_message[1 : 1 + udh_len]
        payload = short_message[1 + udh_len :]
        pos = 0
        while pos + 2 <= len(udh):
            iei, iel = udh[pos], udh[pos + 1]
            data = udh[pos + 2 : pos + 2 + iel]
            if iei == 0x00 and iel == 3 and len(data) == 3:
                return (data[0], data[1], data[2]), payload
            if iei == 0x08 and iel == 4 and len(data) == 4:
                return ((data[0] << 8) | data[1], data[2], data[3]), payload
            pos += 2 + iel
        return None, payload
    if TLV_SAR_MSG_REF_NUM in tlvs and TLV_SAR_TOTAL_SEGMENTS in tlvs:
        ref = int.from_bytes(tlvs[TLV_SAR_MSG_REF_NUM], "big")
        total = tlvs[TLV_SAR_TOTAL_SEGMENTS][:1]
        seq = tlvs.get(TLV_SAR_SEGMENT_SEQNUM, b"\x01")[:1]
        if total and seq:
            return (ref, total[0], seq[0]), short_message
    return None, short_message


def build_sm_body(
    source: str,
    source_ton: int,
    source_npi: int,
    destination: str,
    dest_ton: int,
    dest_npi: int,
    esm_class: int,
    data_coding: int,
    short_message: bytes,
    registered_delivery: int = 0,
    tlvs: bytes = b"",
) -> bytes:
    """The body shared by submit_sm and deliver_sm (service_type, schedule, validity left empty)."""
    if len(short_message) > 254:
        # sm_length is one octet; longer content belongs in message_payload.
        tlvs = tlv(TLV_MESSAGE_PAYLOAD, short_message) + tlvs
        short_message = b""
    return b"".join(
        (
            b"\0",
            bytes((source_ton, source_npi)),
            c_string(source),
            bytes((dest_ton, dest_npi)),
            c_string(destination),
            bytes((esm_class, 0, 0)),
            b"\0\0",
            bytes((registered_delivery, 0, data_coding, 0, len(short_message))),
            short_message,
            tlvs,
        )
    )


def bind_body(system_id: str, password: str) -> bytes:
    """A bind_* request body: empty system_type, SMPP 3.4, no address range."""
    return c_string(system_id) + c_string(password) + b"\0\x34\0\0\0"


def bind_resp(command_id: int, status: int, sequence: int, smsc_id: str) -> bytes:
    # The system_id is sent even on failure: the spec allows omitting the body, but several
    # clients (aiosmpplib among them) index into it unconditionally.
    body = c_string(smsc_id) + tlv(TLV_SC_INTERFACE_VERSION, b"\x34")
    return pdu(command_id | RESP_BIT, status, sequence, body)


def submit_sm_resp(status: int, sequence: int, message_id: str = "") -> bytes:
    return pdu(SUBMIT_SM | RESP_BIT, status, sequence, c_string(message_id))


def generic_nack(status: int, sequence: int) -> bytes:
    return pdu(GENERIC_NACK, status, sequence)
