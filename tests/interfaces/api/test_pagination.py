"""Every list endpoint pages by cursor: walked page by page it shows every item once, with no
gap; a bad cursor or limit is a 422 problem naming it."""

from __future__ import annotations

import pytest

from proactive_sms.services import administration
from tests.factories import import_people, person
from tests.interfaces.api.conftest import csv_bytes, upload
from tests.interfaces.api.worlds import reply, texted_skill

N = 7


@pytest.fixture
def world(client, key_a, engine, bu, clock, tmp_path):
    """N of everything in BU A."""
    texted_skill(engine, bu, clock, tmp_path, N)
    for i in range(1, N):
        administration.add_registration(engine, bu, clock, code=f"5560{i}", kind="short",
                                        throughput_per_s=10, connection=None, dnc_group=None)
        import_people(engine, bu, clock, tmp_path, 1, name=f"list-{i}")
        administration.create_skill(engine, bu, clock, name=f"skill-{i}", registration="55501",
                                    calling_list="people")
        administration.dnc_add(engine, bu, clock, [f"212555{i:04d}"], group=f"group-{i}")
        administration.add_connection(engine, bu, clock, f"conn-{i}", "127.0.0.1", 2775,
                                      "psms", "secret")
    administration.add_connection(engine, bu, clock, "conn-0", "127.0.0.1", 2775, "psms", "x")
    for i in range(N):
        administration.save_template(engine, bu, clock, f"t-{i}", "Hi {FirstName}")
        administration.create_campaign(engine, bu, clock, f"c-{i}")
        administration.dnc_add(engine, bu, clock, [f"212666{i:04d}"])
        reply(engine, clock, i, "Can I pay next week?")
    return client


LISTS = [
    ("/v1/registrations", "code"),
    ("/v1/calling-lists", "name"),
    ("/v1/calling-lists/people/records", "external_id"),
    ("/v1/templates", "name"),
    ("/v1/skills", "name"),
    ("/v1/campaigns", "name"),
    ("/v1/messages", "id"),
    ("/v1/inbound-texts", "id"),
    ("/v1/conversations", "id"),
    ("/v1/dnc/lists", "name"),
    ("/v1/dnc/lists/default/entries", "number"),
    ("/v1/connections", "name"),
]


def walk(client, headers, path, limit, **params):
    items, cursor, pages = [], None, 0
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, headers=headers, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


@pytest.mark.parametrize(("path", "key"), LISTS)
def test_walking_the_pages_shows_every_item_once(world, key_a, path, key):
    whole = world.get(path, headers=key_a).json()  # one page of the default limit (100)
    assert len(whole["items"]) == N and whole["next_cursor"] is None
    items, pages = walk(world, key_a, path, 3)
    assert pages == 3  # 3 + 3 + 1
    assert [i[key] for i in items] == [i[key] for i in whole["items"]]  # same order, no gap
    assert len({i[key] for i in items}) == N  # no duplicate


def test_a_page_exactly_full_ends_the_walk(world, key_a):
    items, pages = walk(world, key_a, "/v1/templates", N)
    assert len(items) == N and pages in (1, 2)
    assert world.get("/v1/templates", headers=key_a, params={"limit": N}).json()[
        "next_cursor"] is None


@pytest.mark.parametrize("cursor", ["nonsense", "YWZ0ZXI6", "YWZ0ZXI6LTE", "%%%", "x" * 99])
def test_a_bad_cursor_is_a_problem_naming_cursor(client, key_a, cursor):
    response = client.get("/v1/templates", headers=key_a, params={"cursor": cursor})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("limit", ["0", "501", "-3", "many"])
def test_a_bad_limit_is_a_problem_naming_limit(client, key_a, limit):
    response = client.get("/v1/skills", headers=key_a, params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


def test_a_cursor_keeps_its_place_when_items_are_added(client, key_a, engine, bu, clock):
    for i in range(4):
        administration.create_campaign(engine, bu, clock, f"c-{i}")
    first = client.get("/v1/campaigns", headers=key_a, params={"limit": 2}).json()
    administration.create_campaign(engine, bu, clock, "late")
    rest, _ = walk(client, key_a, "/v1/campaigns", 2, cursor=first["next_cursor"])
    names = [c["name"] for c in first["items"]] + [c["name"] for c in rest]
    assert names == ["c-0", "c-1", "c-2", "c-3", "late"]


def test_records_of_a_list_are_its_own(client, key_a):
    upload(client, key_a, "one", csv_bytes([person(1), person(2)]))
    upload(client, key_a, "two", csv_bytes([person(3)]))
    records = client.get("/v1/calling-lists/two/records", headers=key_a).json()["items"]
    assert [r["external_id"] for r in records] == ["C000003"]
    assert records[0]["fields"]["FirstName"] == "Ann3"
    assert records[0]["sms_destination"].startswith("+1212")
