"""What counts as spent, counted by the trigger in the transaction of the result: a text
accepted (sent) or uncertain counts once, from its submit's quarter hour; a refused, retried or
throttled one does not; a unit's calendar month is a range of quarters in its zone; shards of
ended PostgreSQL backends fold without changing a sum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from proactive_sms.domain.message_states import MessageState
from proactive_sms.domain.money import calendar_month
from proactive_sms.domain.prices import PriceList
from proactive_sms.store import messages, skill_counters, spend
from proactive_sms.store.messages import Decision
from proactive_sms.store.schema import message, skill_spend
from tests.factories import import_people, registration, skill

PRICE = PriceList("USD", 10_000)  # 0.01 a segment


def _texts(engine, bu, clock, tmp_path, count: int) -> tuple[int, list[int]]:
    import_people(engine, bu, clock, tmp_path, count)
    registration(engine, bu, clock)
    created = skill(engine, bu, clock)
    with engine.connect() as conn:
        records = list(conn.scalars(text("SELECT id FROM calling_record ORDER BY id")))
    with engine.begin() as conn:
        messages.insert_decisions(conn, created.id, [
            Decision(r, MessageState.PENDING, f"+1212555{r:04d}", "Hi", "gsm7", 2)
            for r in records], clock.now(), PRICE)
    with engine.connect() as conn:
        ids = list(conn.scalars(select(message.c.id).where(message.c.skill_id == created.id)
                                .order_by(message.c.id)))
    return created.id, ids


def _submit(engine, ids: list[int], at: datetime) -> None:
    with engine.begin() as conn:
        messages.transition(conn, ids, MessageState.SUBMITTING, at, submitted_at=at)


def _spent(engine, skill_id: int) -> spend.Spent:
    with engine.connect() as conn:
        return spend.spent_by_skill(conn, [skill_id]).get(skill_id, spend.Spent())


def test_sent_and_uncertain_count_once_refused_and_retried_do_not(engine, bu, clock, tmp_path):
    skill_id, ids = _texts(engine, bu, clock, tmp_path, 8)
    with engine.connect() as conn:
        assert set(conn.scalars(select(message.c.cost_micros))) == {20_000}  # 2 x 0.01
    at = clock.now()
    _submit(engine, ids, at)
    with engine.begin() as conn:
        messages.transition(conn, ids[:3], MessageState.SENT, at, sent_at=at)
        messages.transition(conn, ids[3:4], MessageState.UNCERTAIN, at)  # may have left
        messages.transition(conn, ids[4:5], MessageState.FAILED, at)  # refused for good
        messages.transition(conn, ids[5:6], MessageState.PENDING, at)  # throttled: retried
    assert _spent(engine, skill_id) == spend.Spent(4, 8, 80_000)
    with engine.begin() as conn:  # receipts move nothing that is counted
        messages.transition(conn, ids[:3], MessageState.DELIVERED, at)
        messages.transition(conn, ids[3:4], MessageState.DELIVERED, at)
    assert _spent(engine, skill_id) == spend.Spent(4, 8, 80_000)
    # The retried text leaves again and counts then; a resent uncertain one counts again.
    later = at + timedelta(minutes=1)
    _submit(engine, ids[5:6], later)
    with engine.begin() as conn:
        messages.transition(conn, ids[5:6], MessageState.SENT, later, sent_at=later)
    assert _spent(engine, skill_id).texts == 5


def test_a_units_month_counts_the_quarters_submitted_in_it_in_its_zone(engine, bu, clock,
                                                                      tmp_path):
    skill_id, ids = _texts(engine, bu, clock, tmp_path, 3)
    # 05:50 UTC on 1 March is still February in Chicago (23:50); 06:05 is March there.
    feb = datetime(2026, 3, 1, 5, 50, tzinfo=UTC)
    mar = datetime(2026, 3, 1, 6, 5, tzinfo=UTC)
    for moment, chunk in ((feb, ids[:2]), (mar, ids[2:])):
        _submit(engine, chunk, moment)
        with engine.begin() as conn:
            messages.transition(conn, chunk, MessageState.SENT, moment, sent_at=moment)
    with engine.connect() as conn:
        quarters = sorted(q.replace(tzinfo=None) for q in conn.scalars(
            select(skill_spend.c.quarter)))
        february = calendar_month(feb, "America/Chicago")
        march = calendar_month(mar, "America/Chicago")
        found = spend.spent_in_units(conn, {bu.id: february[:2]})
        assert found == {bu.id: 40_000}
        assert spend.spent_in_units(conn, {bu.id: march[:2]}) == {bu.id: 20_000}
    assert quarters == [datetime(2026, 3, 1, 5, 45), datetime(2026, 3, 1, 6, 0)]
    assert (february[2], march[2]) == ("2026-02", "2026-03")


def test_spend_shards_fold_without_changing_a_sum(engine, bu, clock, tmp_path):
    skill_id, ids = _texts(engine, bu, clock, tmp_path, 5)
    at = clock.now()
    _submit(engine, ids, at)
    with engine.begin() as conn:
        messages.transition(conn, ids, MessageState.SENT, at, sent_at=at)
    before = _spent(engine, skill_id)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("UPDATE skill_spend SET shard = 1"))  # a backend long gone
        skill_counters.fold(conn)
    with engine.connect() as conn:
        assert set(conn.scalars(select(skill_spend.c.shard).distinct())) == {0}
    assert _spent(engine, skill_id) == before == spend.Spent(5, 10, 100_000)


def test_a_text_of_an_unpriced_code_costs_nothing_known(engine, bu, clock, tmp_path):
    import_people(engine, bu, clock, tmp_path, 2)
    registration(engine, bu, clock)
    created = skill(engine, bu, clock)
    with engine.connect() as conn:
        records = list(conn.scalars(text("SELECT id FROM calling_record ORDER BY id")))
    with engine.begin() as conn:
        messages.insert_decisions(conn, created.id, [
            Decision(r, MessageState.PENDING, f"+1212555{r:04d}", "Hi", "gsm7", 1)
            for r in records], clock.now())
        assert spend.unpriced_texts(conn, [created.id]) == 2
    with engine.connect() as conn:
        ids = list(conn.scalars(select(message.c.id)))
    _submit(engine, ids, clock.now())
    with engine.begin() as conn:
        messages.transition(conn, ids, MessageState.SENT, clock.now(), sent_at=clock.now())
    assert _spent(engine, created.id) == spend.Spent()
