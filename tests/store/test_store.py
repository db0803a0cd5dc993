"""The store on every backend: migrations, guarded transitions, DNC sources, leases, receipts."""

from __future__ import annotations

from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from proactive_sms.carriers.base import DeliveryReceipt, ReceiptState
from proactive_sms.domain.message_states import MessageState
from proactive_sms.store import deliveries, dnc, messages, outbox
from proactive_sms.store.engine import alembic_config, is_current, migration_heads, upgrade
from proactive_sms.store.schema import message, message_part, metadata
from tests.factories import launched_skill


def test_migrations_are_current_and_idempotent(engine):
    assert is_current(engine)
    upgrade(engine)  # a second upgrade changes nothing and does not fail
    assert is_current(engine)


def test_the_quick_head_check_agrees_with_alembic(engine):
    # is_current() reads the heads from the scripts' text instead of importing them.
    from alembic.script import ScriptDirectory

    assert migration_heads() == set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def test_a_database_behind_the_head_is_not_current(engine):
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0018'"))
    assert not is_current(engine)
    with engine.begin() as conn:  # only the check is under test: put the head back
        conn.execute(text("UPDATE alembic_version SET version_num = :head"),
                     {"head": next(iter(migration_heads()))})
    assert is_current(engine)


def test_migrations_build_exactly_the_tables_the_code_declares(engine):
    # The migrations and schema.py are written by hand, side by side: any drift shows here.
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def _message_ids(engine, skill_id):
    with engine.connect() as conn:
        return list(conn.scalars(select(message.c.id).where(message.c.skill_id == skill_id)
                                 .order_by(message.c.id)))


def _state(engine, message_id):
    with engine.connect() as conn:
        return conn.scalar(select(message.c.state).where(message.c.id == message_id))


def test_a_state_never_moves_backwards(engine, bu, clock, tmp_path):
    skill = launched_skill(engine, bu, clock, tmp_path, 1)
    (mid,) = _message_ids(engine, skill.id)
    with engine.begin() as conn:
        assert messages.transition(conn, [mid], MessageState.SUBMITTING, clock.now()) == 1
        assert messages.transition(conn, [mid], MessageState.SENT, clock.now()) == 1
        assert messages.transition(conn, [mid], MessageState.DELIVERED, clock.now()) == 1
        # late or repeated answers change nothing
        assert messages.transition(conn, [mid], MessageState.SENT, clock.now()) == 0
        assert messages.transition(conn, [mid], MessageState.PENDING, clock.now()) == 0
        assert messages.transition(conn, [mid], MessageState.UNDELIVERABLE, clock.now()) == 0
    assert _state(engine, mid) == "delivered"


def test_an_opt_in_removes_only_what_an_opt_out_added(engine, bu, clock):
    with engine.begin() as conn:
        default = dnc.find_list(conn, bu.tenant_id)
        dnc.add_numbers(conn, default.id, ["+12125550100"], "manual", "", clock.now())
        dnc.add_numbers(conn, default.id, ["+12125550101"], "opt_out", "STOP", clock.now())
        removed = dnc.remove_numbers(conn, default.id, ["+12125550100", "+12125550101"],
                                     only_source="opt_out", removed_by="opt_in",
                                     now=clock.now())
        assert removed == 1
        assert dnc.numbers_on_list(conn, default.id, ["+12125550100", "+12125550101"]) == {
            "+12125550100"}


def test_a_code_has_one_owner_until_its_lease_lapses(engine, bu, clock, tmp_path):
    launched_skill(engine, bu, clock, tmp_path, 1)
    now = clock.now()
    later = now + timedelta(seconds=15)
    with engine.begin() as conn:
        assert outbox.take_lease(conn, 1, "worker-a", now, later)
        assert not outbox.take_lease(conn, 1, "worker-b", now, later)
        assert outbox.take_lease(conn, 1, "worker-a", now, later)  # renewal
        assert outbox.take_lease(conn, 1, "worker-b", later, later + timedelta(seconds=15))


def _sent(engine, clock, message_ids, carrier_ids):
    with engine.begin() as conn:
        messages.transition(conn, message_ids, MessageState.SUBMITTING, clock.now())
        deliveries.record_accepted(conn, [deliveries.Accepted(m, c) for m, c in
                                          zip(message_ids, carrier_ids, strict=True)],
                                   clock.now())


def test_receipts_match_any_id_spelling_ignore_duplicates_and_wait_when_early(engine, bu, clock,
                                                                            tmp_path):
    skill = launched_skill(engine, bu, clock, tmp_path, 4)
    a, b, c, d = _message_ids(engine, skill.id)
    _sent(engine, clock, [a, b], [("1F4",), ("500",)])  # hex id, decimal id
    receipts = [
        DeliveryReceipt("500", ReceiptState.DELIVERED),  # b's id; also 1F4 read as decimal
        DeliveryReceipt("500", ReceiptState.DELIVERED),  # the same receipt again
        DeliveryReceipt("500", ReceiptState.DELIVERED),  # and again
        DeliveryReceipt("ABC123", ReceiptState.UNDELIVERABLE, 1),  # before c's submit is stored
    ]
    with engine.begin() as conn:
        outcome = deliveries.apply_receipts(conn, receipts, clock.now())
    # "500" could be b's id or a's hex id in decimal: the literal spelling wins, so b is delivered
    # and the repeats are duplicates; a waits for its own receipt.
    assert (outcome.applied, outcome.duplicates, outcome.held) == (1, 2, 1)
    assert (_state(engine, a), _state(engine, b)) == ("sent", "delivered")
    with engine.begin() as conn:
        deliveries.apply_receipts(conn, [DeliveryReceipt("1F4", ReceiptState.DELIVERED)],
                                  clock.now())
    assert _state(engine, a) == "delivered"

    _sent(engine, clock, [c], [("ABC123",)])  # the held receipt applies at once
    assert _state(engine, c) == "undeliverable"
    with engine.connect() as conn:
        assert deliveries.pending_early_receipts(conn) == 0

    _sent(engine, clock, [d], [("9001", "9002")])  # a two-part text
    with engine.begin() as conn:
        deliveries.apply_receipts(conn, [DeliveryReceipt("9001", ReceiptState.DELIVERED)],
                                  clock.now())
    assert _state(engine, d) == "sent"  # one part of two
    with engine.begin() as conn:
        deliveries.apply_receipts(conn, [DeliveryReceipt("9002", ReceiptState.DELIVERED)],
                                  clock.now())
        assert len(conn.execute(select(message_part).where(
            message_part.c.message_id == d)).all()) == 2
    assert _state(engine, d) == "delivered"
