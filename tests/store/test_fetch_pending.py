"""The dispatcher's read of pending texts (outbox.fetch_pending): on SQLite it is SQL text
through the driver, on PostgreSQL SQLAlchemy Core; both give the same items, with the record's
time zone, postal code and ExpirationDate as the send-time check needs them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from proactive_sms.services import importing, launching
from proactive_sms.store import outbox
from proactive_sms.store.schema import message
from tests.factories import HEADER, person, registration, skill, write_csv


def _launch(engine, bu, clock, tmp_path, name: str, rows):
    header = [*HEADER, "TimeZone", "ExpirationDate"]
    path = write_csv(tmp_path / f"{name}.csv", rows, header)
    importing.import_calling_list(engine, bu, name, path, clock)
    created = skill(engine, bu, clock, name=name, list_name=name)
    launching.start_skill(engine, created.id, clock, message_text="Hi {FirstName}")
    return created


def test_pending_texts_come_with_what_decides_their_send_time(engine, bu, clock, tmp_path):
    registration(engine, bu, clock)
    first = _launch(engine, bu, clock, tmp_path, "first", [
        [*person(0), "America/Chicago", "2026-12-31"],
        [*person(1, PostalCode=""), "", ""],
        [*person(2), "", "2027-01-15"],
    ])
    second = _launch(engine, bu, clock, tmp_path, "second", [[*person(3), "", ""]])
    now = clock.now()
    with engine.begin() as conn:
        items = outbox.fetch_pending(conn, 1, 0, 10, now)
        assert [(i.skill_id, i.destination, i.body, i.encoding, i.segments, i.attempts, i.kind)
                for i in items] == [
            (first.id, "+12122000000", "Hi Ann0", "gsm7", 1, 0, "skill"),
            (first.id, "+12122000001", "Hi Ann1", "gsm7", 1, 0, "skill"),
            (first.id, "+12122000002", "Hi Ann2", "gsm7", 1, 0, "skill"),
            (second.id, "+12122000003", "Hi Ann3", "gsm7", 1, 0, "skill")]
        assert [(i.time_zone, i.postal_code, i.expiration_date) for i in items[:3]] == [
            ("America/Chicago", "10001", date(2026, 12, 31)), (None, None, None),
            (None, "10001", date(2027, 1, 15))]
        assert [i.id for i in items] == sorted(i.id for i in items)
        # after a cursor, at most `limit`, and none of the skills set aside
        assert outbox.fetch_pending(conn, 1, items[0].id, 2, now) == items[1:3]
        assert outbox.fetch_pending(conn, 1, 0, 10, now, [first.id]) == items[3:]
        # a retry not due yet is left for later
        conn.execute(update(message).where(message.c.id == items[1].id)
                     .values(next_attempt_at=now + timedelta(seconds=30)))
        assert [i.id for i in outbox.fetch_pending(conn, 1, 0, 10, now)] == [
            items[0].id, items[2].id, items[3].id]
        assert len(outbox.fetch_pending(conn, 1, 0, 10, now + timedelta(seconds=31))) == 4
        assert outbox.fetch_pending(conn, 2, 0, 10, now) == []  # another code's texts
