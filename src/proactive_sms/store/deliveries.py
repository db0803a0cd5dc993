"""Recording what the carrier said: accepted parts with their ids, and delivery receipts.

A receipt names a carrier id. It is matched to the part that got that id (in any of the spellings
an SMSC may use, see carriers.base.receipt_id_candidates). A receipt seen twice changes nothing the
second time. A receipt that arrives before its submit_sm_resp was recorded is held in
`early_receipt` and applied the moment the id is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, update

from proactive_sms.carriers.base import DeliveryReceipt, ReceiptState, receipt_id_candidates
from proactive_sms.domain.message_states import MessageState
from proactive_sms.store import messages
from proactive_sms.store.schema import early_receipt, message_part

# What a final receipt state means for the message.
_FINAL = {
    ReceiptState.DELIVERED: MessageState.DELIVERED,
    ReceiptState.UNDELIVERABLE: MessageState.UNDELIVERABLE,
    ReceiptState.REJECTED: MessageState.UNDELIVERABLE,
    ReceiptState.DELETED: MessageState.UNDELIVERABLE,
    ReceiptState.UNKNOWN: MessageState.UNDELIVERABLE,
    ReceiptState.EXPIRED: MessageState.EXPIRED,
}


@dataclass(frozen=True, slots=True)
class Accepted:
    message_id: int
    carrier_ids: tuple[str, ...]


@dataclass
class ReceiptOutcome:
    applied: int = 0
    duplicates: int = 0
    held: int = 0  # early: kept until the submit is recorded
    ignored: int = 0  # not final (enroute, accepted)


def record_accepted(conn: Connection, accepted: Sequence[Accepted], now: datetime) -> int:
    """Mark texts `sent` and store their parts' carrier ids; apply any receipts held for them."""
    if not accepted:
        return 0
    moved = messages.transition(conn, [a.message_id for a in accepted], MessageState.SENT, now,
                                sent_at=now)
    parts = [
        {"message_id": a.message_id, "part_no": n, "carrier_message_id": cid}
        for a in accepted for n, cid in enumerate(a.carrier_ids, start=1)
    ]
    if parts:
        conn.execute(message_part.insert(), parts)
        _apply_held(conn, [p["carrier_message_id"] for p in parts], now)
    return moved


def apply_receipts(conn: Connection, receipts: Iterable[DeliveryReceipt],
                   now: datetime) -> ReceiptOutcome:
    outcome = ReceiptOutcome()
    for receipt in receipts:
        if receipt.state not in _FINAL:
            outcome.ignored += 1
            continue
        part = _find_part(conn, receipt.carrier_message_id)
        if part is None:
            conn.execute(early_receipt.insert().values(
                carrier_message_id=receipt.carrier_message_id, state=receipt.state.value,
                error_code=receipt.error_code, raw=receipt.raw, received_at=now))
            outcome.held += 1
        elif part.receipt_state is not None:
            outcome.duplicates += 1
        else:
            _apply(conn, part, receipt.state, receipt.error_code, now)
            outcome.applied += 1
    return outcome


def _find_part(conn: Connection, carrier_id: str):
    candidates = receipt_id_candidates(carrier_id)
    if not candidates:
        return None
    rows = conn.execute(
        select(message_part).where(message_part.c.carrier_message_id.in_(candidates))
    ).all()
    if not rows:
        return None
    # The literal spelling wins over a hex/decimal reading of it.
    rows.sort(key=lambda r: candidates.index(r.carrier_message_id))
    return rows[0]


def _apply(conn: Connection, part, state: ReceiptState, error_code: int | None,
           now: datetime) -> None:
    conn.execute(
        update(message_part)
        .where(message_part.c.message_id == part.message_id,
               message_part.c.part_no == part.part_no)
        .values(receipt_state=state.value, receipt_error=error_code, receipt_at=now)
    )
    final = _FINAL[state]
    if final is MessageState.DELIVERED:
        # A long text is delivered when every part is.
        states = conn.scalars(select(message_part.c.receipt_state)
                              .where(message_part.c.message_id == part.message_id)).all()
        if any(s != ReceiptState.DELIVERED.value for s in states):
            return
    messages.transition(conn, [part.message_id], final, now,
                        error_code=error_code if final is not MessageState.DELIVERED else None)


def _apply_held(conn: Connection, carrier_ids: list[str], now: datetime) -> None:
    spellings = {c for cid in carrier_ids for c in receipt_id_candidates(cid)}
    held = []
    spelled = list(spellings)
    for start in range(0, len(spelled), 900):
        held += conn.execute(select(early_receipt).where(
            early_receipt.c.carrier_message_id.in_(spelled[start:start + 900]))).all()
    if not held:
        return
    apply_receipts(conn, [DeliveryReceipt(h.carrier_message_id, ReceiptState(h.state),
                                          h.error_code, raw=h.raw) for h in held], now)
    conn.execute(delete(early_receipt).where(early_receipt.c.id.in_([h.id for h in held])))


def pending_early_receipts(conn: Connection) -> int:
    return conn.scalar(select(func.count()).select_from(early_receipt)) or 0
