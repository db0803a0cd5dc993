"""The webhook store on every backend: events in the transaction of the change, nothing for BUs
without a webhook (and no extra statement on the hot path), claims that two senders never share,
state changes reported once, pruning."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import event, select

from proactive_sms.carriers.base import DeliveryReceipt, ReceiptState
from proactive_sms.domain.message_states import MessageState
from proactive_sms.domain.webhook_events import EventType
from proactive_sms.services import webhooks
from proactive_sms.store import deliveries, messages, webhook_events
from proactive_sms.store.schema import message, webhook_event
from tests.factories import launched_skill


def _message_ids(engine, skill_id):
    with engine.connect() as conn:
        return list(conn.scalars(select(message.c.id).where(message.c.skill_id == skill_id)
                                 .order_by(message.c.id)))


def _events(engine, event_type="message.status"):
    with engine.connect() as conn:
        bodies = conn.scalars(select(webhook_event.c.body).where(webhook_event.c.type == event_type)
                              .order_by(webhook_event.c.id))
        return [json.loads(b)["data"] for b in bodies]


def _statements(engine):
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *args: seen.append(statement))
    return seen


def test_state_changes_are_reported_once_each_in_their_transaction(engine, bu, clock, tmp_path):
    webhooks.set_endpoint(engine, bu, clock, "https://example.com/hook")
    skill = launched_skill(engine, bu, clock, tmp_path, 3)
    first, second, third = _message_ids(engine, skill.id)
    with engine.begin() as conn:
        messages.transition(conn, [first, second], MessageState.SUBMITTING, clock.now())
        deliveries.record_accepted(conn, [deliveries.Accepted(first, ("7001",)),
                                          deliveries.Accepted(second, ("7002",))], clock.now())
        deliveries.apply_receipts(conn, [
            DeliveryReceipt("7001", ReceiptState.DELIVERED, None, raw=""),
            DeliveryReceipt("7001", ReceiptState.DELIVERED, None, raw=""),  # a duplicate
            DeliveryReceipt("7002", ReceiptState.UNDELIVERABLE, 11, raw="")], clock.now())
    assert [(e["message_id"], e["state"], e["error_code"]) for e in _events(engine)] == [
        (first, "sent", None), (second, "sent", None),
        (first, "delivered", None), (second, "undeliverable", 11)]
    assert _events(engine)[0]["skill"] == skill.name
    # a change that rolls back leaves no event behind
    try:
        with engine.begin() as conn:
            messages.transition(conn, [third], MessageState.SUBMITTING, clock.now())
            messages.transition(conn, [third], MessageState.FAILED, clock.now())
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert len(_events(engine)) == 4


def test_without_a_webhook_a_transition_costs_no_extra_statement(engine, bu, clock, tmp_path):
    skill = launched_skill(engine, bu, clock, tmp_path, 3)
    ids = _message_ids(engine, skill.id)
    with engine.begin() as conn:  # warms the cache of BUs with a webhook
        messages.transition(conn, ids[:1], MessageState.SUBMITTING, clock.now())
        messages.transition(conn, ids[:1], MessageState.SENT, clock.now())
    seen = _statements(engine)
    with engine.begin() as conn:
        before = len(seen)
        messages.transition(conn, ids[1:], MessageState.SUBMITTING, clock.now())
        messages.transition(conn, ids[1:], MessageState.FAILED, clock.now())
        assert len(seen) - before == 2  # the two UPDATEs, nothing else
    assert _events(engine) == []


def test_a_webhook_of_another_bu_gets_none_of_this_bus_changes(engine, bu, clock, tmp_path):
    from proactive_sms.services import administration

    other = administration.init(engine, clock, "acme", "collections", "US")
    webhooks.set_endpoint(engine, other, clock, "https://example.com/b")
    skill = launched_skill(engine, bu, clock, tmp_path, 1)
    ids = _message_ids(engine, skill.id)
    with engine.begin() as conn:
        messages.transition(conn, ids, MessageState.SUBMITTING, clock.now())
        messages.transition(conn, ids, MessageState.FAILED, clock.now())
    assert _events(engine) == []


def _emit(engine, bu, clock, n):
    with engine.begin() as conn:
        return [webhook_events.emit(conn, bu.id, EventType.OPT_OUT, {"n": i}, clock.now())
                for i in range(n)]


def test_two_senders_never_claim_the_same_event_until_the_lease_ends(engine, bu, clock):
    webhooks.set_endpoint(engine, bu, clock, "https://example.com/hook")
    _emit(engine, bu, clock, 3)
    now, lease = clock.now(), clock.now() + timedelta(seconds=60)
    # one sender holds its claim's transaction open while the other claims
    with engine.begin() as first:
        mine = webhook_events.claim_due(first, now, lease, 2)
    with engine.begin() as second:
        theirs = webhook_events.claim_due(second, now, lease, 10)
    assert len(mine) == 2 and len(theirs) == 1
    assert not {e.id for e in mine} & {e.id for e in theirs}
    with engine.begin() as conn:
        assert webhook_events.claim_due(conn, now + timedelta(seconds=59), lease, 10) == []
        again = webhook_events.claim_due(conn, now + timedelta(seconds=61),
                                         lease + timedelta(seconds=61), 10)
    assert len(again) == 3  # a sender that died: its events are taken over


def test_claims_skip_rows_another_transaction_holds_on_postgres(engine, bu, clock):
    if engine.dialect.name != "postgresql":
        return  # SQLite has one writer at a time: claims cannot overlap there
    webhooks.set_endpoint(engine, bu, clock, "https://example.com/hook")
    _emit(engine, bu, clock, 4)
    now, lease = clock.now(), clock.now() + timedelta(seconds=60)
    with engine.begin() as first, engine.begin() as second:
        mine = webhook_events.claim_due(first, now, lease, 2)
        theirs = webhook_events.claim_due(second, now, lease, 10)  # does not wait for `first`
    assert len(mine) == 2 and len(theirs) == 2
    assert not {e.id for e in mine} & {e.id for e in theirs}


def test_finished_events_are_pruned_after_the_retention(engine, bu, clock):
    webhooks.set_endpoint(engine, bu, clock, "https://example.com/hook")
    old, waiting = _emit(engine, bu, clock, 2)
    with engine.begin() as conn:
        webhook_events.cancel(conn, [webhook_events.find_event(conn, bu.id, old).id])
        assert webhook_events.prune(conn, clock.now() + timedelta(days=1)) == 1
        assert webhook_events.find_event(conn, bu.id, old) is None
        assert webhook_events.find_event(conn, bu.id, waiting) is not None
