"""Answers' parts and receipts stored by concurrent transactions (several dispatch workers on one
PostgreSQL): part writers never wait for one another, and a receipt that finds no part while
its part is being stored is applied, whichever of the two commits first (store.deliveries'
lock: shared to store parts, exclusive to hold a receipt)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from proactive_sms.carriers.base import DeliveryReceipt, ReceiptState
from proactive_sms.domain.message_states import MessageState
from proactive_sms.store import deliveries, messages
from proactive_sms.store.schema import early_receipt, message
from tests.factories import launched_skill


@pytest.fixture
def texts(engine, bu, clock, tmp_path) -> list[int]:
    """Two texts `submitting`, their answers not stored yet."""
    skill = launched_skill(engine, bu, clock, tmp_path, 2)
    with engine.begin() as conn:
        ids = list(conn.scalars(select(message.c.id).where(message.c.skill_id == skill.id)
                                .order_by(message.c.id)))
        messages.transition(conn, ids, MessageState.SUBMITTING, clock.now())
    return ids


def _postgres_only(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent transactions: SQLite has one writer at a time")


def _in_thread(work) -> tuple[threading.Thread, dict]:
    done: dict = {}

    def run():
        try:
            done["result"] = work()
        except Exception as exc:  # noqa: BLE001 - the test reads it
            done["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done


def _waiting_for_lock(engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                     "AND NOT granted")))


def _wait_until(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "not reached"
        time.sleep(0.02)


def _state_and_held(engine, text_id: int) -> tuple[str, int]:
    with engine.connect() as conn:
        return (conn.scalar(select(message.c.state).where(message.c.id == text_id)),
                conn.scalar(select(func.count()).select_from(early_receipt)))


def test_two_transactions_store_parts_at_once(engine, texts, clock):
    _postgres_only(engine)
    first, second = texts
    with engine.connect() as one, engine.connect() as two:
        deliveries.record_accepted(one, [deliveries.Accepted(first, ("A1",))], clock.now())
        # Taken exclusive, the lock made this wait for the first transaction to commit.
        two.execute(text("SET LOCAL lock_timeout = '2s'"))
        deliveries.record_accepted(two, [deliveries.Accepted(second, ("A2",))], clock.now())
        two.commit()
        one.commit()
    assert _state_and_held(engine, first) == ("sent", 0)
    assert _state_and_held(engine, second) == ("sent", 0)


def test_a_receipt_that_misses_a_part_being_stored_waits_for_it(engine, texts, clock):
    _postgres_only(engine)
    first = texts[0]
    with engine.connect() as storing:
        deliveries.record_accepted(storing, [deliveries.Accepted(first, ("B1",))], clock.now())

        def receipt():
            with engine.begin() as conn:
                return deliveries.apply_receipts(
                    conn, [DeliveryReceipt("B1", ReceiptState.DELIVERED)], clock.now())

        thread, done = _in_thread(receipt)
        _wait_until(lambda: _waiting_for_lock(engine) or not thread.is_alive())
        storing.commit()
        thread.join(10)
    assert "error" not in done
    assert done["result"].applied == 1
    assert _state_and_held(engine, first) == ("delivered", 0)


def test_parts_stored_while_their_receipt_is_being_held_apply_it(engine, texts, clock):
    _postgres_only(engine)
    first = texts[0]
    with engine.connect() as holding:
        outcome = deliveries.apply_receipts(
            holding, [DeliveryReceipt("C1", ReceiptState.DELIVERED)], clock.now())
        assert outcome.held == 1

        def parts():
            with engine.begin() as conn:
                deliveries.record_accepted(conn, [deliveries.Accepted(first, ("C1",))],
                                           clock.now())

        thread, done = _in_thread(parts)
        _wait_until(lambda: _waiting_for_lock(engine) or not thread.is_alive())
        holding.commit()
        thread.join(10)
    assert "error" not in done
    assert _state_and_held(engine, first) == ("delivered", 0)


def test_a_receipt_unmatched_beside_stored_parts_is_held_in_a_transaction_of_its_own(
        engine, texts, clock):
    first, second = texts
    unplaced: list[deliveries.Came] = []
    with engine.begin() as conn:
        deliveries.record_accepted(conn, [deliveries.Accepted(first, ("D1",))], clock.now())
        outcome = deliveries.apply_receipts(
            conn, [DeliveryReceipt("D1", ReceiptState.DELIVERED),
                   DeliveryReceipt("D2", ReceiptState.DELIVERED)], clock.now(), None, unplaced)
    assert outcome.applied == 1
    if engine.dialect.name == "postgresql":  # SQLite's one writer needs no second transaction
        assert (outcome.unplaced, outcome.held) == (1, 0)
        assert [came[0].carrier_message_id for came in unplaced] == ["D2"]
        with engine.begin() as conn:
            deliveries.record_accepted(conn, [deliveries.Accepted(second, ("D2",))],
                                       clock.now())
        with engine.begin() as conn:
            assert deliveries.hold_unplaced(conn, unplaced, clock.now()).applied == 1
    else:
        assert (outcome.unplaced, outcome.held) == (0, 1)
        with engine.begin() as conn:
            deliveries.record_accepted(conn, [deliveries.Accepted(second, ("D2",))],
                                       clock.now())
    assert _state_and_held(engine, first) == ("delivered", 0)
    assert _state_and_held(engine, second) == ("delivered", 0)


def test_an_unmatched_receipt_beside_stored_parts_waits_for_no_other_worker(engine, texts,
                                                                             clock):
    # Holding it there would turn the shared lock exclusive, waiting for the other
    # transaction's parts (and two transactions doing that deadlock).
    _postgres_only(engine)
    first, second = texts
    unplaced: list[deliveries.Came] = []
    with engine.connect() as other, engine.connect() as batch:
        deliveries.record_accepted(other, [deliveries.Accepted(first, ("E1",))], clock.now())
        batch.execute(text("SET LOCAL lock_timeout = '2s'"))
        deliveries.record_accepted(batch, [deliveries.Accepted(second, ("E2",))], clock.now())
        outcome = deliveries.apply_receipts(
            batch, [DeliveryReceipt("E1", ReceiptState.DELIVERED)], clock.now(), None, unplaced)
        batch.commit()
        assert (outcome.unplaced, outcome.held) == (1, 0)
        other.commit()
    with engine.begin() as conn:
        assert deliveries.hold_unplaced(conn, unplaced, clock.now()).applied == 1
    assert _state_and_held(engine, first) == ("delivered", 0)
