"""Held receipts settle an `uncertain` text only when exactly one text of their connection fits
the number, the lag and the quoted text; anything else leaves them held until they are pruned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from proactive_sms.services import administration, launching, lifecycle
from proactive_sms.store import unmatched_receipts
from proactive_sms.store.schema import early_receipt, message
from tests.factories import import_people, skill

BODY = "Hi {FirstName}, café open from 6 tonight"

# (case, changes to the held receipt (None: as it fits), twin text, expected state of the text)
CASES = [
    ("number, lag and text fit: settled", {}, False, "delivered"),
    ("the SMSC's '?' stands for a character it cannot show", {"text_prefix": "Hi Ann0, caf? open "},
     False, "delivered"),
    ("no dates in the receipt: its arrival after the submit is enough", {
        "submitted_at": None, "done_at": None}, False, "delivered"),
    ("a failed receipt settles it as undeliverable", {"state": "undeliverable", "error_code": 1},
     False, "undeliverable"),
    ("another connection's receipt", {"connection_id": "other"}, False, "uncertain"),
    ("another number", {"recipient": "+12125559999"}, False, "uncertain"),
    ("another text", {"text_prefix": "Hi Bob0, café open f"}, False, "uncertain"),
    ("the SMSC's stated lag (2 h) disagrees with ours", {"done_at": 2 * 3600}, False,
     "uncertain"),
    ("it arrived an hour before the text was submitted", {"received_at": -3600}, False,
     "uncertain"),
    ("two texts fit: neither is settled", {}, True, "uncertain"),
]


@pytest.mark.parametrize(("changes", "twin", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_held_receipt_settles_only_the_one_text_it_fits(engine, bu, clock, tmp_path, changes,
                                                          twin, expected):
    first, done = _held_receipt_for_an_uncertain_text(engine, bu, clock, tmp_path, changes, twin)
    clock.advance(5)
    with engine.begin() as conn:
        done = unmatched_receipts.reconcile_uncertain(conn, clock.now())
        state = conn.scalar(select(message.c.state).where(message.c.id == first.id))
        held = unmatched_receipts.held_count(conn)
    assert state == expected
    assert held == (0 if expected != "uncertain" else 1)
    assert bool(done.ambiguous) == twin


@pytest.mark.parametrize(("twin", "resent"), [(False, 1), (True, 2)],
                         ids=["its receipt came: settled, not resent", "ambiguous: resent"])
def test_resend_uncertain_settles_what_its_receipts_settle_first(engine, bu, clock, tmp_path,
                                                                 twin, resent):
    first, skill_id = _held_receipt_for_an_uncertain_text(engine, bu, clock, tmp_path, {}, twin)
    clock.advance(5)
    # Both texts were uncertain; the one whose receipt fits alone is not sent again.
    assert lifecycle.resend_uncertain(engine, skill_id, clock) == resent


def _held_receipt_for_an_uncertain_text(engine, bu, clock, tmp_path, changes, twin):
    """Two uncertain texts of one skill, and a held receipt that fits the first (as changed);
    with `twin`, the second text has the first's number and words. (first text, skill id)"""
    ours = administration.add_connection(engine, bu, clock, "c1", "127.0.0.1", 2775, "a", "s")
    other = administration.add_connection(engine, bu, clock, "c2", "127.0.0.1", 2776, "b", "s")
    import_people(engine, bu, clock, tmp_path, 2)
    administration.add_registration(engine, bu, clock, code="55501", kind="short",
                                    throughput_per_s=10, connection="c1", dnc_group=None)
    created = skill(engine, bu, clock)
    launching.start_skill(engine, created.id, clock, message_text=BODY)
    submitted = clock.now()
    with engine.begin() as conn:
        first, second = conn.execute(select(message.c.id, message.c.destination, message.c.body)
                                     .order_by(message.c.id)).all()
        conn.execute(update(message).values(state="uncertain", submitted_at=submitted))
        if twin:  # the same words to the same number, at the same time
            conn.execute(update(message).where(message.c.id == second.id)
                         .values(destination=first.destination, body=first.body))
        minute = submitted.replace(second=0, microsecond=0)
        row = {"carrier_message_id": "abc", "carrier_id_folded": "ABC", "state": "delivered",
               "error_code": None, "raw": "", "received_at": submitted + timedelta(seconds=3),
               "connection_id": ours.id, "recipient": first.destination,
               "submitted_at": minute, "done_at": minute, "text_prefix": first.body[:20]}
        for name, value in changes.items():
            if name == "connection_id":
                value = other.id
            elif name == "done_at" and value is not None:
                value = minute + timedelta(seconds=value)
            elif name == "received_at":
                value = submitted + timedelta(seconds=value)
            row[name] = value
        conn.execute(early_receipt.insert().values(**row))
    return first, created.id


def test_held_receipts_are_pruned_after_their_age(engine, bu, clock):
    with engine.begin() as conn:
        for age_h in (1, 47, 49):
            conn.execute(early_receipt.insert().values(
                carrier_message_id=f"id{age_h}", carrier_id_folded=f"ID{age_h}",
                state="delivered", raw="", received_at=clock.now() - timedelta(hours=age_h)))
        assert unmatched_receipts.prune(conn, clock.now(), 48 * 3600) == 1
        assert unmatched_receipts.held_count(conn) == 2


def test_a_sweep_goes_on_where_the_last_one_stopped(engine, bu, clock):
    with engine.begin() as conn:
        for n in range(5):
            conn.execute(early_receipt.insert().values(
                carrier_message_id=f"id{n}", carrier_id_folded=f"ID{n}", state="delivered",
                raw="", received_at=clock.now(), connection_id=1, recipient="+12125550100",
                text_prefix="never sent"))
        cursors = []
        after = 0
        for _ in range(4):
            after = unmatched_receipts.reconcile_uncertain(conn, clock.now(), after_id=after,
                                                           batch=2).next_after_id
            cursors.append(after)
    assert cursors == [2, 4, 0, 2]  # through all five, then from the start again


@pytest.mark.parametrize(("setting", "expected_s"), [(None, 48 * 3600), ("6", 6 * 3600),
                                                     ("0.5", 1800)])
def test_the_age_of_held_receipts_is_a_setting(monkeypatch, setting, expected_s):
    from proactive_sms.services.dispatch import DispatchOptions

    if setting is None:
        monkeypatch.delenv("PSMS_EARLY_RECEIPT_HOURS", raising=False)
    else:
        monkeypatch.setenv("PSMS_EARLY_RECEIPT_HOURS", setting)
    assert DispatchOptions().early_receipt_max_age_s == expected_s


def test_a_bad_age_setting_is_refused_naming_it(monkeypatch):
    from proactive_sms.services.dispatch import DispatchOptions

    monkeypatch.setenv("PSMS_EARLY_RECEIPT_HOURS", "soon")
    with pytest.raises(ValueError, match="PSMS_EARLY_RECEIPT_HOURS"):
        DispatchOptions()
