"""Webhook events from the real flow: a dispatch over the bundled simulator (message.status,
skill.finished), inbound STOP / START / a reply (inbound.received, opt_out, opt_in), skills
started by a request, at their scheduled moment and by a recurring notice (skill.started),
delivered to a real receiver and verified with the documented recipe; another BU's URL gets none
of them."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from proactive_sms.services import (
    administration,
    lifecycle,
    notice_schedules,
    scheduled_starts,
    webhooks,
)
from proactive_sms.services.dispatch import Dispatcher
from proactive_sms.services.webhook_sender import WebhookSender
from proactive_sms.store.errors import NotFound
from proactive_sms.store.schema import message
from tests.factories import us_number
from tests.services.dispatch_world import FAST, ManualWallClock, World, until
from tests.webhook_receiver import Receiver, documented_verifier

verify = documented_verifier()


@pytest.fixture
def receivers():
    mine, theirs = Receiver().start(), Receiver().start()
    yield mine, theirs
    mine.stop()
    theirs.stop()


async def deliver_everything(world: World) -> None:
    sender = WebhookSender(world.engine, world.clock)
    while await sender.deliver_due():
        pass


def all_verified(receiver: Receiver, secret: str, world: World) -> bool:
    now = world.clock.now().timestamp()
    return all(verify(secret, d.headers, d.body, now=now)
               for d in receiver.deliveries)


async def test_a_dispatch_reports_each_texts_states_and_the_finished_skill(world, receivers):
    mine, theirs = receivers
    secret = webhooks.set_endpoint(world.engine, world.bu, world.clock, mine.url).secret
    other = administration.init(world.engine, world.clock, "acme", "collections", "US")
    webhooks.set_endpoint(world.engine, other, world.clock, theirs.url)
    world.connection()
    world.code("55501", rate=100)
    world.people("people", 5)
    skill_id = world.skill("notice", "55501", "people", "Shift open tonight.")
    await world.run_until_idle()
    await deliver_everything(world)

    assert all_verified(mine, secret, world)
    assert theirs.deliveries == []  # BU B's URL gets nothing of BU A
    with world.engine.connect() as conn:
        ids = set(conn.scalars(select(message.c.id).where(message.c.skill_id == skill_id)))
    statuses = [e["data"] for e in mine.events("message.status")]
    assert {d["message_id"] for d in statuses} == ids
    assert Counter(d["state"] for d in statuses) == {"sent": 5, "delivered": 5}
    sample = next(d for d in statuses if d["state"] == "delivered")
    assert sample["skill"] == "notice" and sample["code"] == "55501"
    assert sample["destination"].startswith("+1212")
    (finished,) = mine.events("skill.finished")
    assert finished["data"]["skill_id"] == skill_id
    assert sum(finished["data"]["messages_by_state"].values()) == 5
    assert set(finished["data"]["messages_by_state"]) <= {"sent", "delivered"}
    logged_ids = {i.event.public_id for i in webhooks.deliveries(
        world.engine, world.bu, limit=200).items}
    assert logged_ids == {e["id"] for e in mine.events()}
    assert all(i.event.state == "delivered" for i in webhooks.deliveries(
        world.engine, world.bu, limit=200).items)


def notice_to(world: World, url: str, people: int) -> int:
    """The BU's webhook at `url`, and a skill texting `people` people from 55501 (launched)."""
    webhooks.set_endpoint(world.engine, world.bu, world.clock, url)
    world.connection()
    world.code("55501", rate=100)
    world.people("people", people)
    return world.skill("notice", "55501", "people", "Shift open tonight.")


async def test_a_text_skipped_at_the_moment_of_sending_is_reported_with_its_reason(world,
                                                                                   receivers):
    mine, _ = receivers
    skill_id = notice_to(world, mine.url, 3)
    # on the DNC list after launch, before its turn: skipped when claimed, and reported
    administration.dnc_add(world.engine, world.bu, world.clock, [us_number(1)])
    await world.run_until_idle()
    await deliver_everything(world)
    skipped = [e["data"] for e in mine.events("message.status") if e["data"]["state"] == "skipped"]
    assert [(d["destination"], d["skip_reason"]) for d in skipped] == [("+1" + us_number(1), "dnc")]
    assert skipped[0]["skill_id"] == skill_id and "DNC" in skipped[0]["detail"]
    delivered = [e["data"] for e in mine.events("message.status")
                 if e["data"]["state"] == "delivered"]
    assert len(delivered) == 2 and {d["skip_reason"] for d in delivered} == {None}


async def test_a_stopped_skill_is_one_event_with_what_it_cancelled(world, receivers):
    mine, _ = receivers
    skill_id = notice_to(world, mine.url, 6)
    assert lifecycle.stop(world.engine, skill_id, world.clock) == 6
    await deliver_everything(world)
    (stopped,) = mine.events("skill.stopped")
    assert stopped["data"]["skill_id"] == skill_id and stopped["data"]["status"] == "stopped"
    assert stopped["data"]["cancelled"] == 6
    assert stopped["data"]["messages_by_state"] == {"cancelled": 6}
    assert mine.events("message.status") == []  # a stop is one event, not one per text


