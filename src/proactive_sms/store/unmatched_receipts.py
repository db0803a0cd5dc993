"""Receipts that match no carrier id: settling `uncertain` texts with them, and pruning them.

A text whose submit_sm_resp never came is `uncertain`: we do not know its carrier id, so its
receipt, when the SMSC sends one, matches nothing and is held in `early_receipt`. Besides the id,
a receipt says which handset the text went to (its source address), when it was submitted (its
"submit date", in minutes) and how it began (its "text:" field, ~20 characters). A held receipt
settles an `uncertain` text when exactly one text of the connection it came on fits all three:

- sent to that number, on a code of that connection;
- submitted before the receipt arrived (both times on our clock, give or take `max_skew_s`
  between workers) and no longer ago than receipts are kept; and when the receipt gives its
  submit and done dates, the time between them (the SMSC's clock, whatever its zone or offset)
  is the receipt's lag, which must agree with ours to within `max_skew_s`;
- its body begins with the receipt's text, where the SMSC's "?" stands for any character (many
  replace what their alphabet cannot show).

Texts being submitted or `sent` count as candidates too, so a receipt that could be theirs never
settles another text: two candidates leave the receipt held (and are reported), since a wrong
"delivered" would hide a text that never went. Only one-segment texts are settled (a receipt
speaks for one part). The settled text gets the receipt's id as its part, so a repeat of the
receipt is a duplicate.

Held receipts older than a set age are pruned: the submit they wait for will never be stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, func, select

from proactive_sms.carriers.base import ReceiptState, normalize_message_id
from proactive_sms.domain.message_states import MessageState
from proactive_sms.store import messages
from proactive_sms.store.schema import early_receipt, message, message_part, skill, sms_registration

DEFAULT_MAX_SKEW_S = 300.0  # receipt dates have minutes only, and some SMSCs batch receipts
DEFAULT_MAX_AGE_S = 48 * 3600.0  # how long an unmatched receipt is kept
_BATCH = 1000  # held receipts looked at per call

# What a final receipt state settles an uncertain text as (as store.deliveries does for ids).
_FINAL = {
    ReceiptState.DELIVERED: MessageState.DELIVERED,
    ReceiptState.UNDELIVERABLE: MessageState.UNDELIVERABLE,
    ReceiptState.REJECTED: MessageState.UNDELIVERABLE,
    ReceiptState.DELETED: MessageState.UNDELIVERABLE,
    ReceiptState.UNKNOWN: MessageState.UNDELIVERABLE,
    ReceiptState.EXPIRED: MessageState.EXPIRED,
}
# States a text the receipt may be for can be in (the others have their answer or never went).
_CANDIDATE_STATES = [s.value for s in (MessageState.UNCERTAIN, MessageState.SUBMITTING,
                                       MessageState.SENT)]
_SETTLED_DETAIL = ("settled by a receipt matched on number, time and text "
                   "(the submit answer never came)")


@dataclass
class Reconciled:
    settled: dict[int, str] = field(default_factory=dict)  # message id -> its new state
    # held receipt id -> the texts it could be for (left held)
    ambiguous: dict[int, list[int]] = field(default_factory=dict)
    # The last held receipt looked at, where the next call goes on; 0 once all were seen.
    next_after_id: int = 0


def reconcile_uncertain(conn: Connection, now: datetime,
                        max_skew_s: float = DEFAULT_MAX_SKEW_S,
                        max_age_s: float = DEFAULT_MAX_AGE_S, after_id: int = 0,
                        batch: int = _BATCH) -> Reconciled:
    """Settle `uncertain` texts with the held receipts that fit them unambiguously.

    Looks at up to `batch` held receipts after `after_id`; Reconciled.next_after_id says where
    to go on (0: from the start again), so that many receipts that never match cannot hide
    newer ones. reconcile_all goes through every one."""
    done = Reconciled()
    held = conn.execute(
        select(early_receipt)
        .where(early_receipt.c.id > after_id,
               early_receipt.c.connection_id.is_not(None),
               early_receipt.c.recipient.is_not(None),
               early_receipt.c.text_prefix.is_not(None))
        .order_by(early_receipt.c.id).limit(batch)).all()
    if not held:
        return done
    if len(held) == batch:
        done.next_after_id = held[-1].id
    texts = _candidates(conn, sorted({h.recipient for h in held}))
    if not any(t.state == MessageState.UNCERTAIN.value for t in texts):
        return done
    by_number: dict[str, list] = {}
    for text in texts:
        by_number.setdefault(text.destination, []).append(text)
    taken: set[int] = set()
    for receipt in held:
        state = _FINAL.get(_receipt_state(receipt.state))
        if state is None:
            continue
        fits = [t for t in by_number.get(receipt.recipient, ())
                if t.connection_id == receipt.connection_id and t.id not in taken
                and _prefix_fits(receipt.text_prefix, t.body or "")
                and _time_fits(receipt, _aware(t.submitted_at), max_skew_s, max_age_s)]
        if not any(t.state == MessageState.UNCERTAIN.value for t in fits):
            continue
        if len(fits) > 1:
            done.ambiguous[receipt.id] = sorted(t.id for t in fits)
            continue
        text = fits[0]
        if text.segments != 1:
            continue
        if messages.transition(conn, [text.id], state, now, error_code=receipt.error_code
                               if state is not MessageState.DELIVERED else None,
                               detail=_SETTLED_DETAIL):
            conn.execute(message_part.insert().values(
                message_id=text.id, part_no=1, carrier_message_id=receipt.carrier_message_id,
                carrier_id_folded=normalize_message_id(receipt.carrier_message_id),
                receipt_state=receipt.state, receipt_error=receipt.error_code, receipt_at=now))
            conn.execute(delete(early_receipt).where(early_receipt.c.id == receipt.id))
            done.settled[text.id] = state.value
            taken.add(text.id)
    return done


def reconcile_all(conn: Connection, now: datetime,
                  max_skew_s: float = DEFAULT_MAX_SKEW_S,
                  max_age_s: float = DEFAULT_MAX_AGE_S) -> Reconciled:
    """reconcile_uncertain over every held receipt (before an explicit resend)."""
    total = Reconciled()
    after_id = 0
    while True:
        step = reconcile_uncertain(conn, now, max_skew_s, max_age_s, after_id)
        total.settled.update(step.settled)
        total.ambiguous.update(step.ambiguous)
        if not step.next_after_id:
            return total
        after_id = step.next_after_id


def prune(conn: Connection, now: datetime, max_age_s: float = DEFAULT_MAX_AGE_S) -> int:
    """Forget held receipts older than max_age_s; returns how many."""
    cutoff = now - timedelta(seconds=max_age_s)
    return conn.execute(delete(early_receipt).where(early_receipt.c.received_at < cutoff)
                        ).rowcount or 0


def held_count(conn: Connection) -> int:
    """How many receipts are held unmatched right now."""
    return conn.scalar(select(func.count()).select_from(early_receipt)) or 0


def _candidates(conn: Connection, numbers: Sequence[str]) -> list:
    """Texts to these numbers that a receipt may be for, each with the connection that carried
    it (a code with several connections: the one its row names), else its code's first."""
    code = func.coalesce(skill.c.registration_id, message.c.registration_id)
    found = []
    for start in range(0, len(numbers), 900):
        found += conn.execute(
            select(message.c.id, message.c.destination, message.c.body, message.c.state,
                   message.c.segments, message.c.submitted_at,
                   func.coalesce(message.c.connection_id, sms_registration.c.connection_id)
                   .label("connection_id"))
            .select_from(message.outerjoin(skill, skill.c.id == message.c.skill_id)
                         .join(sms_registration, sms_registration.c.id == code))
            .where(message.c.destination.in_(numbers[start:start + 900]),
                   message.c.state.in_(_CANDIDATE_STATES),
                   message.c.submitted_at.is_not(None))).all()
    return found


def _receipt_state(value: str) -> ReceiptState | None:
    try:
        return ReceiptState(value)
    except ValueError:
        return None


def _prefix_fits(prefix: str, body: str) -> bool:
    """The body begins with the receipt's text; the SMSC's '?' stands for any character."""
    if not prefix or len(prefix) > len(body):
        return False
    return all(p == b or p == "?" for p, b in zip(prefix, body, strict=False))


def _time_fits(receipt, submitted_at: datetime | None, max_skew_s: float,
               max_age_s: float) -> bool:
    """Whether a text submitted at `submitted_at` (our clock) may be the receipt's. The SMSC's
    dates carry no zone and its clock is not ours: only their difference is compared."""
    if submitted_at is None:
        return False
    lag_s = (_aware(receipt.received_at) - submitted_at).total_seconds()
    if not -max_skew_s <= lag_s <= max_age_s:
        return False
    said_submit, said_done = receipt.submitted_at, receipt.done_at
    if said_submit is None or said_done is None:
        return True
    said_lag_s = (_aware(said_done) - _aware(said_submit)).total_seconds()
    return abs(lag_s - said_lag_s) <= max_skew_s


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives naive UTC
