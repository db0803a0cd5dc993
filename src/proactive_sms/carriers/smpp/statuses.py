"""What an SMPP command_status means for the dispatcher's next step."""

from __future__ import annotations

from proactive_sms.carriers.base import SubmitStatus

ESME_ROK = 0x00
ESME_RINVBNDSTS = 0x04  # the SMSC thinks we are not bound: fine after a re-bind
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64  # "temporary application error": also what we answer to redeliver
ESME_RX_P_APPN = 0x65
ESME_RINVCMDID = 0x03
GENERIC_NACK = -1  # stands for "answered by generic_nack", whatever its command_status

# Refusals that say "not now" rather than "never". Anything else, including vendor-specific codes
# (0x400..0x4FF) whose meaning we cannot know, is permanent: retrying a text the carrier refuses
# for good only burns throughput, and the code is kept for an operator to read.
_RETRYABLE: dict[int, SubmitStatus] = {
    ESME_RTHROTTLED: SubmitStatus.THROTTLED,
    ESME_RMSGQFUL: SubmitStatus.QUEUE_FULL,
    ESME_RSYSERR: SubmitStatus.TEMPORARY,
    ESME_RINVBNDSTS: SubmitStatus.TEMPORARY,
    ESME_RX_T_APPN: SubmitStatus.TEMPORARY,
    GENERIC_NACK: SubmitStatus.TEMPORARY,
}


def refusal_status(command_status: int, generic_nack: bool = False) -> SubmitStatus:
    """The status of a first part the SMSC refused (command_status != 0, or a generic_nack)."""
    if generic_nack:
        return SubmitStatus.TEMPORARY
    return _RETRYABLE.get(command_status, SubmitStatus.PERMANENT)


def is_retryable(command_status: int, generic_nack: bool = False) -> bool:
    return refusal_status(command_status, generic_nack) is not SubmitStatus.PERMANENT


# Why an SMSC refuses a bind, in the words an operator acts on (SMPP 3.4 section 5.1.3).
_BIND_REFUSALS: dict[int, str] = {
    0x0E: "wrong password",
    0x0F: "unknown system_id",
    0x0D: "bind failed (the SMSC gave no reason)",
    0x05: "already bound (the SMSC allows no more sessions for this system_id)",
    0x53: "system_type refused",
    0x08: "system error at the SMSC",
    ESME_RTHROTTLED: "too many bind attempts (throttled)",
}


def describe_bind_refusal(command_status: int, command_name: str = "") -> str:
    """'wrong password (ESME_RINVPASWD, 0x0000000E)' for a bind_resp's command_status."""
    words = _BIND_REFUSALS.get(command_status, "refused")
    name = f"{command_name}, " if command_name else ""
    return f"{words} ({name}0x{command_status:08X})"
