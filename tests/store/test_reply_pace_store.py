"""The figures reply-aware pacing reads from the store, on every backend: agents' free places
(their limits, what they hold, what waits for them), replies ever and of the last window, texts
sent; and the bound saved for the status."""

from __future__ import annotations

from datetime import timedelta

from proactive_sms.domain.reply_pacing import ReplyBound, ReplyFigures
from proactive_sms.services import agents
from proactive_sms.store import reply_pace, skills
from tests.services.agent_world import texted_world


def _figures(world, skill_id: int, window_s: float = 600) -> ReplyFigures | None:
    with world.engine.connect() as conn:
        return reply_pace.figures(conn, [skill_id], world.clock.now() - timedelta(
            seconds=window_s), places_per_agent=5).get(skill_id)


def test_figures_count_places_held_and_waiting_replies_and_texts(engine, bu, clock, tmp_path):
    world = texted_world(engine, bu, clock, tmp_path, people=12)
    with engine.connect() as conn:
        skill_id = skills.find_skill(conn, bu.id, "follow-up").id
    assert _figures(world, skill_id) is None  # no agent answers it: not paced
    world.agent("ana", max_open_conversations=3)
    world.agent("ben")  # no limit of their own: 5 places
    world.agent("cho", availability="away", max_open_conversations=4)
    assert _figures(world, skill_id) == ReplyFigures(2, 8, 0, 0, 12)

    for i in range(3):
        world.reply(i)
    clock.advance(900)  # those three are older than the window now
    for i in range(3, 9):
        world.reply(i)
    held = world.holders()
    assert held == {"ana": 3, "ben": 6, "cho": 0}  # ana full; ben has no limit of his own...
    # ...but counts as 5 places for pacing: neither has a free place.
    assert _figures(world, skill_id) == ReplyFigures(2, 0, 9, 6, 12)

    agents.set_availability(engine, bu, clock, "cho", "available")
    assert _figures(world, skill_id) == ReplyFigures(3, 4, 9, 6, 12)
    for name in ("ana", "ben", "cho"):
        agents.set_availability(engine, bu, clock, name, "away")
    world.reply(9)  # nobody available: it waits for a place, and takes one first
    assert _figures(world, skill_id) == ReplyFigures(0, -1, 10, 7, 12)


def test_bounds_are_saved_and_read_back(engine, bu, clock, tmp_path):
    world = texted_world(engine, bu, clock, tmp_path, people=2)
    with engine.connect() as conn:
        skill_id = skills.find_skill(conn, bu.id, "follow-up").id
    first = ReplyBound(3, 11, 0.04, 9.17, 1.5, False)
    with engine.begin() as conn:
        reply_pace.save(conn, {skill_id: first}, clock.now())
    clock.advance(5)
    later = ReplyBound(0, 0, 0.05, 0.0, 0.0, True)
    with engine.begin() as conn:
        reply_pace.save(conn, {skill_id: later}, clock.now())
    with engine.connect() as conn:
        saved = reply_pace.by_skill(conn, [skill_id])[skill_id]
    assert saved.bound == later
    assert world.clock.now() - saved.updated_at.replace(tzinfo=world.clock.now().tzinfo) \
        == timedelta(0)
