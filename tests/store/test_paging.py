"""Keyset pages in the store, on every backend: every row once, in id order, scoped."""

from __future__ import annotations

from proactive_sms.services import administration
from proactive_sms.store import dnc, skills


def _walk(fetch, limit):
    seen, after, pages = [], 0, 0
    while True:
        page = fetch(after, limit)
        seen += page.items
        pages += 1
        if not page.more:
            return seen, pages
        after = page.last_id


def test_pages_of_entries_hold_every_row_once_in_order(engine, bu, clock):
    numbers = [f"+1212555{i:04d}" for i in range(23)]
    with engine.begin() as conn:
        target = dnc.find_list(conn, bu.tenant_id)
        dnc.add_numbers(conn, target.id, numbers, "manual", "", clock.now())
    with engine.connect() as conn:
        seen, pages = _walk(lambda after, limit: dnc.page_entries(conn, target.id, after, limit),
                            5)
    assert [e.phone for e in seen] == numbers and pages == 5


def test_an_exact_last_page_says_there_is_no_more(engine, bu, clock):
    for name in ("a", "b", "c", "d"):
        administration.create_campaign(engine, bu, clock, name)
    with engine.connect() as conn:
        first = skills.page_campaigns(conn, bu.id, 0, 4)
        assert [c.name for c in first.items] == ["a", "b", "c", "d"] and not first.more
        assert skills.page_campaigns(conn, bu.id, first.last_id, 4).items == []


def test_pages_are_scoped_to_the_business_unit(engine, bu, clock):
    other = administration.init(engine, clock, "acme", "collections", "US")
    administration.create_campaign(engine, bu, clock, "mine")
    administration.create_campaign(engine, other, clock, "theirs")
    with engine.connect() as conn:
        assert [c.name for c in skills.page_campaigns(conn, bu.id, 0, 10).items] == ["mine"]


def test_add_entries_keeps_each_numbers_first_note(engine, bu, clock):
    with engine.begin() as conn:
        target = dnc.find_list(conn, bu.tenant_id)
        added = dnc.add_entries(conn, target.id, [("+12125550100", "first"),
                                                  ("+12125550100", "second"),
                                                  ("+12125550101", "")], "import", clock.now())
        again = dnc.add_entries(conn, target.id, [("+12125550101", "later")], "import",
                                clock.now())
        entries = {e.phone: e.note for e in dnc.entries(conn, target.id)}
    assert (added, again) == (2, 0)
    assert entries == {"+12125550100": "first", "+12125550101": ""}
