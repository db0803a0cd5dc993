"""A code's lease names its process, not only its worker id: a second live process with the same
worker id is refused, a restarted one (the old process silent) takes the code back within
restart_takeover_s, and claims of a process that lost the lease move nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from proactive_sms.store import outbox
from proactive_sms.store.schema import transport_lease
from tests.factories import launched_skill

LEASE_S, TAKEOVER_S = 15, 5

# (case, steps: (seconds after the start, worker id, process token, expected to own the code))
CASES = [
    ("a second live process with the same worker id is refused",
     [(0, "w1", "p1", True), (1, "w1", "p2", False), (1.5, "w1", "p1", True),
      (4, "w1", "p2", False), (5, "w1", "p1", True), (9, "w1", "p2", False)]),
    ("a restarted worker takes its code back once the old process has been silent a while",
     [(0, "w1", "p1", True), (2, "w1", "p2", False), (TAKEOVER_S + 0.5, "w1", "p2", True),
      (TAKEOVER_S + 1, "w1", "p1", False)]),
    ("another worker waits for the whole lease to lapse",
     [(0, "w1", "p1", True), (TAKEOVER_S + 1, "w2", "p9", False), (LEASE_S, "w2", "p9", True),
      (LEASE_S + 1, "w1", "p1", False)]),
    ("the holder renews as long as it lives",
     [(0, "w1", "p1", True), (10, "w1", "p1", True), (20, "w1", "p1", True),
      (24, "w2", "p9", False)]),
]


@pytest.mark.parametrize("steps", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_a_lease_is_held_by_one_live_process(engine, bu, clock, tmp_path, steps):
    launched_skill(engine, bu, clock, tmp_path, 1)
    start = clock.now()
    fences = []
    for seconds, worker, token, owns in steps:
        now = start + timedelta(seconds=seconds)
        with engine.begin() as conn:
            got = outbox.take_leases(conn, [1], worker, now, now + timedelta(seconds=LEASE_S),
                                     token, TAKEOVER_S)
            fences.append(conn.scalar(select(transport_lease.c.fence)))
        assert (1 in got) == owns, (seconds, worker, token)
    holders = [(w, t) for _, w, t, owns in steps if owns]
    changes = sum(1 for a, b in zip(holders, holders[1:], strict=False) if a != b)
    assert fences[-1] == 1 + changes  # raised at each change of holder, not at renewals


def test_a_process_that_lost_its_lease_claims_nothing(engine, bu, clock, tmp_path):
    launched_skill(engine, bu, clock, tmp_path, 4)
    now = clock.now()
    first, second = outbox.LeaseHolder("w1", "p1"), outbox.LeaseHolder("w1", "p2")
    with engine.begin() as conn:
        assert outbox.take_leases(conn, [1], "w1", now, now + timedelta(seconds=LEASE_S), "p1")
        items = outbox.fetch_pending(conn, 1, 0, 4, now)
        assert len(outbox.claim(conn, items[:2], 1, now, lease=first).claimed) == 2
        # p1 stalls past the takeover time; p2 (a restart, as far as the store can tell) takes
        # the code, and p1's next claim is refused before it has even noticed.
        later = now + timedelta(seconds=TAKEOVER_S + 1)
        assert outbox.take_leases(conn, [1], "w1", later, later + timedelta(seconds=LEASE_S),
                                  "p2", TAKEOVER_S)
        lost = outbox.claim(conn, items[2:], 1, later, lease=first)
        assert lost.claimed == set() and lost.gone == {i.id for i in items[2:]}
        assert outbox.claim(conn, items[2:], 1, later, lease=second).claimed == {
            i.id for i in items[2:]}
