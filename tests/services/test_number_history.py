"""A number's history tells every decision taken about it, in order (issue 19, "why")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from proactive_sms.domain.number_visibility import Reader
from proactive_sms.services import administration, number_history
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.store.errors import NotFound
from tests.services import number_story
from tests.services.dispatch_world import ManualWallClock, World, simulator

STORY_KINDS = [
    ("imported", None), ("skipped", "shortie"), ("queued", "notice"), ("waited", "notice"),
    ("received", None), ("held", "notice"), ("reviewed", None), ("submitted", "notice"),
    ("accepted", "notice"), ("receipt", "notice"), ("received", "notice"),
    ("dnc_added", None), ("queued", None), ("received", "notice"), ("dnc_removed", None),
    ("queued", None),
]


@pytest.fixture
async def story(engine, bu, tmp_path):
    return await number_story.tell(engine, bu, tmp_path)


async def test_the_history_of_a_number_tells_every_decision_in_order(engine, bu, story):
    history = number_history.number_history(engine, bu, story.local, Reader.SUPERVISOR)

    assert history.number == story.number and not history.masked
    got = [(e.kind.value, e.skill) for e in history.events]
    assert got == STORY_KINDS, "\n".join(f"{e.at} {e.kind} {e.summary}" for e in history.events)
    said = [e.summary for e in history.events]
    assert said[0].startswith("imported into calling list 'people' from line 2, record C000000")
    assert "the text is longer than the skill allows" in said[1]
    assert "until 2026-01-14T13:00:00+00:00" in said[3]  # 08:00 in New York
    assert said[5].startswith("held: a possible opt-out")
    assert said[6].startswith("review rejected")
    assert "through connection 'sim'" in said[7]
    assert said[9] == "receipt: delivered"
    assert "an opt-out keyword" in said[10]
    assert said[11] == ("put on DNC list 'default' by an opt-out reply "
                        f"(inbound #{history.events[10].details['inbound_id']}: STOP)")
    assert said[12] == "an opt-out confirmation queued on code 55501"
    assert said[14] == "taken off DNC list 'default' by an opt-in reply"
    times = [e.at for e in history.events]
    assert times == sorted(times)


async def test_a_review_hold_is_written_once_however_often_it_is_rechecked(story):
    assert story.waits_after_rechecks == 2  # the window's wait and the first hold


async def test_the_history_narrowed_to_one_skill_leaves_the_other_out(engine, bu, story):
    history = number_history.number_history(engine, bu, story.number, Reader.SUPERVISOR,
                                            skill="shortie")
    assert [e.kind.value for e in history.events] == ["imported", "skipped", "dnc_added",
                                                      "dnc_removed"]


async def test_readers_who_may_not_see_numbers_get_them_masked(engine, bu, story):
    for reader, full in [(Reader.SUPERVISOR, True), (Reader.API_KEY, True),
                         (Reader.COMMAND_LINE_REVEALED, True), (Reader.ADMIN, True),
                         (Reader.AGENT, False), (Reader.COMMAND_LINE, False)]:
        history = number_history.number_history(engine, bu, story.number, reader)
        shown = story.number if full else "+1******" + story.number[-4:]
        assert history.number == shown and history.masked is not full
        assert history.events[0].details["number"] == shown
        everything = repr([(e.summary, e.details) for e in history.events])
        assert (story.number in everything) is full


async def test_another_unit_sees_an_empty_history(engine, clock, story):
    neighbour = administration.init(engine, clock, "acme", "collections", "US")
    assert number_history.number_history(engine, neighbour, story.number,
                                         Reader.SUPERVISOR).events == []


def test_a_value_that_is_no_number_or_an_unknown_skill_is_refused(engine, bu):
    with pytest.raises(InvalidRequest, match="'12ab' is not a phone number"):
        number_history.number_history(engine, bu, "12ab", Reader.SUPERVISOR)
    with pytest.raises(NotFound, match="no skill 'nope'"):
        number_history.number_history(engine, bu, "2125550100", Reader.SUPERVISOR,
                                      skill="nope")


async def test_a_text_held_by_a_frequency_cap_says_so_and_until_when(engine, bu, tmp_path):
    clock = ManualWallClock(number_story.MORNING + timedelta(hours=1))  # Miami 09:30
    sim = simulator()
    try:
        world = World(engine, bu, sim, tmp_path, clock)
        world.connection()
        world.code("55501", rate=100)
        world.people("people", 1, area="305", PostalCode="33101")  # Florida: 3 texts a day
        for n in range(4):
            world.skill(f"s{n}", "55501", "people", f"Notice {n}")
            clock.advance(60)
            await number_story.dispatch_until(world, lambda: False, timeout_s=0.5)
    finally:
        sim.stop_in_thread()
    history = number_history.number_history(engine, bu, "+13052000000", Reader.SUPERVISOR)
    (held,) = [e for e in history.events if e.kind.value == "held"]
    assert held.skill == "s3" and held.details["wait"] == "frequency_cap"
    assert held.summary.startswith("held by the frequency cap until ")
    assert "frequency cap: 3 texts in 24 hours (FL)" in held.summary
    first_submit = next(e.at for e in history.events if e.kind.value == "submitted")
    assert held.details["until"] == first_submit + timedelta(hours=24)
