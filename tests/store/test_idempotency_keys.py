"""Idempotency keys in the store, on every backend: one claim per (BU, key), answers replayed,
other requests refused, stale claims taken over, keys purged after 24 h."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from proactive_sms.services import administration
from proactive_sms.store import idempotency
from proactive_sms.store.idempotency import ClaimOutcome
from proactive_sms.store.schema import idempotency_key


def _claim(engine, bu_id, key, fingerprint, now):
    with engine.begin() as conn:
        return idempotency.claim(conn, bu_id, key, fingerprint, now)


def test_a_key_is_claimed_once_then_in_progress_then_replayed(engine, bu, clock):
    assert _claim(engine, bu.id, "k", "print-1", clock.now()).outcome is ClaimOutcome.CLAIMED
    assert _claim(engine, bu.id, "k", "print-1", clock.now()).outcome is ClaimOutcome.IN_PROGRESS
    with engine.begin() as conn:
        idempotency.answer(conn, bu.id, "k", 201, {"name": "spring", "n": [1, 2]})
    replay = _claim(engine, bu.id, "k", "print-1", clock.now())
    assert (replay.outcome, replay.status_code, replay.body) == (
        ClaimOutcome.REPLAY, 201, {"name": "spring", "n": [1, 2]})


def test_the_same_key_for_another_request_is_a_mismatch(engine, bu, clock):
    _claim(engine, bu.id, "k", "print-1", clock.now())
    assert _claim(engine, bu.id, "k", "print-2", clock.now()).outcome is ClaimOutcome.MISMATCH


def test_keys_belong_to_their_business_unit(engine, bu, clock):
    other = administration.init(engine, clock, "acme", "collections", "US")
    _claim(engine, bu.id, "k", "print-1", clock.now())
    assert _claim(engine, other.id, "k", "print-2", clock.now()).outcome is ClaimOutcome.CLAIMED


def test_a_released_claim_frees_the_key(engine, bu, clock):
    _claim(engine, bu.id, "k", "print-1", clock.now())
    with engine.begin() as conn:
        idempotency.release(conn, bu.id, "k")
    assert _claim(engine, bu.id, "k", "print-2", clock.now()).outcome is ClaimOutcome.CLAIMED


def test_release_never_forgets_an_answer(engine, bu, clock):
    _claim(engine, bu.id, "k", "print-1", clock.now())
    with engine.begin() as conn:
        idempotency.answer(conn, bu.id, "k", 200, {"ok": True})
        idempotency.release(conn, bu.id, "k")
    assert _claim(engine, bu.id, "k", "print-1", clock.now()).outcome is ClaimOutcome.REPLAY


def test_a_claim_left_by_a_dead_process_is_taken_over_once_stale(engine, bu, clock):
    _claim(engine, bu.id, "k", "print-1", clock.now())
    almost = clock.now() + idempotency.STALE_AFTER - timedelta(seconds=1)
    assert _claim(engine, bu.id, "k", "print-1", almost).outcome is ClaimOutcome.IN_PROGRESS
    stale = clock.now() + idempotency.STALE_AFTER + timedelta(seconds=1)
    assert _claim(engine, bu.id, "k", "print-1", stale).outcome is ClaimOutcome.CLAIMED
    assert _claim(engine, bu.id, "k", "print-1", stale).outcome is ClaimOutcome.IN_PROGRESS


def test_keys_are_purged_after_a_day(engine, bu, clock):
    _claim(engine, bu.id, "old", "print-1", clock.now())
    with engine.begin() as conn:
        idempotency.answer(conn, bu.id, "old", 200, {"ok": True})
    later = clock.now() + idempotency.KEPT_FOR + timedelta(seconds=1)
    # Any claim purges the expired keys; the old key is new again.
    assert _claim(engine, bu.id, "other", "print-9", later).outcome is ClaimOutcome.CLAIMED
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(idempotency_key)
                           .where(idempotency_key.c.key == "old")) == 0
    assert _claim(engine, bu.id, "old", "print-2", later).outcome is ClaimOutcome.CLAIMED
