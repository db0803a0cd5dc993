"""Workers share codes (store.leases): each takes up to its share of the live workers, one over
its share hands back a bounded number while another is short, a handed-back code carries its last
window's sends to the next holder, a code taken from a holder that vanished does not, and a
claim carries the fence of its tenure."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from proactive_sms.store import leases, outbox
from proactive_sms.store.engine import end_idle_transactions_after
from proactive_sms.store.leases import LeaseHolder
from proactive_sms.store.schema import transport_lease
from tests.factories import launched_skill, registration

LEASE_S, TAKEOVER_S = 15.0, 5.0
CODES = 7


def _codes(engine, bu, clock, tmp_path) -> list[int]:
    launched_skill(engine, bu, clock, tmp_path, 4)  # code 1, with a running skill
    for i in range(2, CODES + 1):
        registration(engine, bu, clock, code=f"5550{i}")
    return list(range(1, CODES + 1))


def _tick(engine, holder, codes, now, keep_out=()):
    """What a dispatcher's renewal does: announce, read the fleet, renew and take its share."""
    with engine.begin() as conn:
        leases.announce(conn, holder, now, LEASE_S)
        fleet = leases.fleet(conn, codes, now, LEASE_S)
        held = leases.renew_and_take(conn, holder, codes, now, LEASE_S, TAKEOVER_S,
                                     share=fleet.share, keep_out=keep_out)
        fleet = leases.fleet(conn, codes, now, LEASE_S)
    return held, fleet


def test_workers_take_their_share_and_the_fullest_hands_back_a_few(engine, bu, clock, tmp_path):
    codes = _codes(engine, bu, clock, tmp_path)
    a, b, c = (LeaseHolder(w, f"p{w}") for w in ("a", "b", "c"))
    now = clock.now()
    held_a, _ = _tick(engine, a, codes, now)
    assert len(held_a) == CODES  # alone: everything
    # b and c announce themselves; they find nothing free.
    for holder in (b, c):
        held, fleet = _tick(engine, holder, codes, now)
        assert held == {}
    assert fleet.live_workers == 3 and fleet.share == 3
    # a holds 7, its share is 3: it hands back at most 2 at a time while the others are short.
    _, fleet = _tick(engine, a, codes, now)
    assert leases.to_give_back(fleet, a, going=0, max_moves=2) == 2
    assert leases.to_give_back(fleet, a, going=0, max_moves=10) == 4
    with engine.begin() as conn:
        assert leases.release(conn, a, {7: [], 6: []}, now) == {6, 7}
    held_b, _ = _tick(engine, b, codes, now + timedelta(seconds=0.5))
    assert set(held_b) == {6, 7} and all(t.new and not t.unclean for t in held_b.values())
    # a does not take back what it handed back, nor more than its share.
    held_a, _ = _tick(engine, a, codes, now + timedelta(seconds=0.5))
    assert set(held_a) == {1, 2, 3, 4, 5}


def test_a_worker_at_its_share_takes_a_code_nobody_took_for_a_while(engine, bu, clock,
                                                                    tmp_path):
    codes = _codes(engine, bu, clock, tmp_path)
    a, b = LeaseHolder("a", "pa"), LeaseHolder("b", "pb")
    now = clock.now()
    with engine.begin() as conn:
        leases.announce(conn, b, now, LEASE_S)  # b is live but takes nothing (stuck)
        leases.renew_and_take(conn, a, codes, now, LEASE_S, TAKEOVER_S, share=CODES)
        leases.release(conn, a, {7: []}, now)
    held, fleet = _tick(engine, a, codes, now)
    assert fleet.share == 4 and 7 not in held  # over its share, and just released
    later = now + timedelta(seconds=3)
    with engine.begin() as conn:
        leases.announce(conn, b, later, LEASE_S)
    held, _ = _tick(engine, a, codes, later)
    assert 7 in held  # free for longer than the grace: someone must send for it


def test_the_last_windows_sends_travel_with_a_handed_back_code(engine, bu, clock, tmp_path):
    codes = _codes(engine, bu, clock, tmp_path)
    a, b = LeaseHolder("a", "pa"), LeaseHolder("b", "pb")
    now = clock.now()
    sends = [(now.timestamp() - 0.4, 1), (now.timestamp() - 0.1, 2)]
    with engine.begin() as conn:
        leases.renew_and_take(conn, a, codes[:1], now, LEASE_S, TAKEOVER_S)
        leases.release(conn, a, {1: sends}, now)
        taken = leases.renew_and_take(conn, b, codes[:1], now, LEASE_S, TAKEOVER_S)
    assert taken[1].handed_sends == tuple((round(t, 4), w) for t, w in sends)
    assert not taken[1].unclean and taken[1].fence == 2