async def test_stop_start_and_a_reply_arrive_as_events(world, receivers):
    mine, _ = receivers
    secret = webhooks.set_endpoint(world.engine, world.bu, world.clock, mine.url).secret
    world.connection()
    world.code("2025550143", kind="long", rate=5)
    sender = "+1" + us_number(30)
    dispatcher = world.dispatcher()
    task = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(0.5)
    await world.sim.inject_inbound(sender, "12025550143", "STOP")
    await asyncio.sleep(0.5)
    await world.sim.inject_inbound(sender, "12025550143", "START")
    await asyncio.sleep(0.5)
    await world.sim.inject_inbound(sender, "12025550143", "Is the shift still open?")
    await asyncio.sleep(1.0)
    dispatcher.stop()
    await task
    await deliver_everything(world)

    assert all_verified(mine, secret, world)
    # delivered concurrently, so in no particular order
    received = sorted((e["data"] for e in mine.events("inbound.received")),
                      key=lambda d: d["inbound_id"])
    assert [(d["text"], d["classification"]) for d in received] == [
        ("STOP", "opt_out"), ("START", "opt_in"), ("Is the shift still open?", "reply")]
    assert {d["from"] for d in received} == {sender}
    assert {d["code"] for d in received} == {"+12025550143"}
    (opt_out,) = mine.events("opt_out")
    (opt_in,) = mine.events("opt_in")
    assert opt_out["data"]["phone"] == sender == opt_in["data"]["phone"]
    assert opt_out["data"]["dnc_list"] == "default"
    assert opt_out["data"]["inbound_id"] == received[0]["inbound_id"]
    # the confirmations are texts too: their states are reported
    kinds = Counter((e["data"]["kind"], e["data"]["state"]) for e in mine.events("message.status"))
    assert kinds[("opt_out_confirmation", "sent")] == 1
    assert kinds[("opt_in_confirmation", "sent")] == 1


async def test_skills_started_by_a_request_and_by_schedules_say_what_started_them(world,
                                                                                  receivers):
    mine, theirs = receivers
    clock = ManualWallClock(datetime(2027, 1, 4, 14, 55, tzinfo=UTC))  # Monday 08:55, Chicago
    world.clock = clock
    secret = webhooks.set_endpoint(world.engine, world.bu, clock, mine.url).secret
    other = administration.init(world.engine, clock, "acme", "collections", "US")
    webhooks.set_endpoint(world.engine, other, clock, theirs.url)
    world.connection()
    world.code("55501", rate=100)
    world.people("people", 3)
    by_hand = world.skill("by-hand", "55501", "people", "Shift open tonight.")
    administration.create_skill(world.engine, world.bu, clock, name="tips",
                                registration="55501", calling_list="people")
    scheduled_starts.schedule(world.engine, world.bu, clock, "tips", "2027-01-04T09:00",
                              "America/Chicago", message_text="New tip received.")
    administration.save_template(world.engine, world.bu, clock, "tip",
                                 "Hi {FirstName}, new tip.", calling_list="people")
    notice_schedules.create(world.engine, world.bu, clock, name="daily", template="tip",
                            calling_list="people", registration="55501", every="weekday",
                            at="09:00", time_zone="America/Chicago")
    dispatcher = Dispatcher(world.engine, clock, dataclasses.replace(FAST, schedule_check_s=0.1))
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        await asyncio.sleep(0.5)  # checked, not yet due: nothing starts before its moment
        await deliver_everything(world)
        assert [e["data"]["skill"] for e in mine.events("skill.started")] == ["by-hand"]
        clock.set(datetime(2027, 1, 4, 15, 0, tzinfo=UTC))

        def both_started() -> bool:
            try:  # the run's skill is made when its occurrence fires
                return all(administration.find_skill(world.engine, world.bu, name).status.value
                           in ("running", "finished")
                           for name in ("tips", "daily-20270104-0900"))
            except NotFound:
                return False

        await until(both_started, 30)
    finally:
        stop.set()
        await task
    await deliver_everything(world)

    assert all_verified(mine, secret, world)
    assert theirs.deliveries == []  # another unit's URL hears nothing of these starts
    started = {e["data"]["skill"]: e["data"] for e in mine.events("skill.started")}
    assert set(started) == {"by-hand", "tips", "daily-20270104-0900"}  # one event each
    assert len(mine.events("skill.started")) == 3
    hand = started["by-hand"]
    assert (hand["skill_id"], hand["kind"], hand["status"]) == (by_hand, "agentless_sms",
                                                                 "launching")
    assert (hand["trigger"], hand["scheduled_for"], hand["schedule"]) == ("request", None, None)
    tips = started["tips"]
    assert (tips["trigger"], tips["scheduled_for"], tips["time_zone"], tips["schedule"]) == (
        "scheduled_start", "2027-01-04T15:00:00Z", "America/Chicago", None)
    assert tips["started_at"] == "2027-01-04T15:00:00Z"
    run = started["daily-20270104-0900"]
    assert (run["trigger"], run["scheduled_for"], run["time_zone"], run["schedule"]) == (
        "schedule", "2027-01-04T15:00:00Z", "America/Chicago", "daily")
