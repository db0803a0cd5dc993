"""`/l/{code}` over HTTP: 302 without a key, the same 404 for every wrong code; the BU's link
domain through /v1/business-unit; clicks in the skill report."""

from __future__ import annotations

import re

from sqlalchemy import select

from proactive_sms.domain import short_links
from proactive_sms.services import launching
from proactive_sms.store.schema import link_click, message
from tests.factories import import_people, registration, skill

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Mobile Safari/537.36"


def _launch(client, key_a, engine, bu, clock, tmp_path):
    answer = client.patch("/v1/business-unit", json={"link_domain": "go.example.com"},
                          headers=key_a)
    assert answer.status_code == 200, answer.text
    assert answer.json()["link_domain"] == "https://go.example.com"
    import_people(engine, bu, clock, tmp_path, 2)
    registration(engine, bu, clock)
    created = skill(engine, bu, clock)
    launching.start_skill(engine, created.id, clock,
                          message_text="Hi {FirstName}: https://shop.example.org/deal")
    with engine.connect() as conn:
        bodies = conn.execute(select(message.c.body).where(message.c.skill_id == created.id)
                              ).scalars().all()
    return created, [re.search(r"https://go\.example\.com(/l/\w+)", b).group(1) for b in bodies]


def test_a_short_link_redirects_without_a_key_and_counts_the_click(
        client, key_a, engine, bu, clock, tmp_path):
    created, paths = _launch(client, key_a, engine, bu, clock, tmp_path)
    answer = client.get(paths[0], headers={"User-Agent": PHONE}, follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == "https://shop.example.org/deal"
    assert answer.headers["cache-control"] == "no-store"
    client.get(paths[0], headers={"User-Agent": PHONE}, follow_redirects=False)
    with engine.connect() as conn:
        (row,) = conn.execute(select(link_click)).all()
    assert row.clicks == 2 and row.agent_class == "mobile"
    report = client.get(f"/v1/skills/{created.name}/report", headers=key_a).json()
    assert (report["clicks"], report["unique_clickers"]) == (2, 1)
    as_csv = client.get(f"/v1/skills/{created.name}/report?format=csv", headers=key_a).text
    assert "clicks,,2" in as_csv and "unique_clickers,,1" in as_csv


def test_every_wrong_code_gets_the_same_404(client, key_a, engine, bu, clock, tmp_path):
    created, paths = _launch(client, key_a, engine, bu, clock, tmp_path)
    code = paths[0][len("/l/"):]
    forged = short_links.make_code(b"guess", created.id, 1, 0)
    answers = [client.get(f"/l/{c}", follow_redirects=False)
               for c in (code[:-1] + ("a" if code[-1] != "a" else "b"), forged, "x", "0" * 17,
                         code + "0")]
    assert {a.status_code for a in answers} == {404}
    assert len({(a.text, tuple(sorted(a.headers.items()))) for a in answers}) == 1
    assert "short" not in answers[0].text.lower() and "expired" not in answers[0].text.lower()
    with engine.connect() as conn:
        assert conn.execute(select(link_click)).all() == []


def test_a_link_domain_with_a_path_is_refused(client, key_a):
    answer = client.patch("/v1/business-unit",
                          json={"link_domain": "https://go.example.com/x"}, headers=key_a)
    assert answer.status_code == 422 and "link_domain" in answer.text
    assert client.get("/v1/business-unit", headers=key_a).json()["link_domain"] is None
