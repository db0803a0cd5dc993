"""Carrier message ids are opaque, case-sensitive strings: stored as given, matched exactly first,
and only then through the folded readings (case, leading zeros, hex/decimal), never when that
reading names two texts. Rows stored before revision 0012 (folded ids) stay matchable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from proactive_sms.carriers.base import DeliveryReceipt, ReceiptState
from proactive_sms.domain.message_states import MessageState
from proactive_sms.store import deliveries, messages
from proactive_sms.store.schema import message, message_part
from tests.factories import launched_skill
from tests.store import older_schema

# (case, ids the carrier gave texts a, b (None: no text), receipt ids in order, states of a, b,
#  receipts held)
CASES = [
    ("ids differing only in case are two texts", "abc", "ABC", ["ABC", "abc"],
     ("delivered", "delivered"), 0),
    ("ids differing only in leading zeros are two texts", "0123", "123", ["123", "0123"],
     ("delivered", "delivered"), 0),
    ("the exact id wins over a folded reading", "abc", "ABC", ["abc"],
     ("delivered", "sent"), 0),
    ("another case matches when nothing matches exactly", "ab12", None, ["AB12"],
     ("delivered", None), 0),
    ("zero padding matches when nothing matches exactly", "A1F", None, ["00000a1f"],
     ("delivered", None), 0),
    ("a decimal receipt id for a hex submit id", "1F4", None, ["500"], ("delivered", None), 0),
    ("a folded reading naming two texts settles neither", "abc", "ABC", ["Abc"],
     ("sent", "sent"), 1),
    ("a receipt for neither is held", "abc", "ABC", ["xyz"], ("sent", "sent"), 1),
]


@pytest.mark.parametrize(("ids", "receipt_ids", "states", "held"),
                         [((c[1], c[2]), c[3], c[4], c[5]) for c in CASES],
                         ids=[case[0] for case in CASES])
def test_receipts_find_their_text_by_the_id_as_the_carrier_gave_it(engine, bu, clock, tmp_path,
                                                                  ids, receipt_ids, states,
                                                                  held):
    skill = launched_skill(engine, bu, clock, tmp_path, 2)
    with engine.connect() as conn:
        texts = list(conn.scalars(select(message.c.id).where(message.c.skill_id == skill.id)
                                  .order_by(message.c.id)))
    sent = [(t, cid) for t, cid in zip(texts, ids, strict=True) if cid is not None]
    with engine.begin() as conn:
        messages.transition(conn, [t for t, _ in sent], MessageState.SUBMITTING, clock.now())
        deliveries.record_accepted(conn, [deliveries.Accepted(t, (cid,)) for t, cid in sent],
                                   clock.now())
    outcome = deliveries.ReceiptOutcome()
    for receipt_id in receipt_ids:  # one batch each: in order, as they come
        with engine.begin() as conn:
            step = deliveries.apply_receipts(
                conn, [DeliveryReceipt(receipt_id, ReceiptState.DELIVERED)], clock.now())
        outcome.held += step.held
    with engine.connect() as conn:
        found = dict(conn.execute(select(message.c.id, message.c.state)
                                  .where(message.c.id.in_(texts))).all())
        stored = set(conn.scalars(select(message_part.c.carrier_message_id)))
    expected = {t: s for t, s in zip(texts, states, strict=True) if s is not None}
    assert {t: found[t] for t in expected} == expected
    assert outcome.held == held
    assert stored == {cid for _, cid in sent}  # as given: no case or zeros changed


def test_a_part_stored_before_0012_stays_matchable_by_its_folded_id(bare_engine):
    older_schema.upgrade_to(bare_engine, "0009")
    older_schema.write(
        bare_engine,
        "INSERT INTO message (id, kind, registration_id, priority, destination, body, "
        "segments, state, attempts, created_at) VALUES "
        "(1, 'confirmation', 1, 0, '+12125550101', 'b', 1, 'sent', 1, "
        "'2026-03-01 10:07:00')",
        # stored folded, as every id was before: the carrier had said "00ab12"
        "INSERT INTO message_part (message_id, part_no, carrier_message_id) "
        "VALUES (1, 1, 'AB12')")
    older_schema.upgrade_to(bare_engine, "head")
    with bare_engine.begin() as conn:
        outcome = deliveries.apply_receipts(
            conn, [DeliveryReceipt("00ab12", ReceiptState.DELIVERED)],
            datetime(2026, 3, 1, 10, 8, tzinfo=UTC))
        assert outcome.applied == 1
        assert conn.scalar(select(message.c.state).where(message.c.id == 1)) == "delivered"


def test_a_receipt_from_an_overlong_address_is_held_not_refused(engine, bu, clock):
    # SMPP source addresses reach 21 characters; none of our numbers does, so it cannot match
    # by number, but the receipt must still be stored (a failure would loop redeliveries).
    receipt = DeliveryReceipt("zz9", ReceiptState.DELIVERED, recipient="A" * 21,
                              text_prefix="x" * 60)
    with engine.begin() as conn:
        assert deliveries.apply_receipts(conn, [receipt], clock.now(), 1).held == 1
