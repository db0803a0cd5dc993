"""Tracked links: replaced at launch only with a link domain, one short link per recipient,
clicks counted once per recipient (bots never), forged and expired codes refused, CTR."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from proactive_sms.domain import short_links
from proactive_sms.services import (
    administration,
    dry_run,
    launching,
    link_clicks,
    previews,
    reporting,
    tracked_links,
    webhooks,
)
from proactive_sms.services.webhook_sender import WebhookSender
from proactive_sms.store.schema import link_click, message, skill
from tests.factories import import_people, registration
from tests.factories import skill as make_skill
from tests.webhook_receiver import receiver_fixture  # noqa: F401 - the `receiver` fixture

DOMAIN = "https://go.example.com"
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
WHATSAPP = "WhatsApp/2.23.20.0 A"
SHORT = re.compile(re.escape(DOMAIN) + r"/l/([0-9A-Za-z]{17})")


def _launch(engine, bu, clock, tmp_path, text, count=3, domain=DOMAIN):
    if domain:
        bu = administration.set_link_domain(engine, bu, domain)
    import_people(engine, bu, clock, tmp_path, count)
    registration(engine, bu, clock)
    created = make_skill(engine, bu, clock)
    launching.start_skill(engine, created.id, clock, message_text=text)
    with engine.connect() as conn:
        rows = conn.execute(select(message.c.record_id, message.c.body, message.c.segments)
                            .where(message.c.skill_id == created.id)
                            .order_by(message.c.record_id)).all()
    return bu, created, rows


def _code(body: str) -> str:
    found = SHORT.search(body)
    assert found, body
    return found.group(1)


def test_a_launch_replaces_each_url_by_a_short_link_unique_to_the_recipient(
        engine, bu, clock, tmp_path):
    _, created, rows = _launch(engine, bu, clock, tmp_path,
                               "Hi {FirstName}, pay at https://pay.example.org/x?a=1. "
                               "Help: {Link:https://help.example.org}")
    codes = set()
    for row in rows:
        assert "pay.example.org" not in row.body and "help.example.org" not in row.body
        links = SHORT.findall(row.body)
        assert len(links) == 2
        codes.update(links)
        assert row.body.startswith("Hi Ann") and ". Help: " in row.body  # the period stays
    assert len(codes) == 2 * len(rows)
    with engine.connect() as conn:
        assert tracked_links.link_store.targets(conn, created.id) == (
            "https://pay.example.org/x?a=1", "https://help.example.org")


def test_without_a_link_domain_the_text_keeps_its_urls(engine, bu, clock, tmp_path):
    _, _, rows = _launch(engine, bu, clock, tmp_path,
                         "Pay at https://pay.example.org/x {Link:https://help.example.org}",
                         domain=None)
    assert {row.body for row in rows} == {
        "Pay at https://pay.example.org/x https://help.example.org"}


def test_the_segment_estimate_counts_the_short_link(engine, bu, clock, tmp_path):
    # 150 characters with the long URL (one segment); the short link makes it longer than 160
    long_url = "https://x.example.org/" + "p" * 5
    text = "A" * (150 - len(long_url) - 1) + " " + long_url
    assert len(text) == 150
    bu = administration.set_link_domain(engine, bu, DOMAIN)
    import_people(engine, bu, clock, tmp_path, 2)
    registration(engine, bu, clock)
    created = make_skill(engine, bu, clock)
    planned = dry_run.dry_run(engine, created.id, clock, message_text=text)
    expected = len(text) - len(long_url) + short_links.short_url_length(DOMAIN)
    assert expected > 160
    assert planned.segments == 2 * 2  # two records, two segments each
    launching.start_skill(engine, created.id, clock, message_text=text)
    with engine.connect() as conn:
        bodies = conn.execute(select(message.c.body, message.c.segments)
                              .where(message.c.skill_id == created.id)).all()
    assert {(len(b.body), b.segments) for b in bodies} == {(expected, 2)}


def test_a_click_is_stored_once_per_recipient_and_counted(engine, bu, clock, tmp_path):
    _, created, rows = _launch(engine, bu, clock, tmp_path, "See https://x.example.org/a")
    redirects = link_clicks.LinkRedirects(engine, clock)
    code = _code(rows[0].body)
    first = redirects.click(code, PHONE)
    assert first.target == "https://x.example.org/a" and first.first and first.counted
    clock.advance(300)
    again = redirects.click(code, DESKTOP)
    assert again.counted and not again.first
    with engine.connect() as conn:
        stored = conn.execute(select(link_click)).all()
    assert len(stored) == 1
    assert (stored[0].record_id, stored[0].clicks, stored[0].agent_class) == (
        rows[0].record_id, 2, "mobile")


def test_a_link_preview_bot_is_redirected_but_not_counted(engine, bu, clock, tmp_path):
    _, created, rows = _launch(engine, bu, clock, tmp_path, "See https://x.example.org/a")
    redirects = link_clicks.LinkRedirects(engine, clock)
    for agent in (WHATSAPP, "facebookexternalhit/1.1 Facebot Twitterbot/1.0",
                  "TelegramBot (like TwitterBot)"):
        click = redirects.click(_code(rows[0].body), agent)
        assert click.target == "https://x.example.org/a" and not click.counted
    with engine.connect() as conn:
        assert conn.execute(select(link_click)).all() == []


@pytest.mark.parametrize("mangle", [
    lambda code: code[:-1] + ("0" if code[-1] != "0" else "1"),  # one character mistyped
    lambda code: code[:-1],  # too short
    lambda code: "Z" * 17,  # made up
    lambda code: code[:5] + "-" + code[6:],  # not base62
])
def test_a_wrong_or_forged_code_leads_nowhere(engine, bu, clock, tmp_path, mangle):
    _, created, rows = _launch(engine, bu, clock, tmp_path, "See https://x.example.org/a",
                               count=1)
    redirects = link_clicks.LinkRedirects(engine, clock)
    assert redirects.click(mangle(_code(rows[0].body)), PHONE) is None
    # a code made with another key, for a real skill and record, is refused as well
    forged = short_links.make_code(b"not our key", created.id, rows[0].record_id, 0)
    assert redirects.click(forged, PHONE) is None
    with engine.connect() as conn:
        assert conn.execute(select(link_click)).all() == []


def test_a_link_of_a_skill_finished_long_ago_has_expired(engine, bu, clock, tmp_path):
    _, created, rows = _launch(engine, bu, clock, tmp_path, "See https://x.example.org/a",
                               count=1)
    with engine.begin() as conn:
        conn.execute(update(skill).where(skill.c.id == created.id)
                     .values(status="finished", finished_at=clock.now()))
    code = _code(rows[0].body)
    clock.advance(timedelta(days=29).total_seconds())
    assert link_clicks.LinkRedirects(engine, clock, expiry_days=30).click(code, PHONE)
    clock.advance(timedelta(days=2).total_seconds())
    assert link_clicks.LinkRedirects(engine, clock, expiry_days=30).click(code, PHONE) is None


def test_the_report_gives_clicks_unique_clickers_and_click_through_rate(
        engine, bu, clock, tmp_path):
    bu, created, rows = _launch(engine, bu, clock, tmp_path, "See https://x.example.org/a",
                                count=4)
    with engine.begin() as conn:  # as receipts would: every text delivered
        conn.execute(update(message).where(message.c.skill_id == created.id)
                     .values(state="delivered", sent_at=clock.now(), finished_at=clock.now()))
    redirects = link_clicks.LinkRedirects(engine, clock)
    redirects.click(_code(rows[0].body), PHONE)
    redirects.click(_code(rows[0].body), PHONE)
    redirects.click(_code(rows[1].body), DESKTOP)
    redirects.click(_code(rows[2].body), WHATSAPP)  # a preview, not a click
    report = reporting.skill_report(engine, bu, created.name)
    assert (report.clicks, report.unique_clickers) == (3, 2)
    delivered = report.by_state["delivered"]
    assert delivered == 4
    assert report.click_through_rate == pytest.approx(2 / 4)
    assert report.as_dict()["click_through_rate"] == pytest.approx(0.5)


async def test_the_first_click_of_a_recipient_is_a_message_clicked_event(
        engine, bu, clock, tmp_path, receiver):
    webhooks.set_endpoint(engine, bu, clock, receiver.url)
    _, created, rows = _launch(engine, bu, clock, tmp_path, "See https://x.example.org/a",
                               count=1)
    redirects = link_clicks.LinkRedirects(engine, clock)
    redirects.click(_code(rows[0].body), WHATSAPP)  # a preview: no event
    redirects.click(_code(rows[0].body), PHONE)
    redirects.click(_code(rows[0].body), PHONE)  # counted, no second event
    await WebhookSender(engine, clock).deliver_due()
    (event,) = receiver.events("message.clicked")
    with engine.connect() as conn:
        message_id = conn.scalar(select(message.c.id).where(message.c.skill_id == created.id))
    assert event["data"]["message_id"] == message_id
    assert event["data"]["url"] == "https://x.example.org/a"
    assert event["data"]["agent_class"] == "mobile" and event["data"]["skill"] == created.name


def test_the_preview_shows_a_sample_short_link_of_the_real_length(engine, bu, clock):
    plain = previews.preview(engine, bu, "Pay at https://pay.example.org/invoice/2026/03")
    assert plain.rendered == "Pay at https://pay.example.org/invoice/2026/03"
    bu = administration.set_link_domain(engine, bu, DOMAIN)
    shown = previews.preview(engine, bu, "Pay at https://pay.example.org/invoice/2026/03")
    assert SHORT.fullmatch(shown.rendered[len("Pay at "):])
    assert shown.report.units == len("Pay at ") + short_links.short_url_length(DOMAIN)


def test_clicks_written_together_count_each_and_one_first_per_recipient(
        engine, bu, clock, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    _, created, rows = _launch(engine, bu, clock, tmp_path, "See https://x.example.org/a",
                               count=3)
    redirects = link_clicks.LinkRedirects(engine, clock)
    codes = [_code(row.body) for row in rows]
    wanted = [codes[0]] * 20 + [codes[1]] * 5  # the third recipient never clicks
    with ThreadPoolExecutor(12) as pool:
        clicks = list(pool.map(lambda code: redirects.click(code, PHONE), wanted))
    assert all(c.counted for c in clicks)
    assert sum(c.first for c in clicks) == 2
    with engine.connect() as conn:
        stored = {r.record_id: r.clicks for r in conn.execute(select(link_click))}
    assert stored == {rows[0].record_id: 20, rows[1].record_id: 5}


def test_a_cadence_sms_step_texts_a_tracked_link_that_redirects(engine, bu, clock, tmp_path):
    from proactive_sms.services import cadences, importing
    from tests.factories import person, write_csv

    bu = administration.set_link_domain(engine, bu, DOMAIN)
    path = write_csv(tmp_path / "customers.csv", [person(0), person(1)])
    importing.import_calling_list(engine, bu, "customers", path, clock)
    administration.add_registration(engine, bu, clock, code="55502", kind="short",
                                    throughput_per_s=50, connection=None, dnc_group=None)
    administration.save_template(engine, bu, clock, "book",
                                 "Hi {FirstName}, book a slot: {Link:https://cal.example.org}")
    created = administration.create_skill(engine, bu, clock, name="sales",
                                          registration="55502", calling_list="customers",
                                          kind="agent")
    cadences.define(engine, bu, clock, "sales", {"steps": [{"channel": "sms",
                                                            "template": "book"}]})
    launching.start_skill(engine, created.id, clock)
    with engine.connect() as conn:
        bodies = conn.execute(select(message.c.body).where(message.c.skill_id == created.id)
                              ).scalars().all()
    assert len(bodies) == 2 and all(SHORT.search(b) for b in bodies)
    click = link_clicks.LinkRedirects(engine, clock).click(_code(bodies[0]), PHONE)
    assert click.target == "https://cal.example.org" and click.first
