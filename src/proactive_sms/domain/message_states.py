"""The states of one outbound message, and the only transitions allowed between them.

Every change of a message's state in the store goes through `check_transition`, so a state can
never go backwards by accident (a late `sent` after `delivered`, a re-send of `uncertain`).
"""

from __future__ import annotations

import enum


class MessageState(enum.StrEnum):
    PENDING = "pending"  # decided at launch, waiting for its turn at the pacer
    SUBMITTING = "submitting"  # claimed and about to leave; if we crash now the answer is unknown
    SENT = "sent"  # accepted by the carrier, which gave its id
    DELIVERED = "delivered"  # the handset received it (delivery receipt)
    UNDELIVERABLE = "undeliverable"  # the network could not deliver it (receipt)
    EXPIRED = "expired"  # validity ran out, at the carrier or while waiting here
    FAILED = "failed"  # refused for good by the carrier, or retries exhausted
    UNCERTAIN = "uncertain"  # left us but no answer was recorded; never re-sent blindly
    SKIPPED = "skipped"  # decided not to send (see SkipReason)
    CANCELLED = "cancelled"  # the skill was stopped before it left


class MessageKind(enum.StrEnum):
    SKILL = "skill"  # one record's text of a skill
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the one answer to a STOP (no marketing)
    OPT_IN_CONFIRMATION = "opt_in_confirmation"  # the answer to a START
    HELP_RESPONSE = "help_response"  # sender, contact, frequency, rates, how to stop
    AGENT_REPLY = "agent_reply"  # an agent's answer in a conversation


# Texts the system sends because the person asked: an opt-out confirmation goes to a number that
# is on the DNC list by then, and must; a help answer is requested information.
DNC_EXEMPT_KINDS = frozenset({MessageKind.OPT_OUT_CONFIRMATION, MessageKind.HELP_RESPONSE,
                              MessageKind.OPT_IN_CONFIRMATION})


class SkipReason(enum.StrEnum):
    DNC = "dnc"  # on the applicable DNC list, at launch or at the moment of sending
    NO_MOBILE_NUMBER = "no_mobile_number"  # the record has no SMS-capable number
    INVALID_NUMBER = "invalid_number"  # the SMS number is not a valid phone number
    MISSING_FIELD = "missing_field"  # the template needs a field this record leaves empty
    TOO_LONG = "too_long"  # more segments than the skill allows
    DUPLICATE_DESTINATION = "duplicate_destination"  # another record of the skill has this number
    EXPIRED = "expired"  # the record's ExpirationDate has passed
    NO_TIME_ZONE = "no_time_zone"  # no zone found and the skill skips such records


TERMINAL_STATES = frozenset(
    {
        MessageState.DELIVERED,
        MessageState.UNDELIVERABLE,
        MessageState.EXPIRED,
        MessageState.FAILED,
        MessageState.SKIPPED,
        MessageState.CANCELLED,
    }
)

# `sent` is not terminal for reporting (a receipt may still come) but the skill's work is done with
# it; `uncertain` waits for a person's decision. Both count as "finished" for the dispatcher.
SETTLED_STATES = TERMINAL_STATES | {MessageState.SENT, MessageState.UNCERTAIN}

_ALLOWED: dict[MessageState, frozenset[MessageState]] = {
    MessageState.PENDING: frozenset(
        {
            MessageState.SUBMITTING,
            MessageState.SKIPPED,  # DNC found at the moment of sending
            MessageState.CANCELLED,
            MessageState.EXPIRED,
            MessageState.FAILED,
        }
    ),
    MessageState.SUBMITTING: frozenset(
        {
            MessageState.SENT,
            MessageState.PENDING,  # the PDU never left (not bound) or a retryable refusal
            MessageState.FAILED,
            MessageState.UNCERTAIN,
        }
    ),
    MessageState.SENT: frozenset(
        {MessageState.DELIVERED, MessageState.UNDELIVERABLE, MessageState.EXPIRED}
    ),
    # A person decided to send it again (`psms skill resend-uncertain`), or gave up on it.
    MessageState.UNCERTAIN: frozenset(
        {MessageState.PENDING, MessageState.CANCELLED, MessageState.DELIVERED,
         MessageState.UNDELIVERABLE, MessageState.EXPIRED}
    ),
    MessageState.DELIVERED: frozenset(),
    MessageState.UNDELIVERABLE: frozenset(),
    MessageState.EXPIRED: frozenset(),
    MessageState.FAILED: frozenset(),
    MessageState.SKIPPED: frozenset(),
    MessageState.CANCELLED: frozenset(),
}


class IllegalTransition(ValueError):
    def __init__(self, current: MessageState, new: MessageState) -> None:
        super().__init__(f"a message cannot go from {current.value} to {new.value}")
        self.current = current
        self.new = new


def can_transition(current: MessageState, new: MessageState) -> bool:
    return new in _ALLOWED[current]


def allowed_sources(new: MessageState) -> frozenset[MessageState]:
    """The states a message may be in for an update to `new` (used in SQL WHERE clauses)."""
    return frozenset(state for state, targets in _ALLOWED.items() if new in targets)


def check_transition(current: MessageState, new: MessageState) -> None:
    if not can_transition(current, new):
        raise IllegalTransition(current, new)
