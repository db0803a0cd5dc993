"""store.versions: two edits from the same read, made at the same time in two transactions, end
with exactly one applied; the other is StaleVersion (the API's 412), never a lost update."""

from __future__ import annotations

import threading

import pytest

from proactive_sms.store import skills, versions
from proactive_sms.store.errors import NotFound, StaleVersion
from proactive_sms.store.schema import campaign


def test_concurrent_edits_from_one_version_one_wins(engine, bu, clock):
    with engine.begin() as conn:
        made = skills.create_campaign(conn, bu.id, "spring", clock.now())
    first_holds = threading.Event()
    outcome: dict[str, object] = {}

    def second() -> None:
        first_holds.wait()
        try:
            with engine.begin() as conn:  # waits for the first transaction's row lock
                versions.change(conn, campaign, made.id, 1, "campaign", "spring",
                                name="autumn")
            outcome["second"] = "applied"
        except StaleVersion as exc:
            outcome["second"] = exc

    thread = threading.Thread(target=second)
    thread.start()
    with engine.begin() as conn:
        assert versions.change(conn, campaign, made.id, 1, "campaign", "spring",
                               name="summer") == 2
        first_holds.set()
        thread.join(timeout=0.5)  # still blocked: the first has not committed
        assert thread.is_alive()
    thread.join(timeout=30)
    refused = outcome["second"]
    assert isinstance(refused, StaleVersion), refused
    assert (refused.expected, refused.current) == (1, 2)
    with engine.connect() as conn:
        kept = skills.campaign_by_id(conn, made.id)
    assert (kept.name, kept.version) == ("summer", 2)


def test_without_an_expected_version_the_last_writer_wins(engine, bu, clock):
    with engine.begin() as conn:
        made = skills.create_campaign(conn, bu.id, "spring", clock.now())
        versions.change(conn, campaign, made.id, None, "campaign", "spring", name="a")
        assert versions.change(conn, campaign, made.id, None, "campaign", "a", name="b") == 3


def test_a_removed_row_is_not_found_not_stale(engine, bu, clock):
    with engine.begin() as conn:
        made = skills.create_campaign(conn, bu.id, "spring", clock.now())
        versions.remove(conn, campaign, made.id, 1, "campaign", "spring")
        with pytest.raises(NotFound):
            versions.change(conn, campaign, made.id, 1, "campaign", "spring", name="x")