def test_a_code_taken_from_a_vanished_holder_waits_a_window(engine, bu, clock, tmp_path):
    codes = _codes(engine, bu, clock, tmp_path)
    a, b = LeaseHolder("a", "pa"), LeaseHolder("b", "pb")
    now = clock.now()
    with engine.begin() as conn:
        leases.renew_and_take(conn, a, codes[:1], now, LEASE_S, TAKEOVER_S)
        assert leases.renew_and_take(conn, b, codes[:1], now, LEASE_S, TAKEOVER_S) == {}
        later = now + timedelta(seconds=LEASE_S)
        taken = leases.renew_and_take(conn, b, codes[:1], later, LEASE_S, TAKEOVER_S)
    assert taken[1].unclean and not taken[1].handed_sends


def test_a_claim_of_an_older_tenure_moves_nothing(engine, bu, clock, tmp_path):
    """A paused worker loses its code and takes it again: the lane of its first tenure (fence 1)
    must not claim, though the same process holds the code (under fence 3)."""
    _codes(engine, bu, clock, tmp_path)
    a, b = LeaseHolder("a", "pa"), LeaseHolder("b", "pb")
    now = clock.now()
    with engine.begin() as conn:
        first = leases.renew_and_take(conn, a, [1], now, LEASE_S, TAKEOVER_S)[1].fence
        assert leases.held_with_fence(conn, a, {1: first}, now) == {1}
        t1 = now + timedelta(seconds=LEASE_S)
        leases.renew_and_take(conn, b, [1], t1, LEASE_S, TAKEOVER_S)  # a was paused
        assert leases.held_with_fence(conn, a, {1: first}, t1) == set()
        leases.release(conn, b, {1: []}, t1)
        again = leases.renew_and_take(conn, a, [1], t1, LEASE_S, TAKEOVER_S)[1].fence
        assert again == first + 2
        assert leases.held_with_fence(conn, a, {1: first}, t1) == set()
        assert leases.held_with_fence(conn, a, {1: again}, t1) == {1}
        # An unexpired lease is required: a holder whose lease lapsed claims nothing.
        assert leases.held_with_fence(conn, a, {1: again}, t1 + timedelta(seconds=LEASE_S)) == set()


def test_two_takers_of_one_free_code_cannot_both_win(engine, bu, clock, tmp_path):
    _codes(engine, bu, clock, tmp_path)
    a, b, c = (LeaseHolder(w, f"p{w}") for w in ("a", "b", "c"))
    now = clock.now()
    with engine.begin() as conn:
        leases.renew_and_take(conn, a, [1], now, LEASE_S, TAKEOVER_S)
        leases.release(conn, a, {1: []}, now)
        row = conn.execute(transport_lease.select()).one()
        # b and c both read the released row; b's take lands first, c's finds the fence moved.
        assert leases._take(conn, b, [1], {1: row}, now, now + timedelta(seconds=LEASE_S))
        assert leases._take(conn, c, [1], {1: row}, now, now + timedelta(seconds=LEASE_S)) == {}
        assert outbox.take_leases(conn, [1], "b", now, now + timedelta(seconds=LEASE_S), "pb")


def test_a_worker_frozen_mid_transaction_does_not_keep_its_codes_past_the_bound(
        engine, bu, clock, tmp_path):
    """SIGSTOP (or a paused VM) between a renewal's statements and its commit: the rows it
    updated stay locked, and the worker taking over its lapsed codes waited for it to resume
    (a CI run of the three-worker test once timed out there). The server ends such a session
    after the bound, and the takeover goes on."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: a frozen one holds the whole file, whatever this does")
    codes = _codes(engine, bu, clock, tmp_path)
    a, b = LeaseHolder("a", "pa"), LeaseHolder("b", "pb")
    now = clock.now()
    _tick(engine, a, codes, now)
    end_idle_transactions_after(engine, 1.0)
    frozen = engine.connect()
    frozen.begin()
    assert len(leases.renew_and_take(frozen, a, codes, now + timedelta(seconds=1), LEASE_S,
                                     TAKEOVER_S)) == CODES  # ... and a freezes before COMMIT
    lapsed = now + timedelta(seconds=LEASE_S + 2)
    started = time.monotonic()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '30s'"))  # a failure, not a hang
        held_b = leases.renew_and_take(conn, b, codes, lapsed, LEASE_S, TAKEOVER_S)
    waited_s = time.monotonic() - started
    assert set(held_b) == set(codes), waited_s
    assert all(t.unclean for t in held_b.values())  # a never handed them back
    # a resumes: its session is gone, and so is the renewal it never committed.
    with pytest.raises(DBAPIError) as ended:
        frozen.execute(select(transport_lease.c.registration_id))
    assert ended.value.connection_invalidated
    frozen.close()
    with engine.connect() as conn:
        assert set(conn.scalars(select(transport_lease.c.worker_id))) == {"b"}
