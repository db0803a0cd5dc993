"""Reply pacing in the CLI and the API: the bound and why in `psms skill status` and the API's
progress, the setting turned off and on per skill (a running one), bad values refused naming
the field. The bound is written as the dispatcher's housekeeping writes it (the same services,
on the real store)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from proactive_sms.domain.clock import ManualClock
from proactive_sms.interfaces.api.app import create_app
from proactive_sms.interfaces.cli import context as cli_context
from proactive_sms.services import administration, api_keys
from proactive_sms.services.reply_gating import LaneReplyGates, read_paced_skills
from proactive_sms.store import registrations, reply_pace, skills
from proactive_sms.store.engine import open_engine
from proactive_sms.store.skills import SkillStatus
from tests.interfaces.cli_runner import database_url, sales_cli
from tests.services.agent_world import AgentWorld, texted_world


def housekeeping(world: AgentWorld) -> None:
    """What a dispatching worker does for the code's reply-paced skills at housekeeping: read
    their figures, refresh their gates, save their bounds."""
    with world.engine.begin() as conn:
        running = skills.list_skills(conn, statuses=[SkillStatus.RUNNING])
        codes = {r.id: r for r in registrations.list_registrations(conn)}
        paced = read_paced_skills(conn, running, codes, world.clock.now(), 1800.0, 5)
        gates = LaneReplyGates(1800.0)
        gates.refresh(paced, world.clock.monotonic())
        reply_pace.save(conn, gates.bounds(world.clock.monotonic()), world.clock.now())


@pytest.fixture
def psms(tmp_path, monkeypatch, clock: ManualClock):
    monkeypatch.setattr(cli_context, "clock", clock)
    run = sales_cli(tmp_path, monkeypatch)
    engine = open_engine(database_url(tmp_path))
    run.world = texted_world(engine, administration.business_unit(engine, "sales"), clock,
                             tmp_path)
    yield run
    engine.dispose()


def test_skill_status_tells_the_bound_and_why_and_the_setting_turns_off_and_on(psms):
    assert "reply pacing: not applied: no agent answers this skill" in psms(
        "skill", "status", "follow-up")
    for name, places in (("ana", 4), ("ben", 4), ("cho", 3)):
        psms("agent", "create", name, "--availability", "available", "--skill", "follow-up",
             "--max-open", str(places))
    psms("skill", "reply-pacing", "follow-up", "on", "--prior", "0.04")
    assert "bound shown once the skill is dispatched" in psms("skill", "status", "follow-up")
    housekeeping(psms.world)
    # The prior 4%, moved by the 12 texts already sent with no reply: (4 + 0) / (100 + 12);
    # 11 places at 3.6% over a 30 min reply window: 10 texts/min.
    assert ("reply pacing: 3 agents, 11 free places, reply rate 3.6% -> 10 texts/min"
            in psms("skill", "status", "follow-up"))

    psms("agent", "status", "ana", "offline")
    psms("agent", "status", "ben", "away")
    psms("agent", "status", "cho", "away")
    housekeeping(psms.world)
    assert "reply pacing: no agent available (reply rate 3.6%): texts wait" in psms(
        "skill", "status", "follow-up")

    out = psms("skill", "reply-pacing", "follow-up", "off")
    assert "off: texts go at the code's pace" in out
    assert "reply pacing: off" in psms("skill", "status", "follow-up")
    assert "'on' or 'off'" in psms("skill", "reply-pacing", "follow-up", "maybe", code=2)
    refused = psms("skill", "reply-pacing", "follow-up", "on", "--prior", "2", code=2)
    assert "prior reply rate" in refused and "0.05 for 5%" in refused


def test_a_skill_on_an_external_code_is_not_reply_paced(psms):
    engine, clock = psms.world.engine, psms.world.clock
    bu = psms.world.bu
    administration.add_registration(engine, bu, clock, code="55599", kind="short",
                                    throughput_per_s=10, connection=None, dnc_group=None,
                                    solution="external")
    administration.create_skill(engine, bu, clock, name="notice", registration="55599",
                                calling_list="follow-up-people", message_text="Hi")
    assert "not applied: replies to this code reach no agent" in psms("skill", "status",
                                                                      "notice")


def test_api_progress_tells_the_bound_and_put_turns_it_off(engine, bu, clock, tmp_path):
    world = texted_world(engine, bu, clock, tmp_path)
    for name in ("ana", "ben"):
        world.agent(name, max_open_conversations=5)
    client = TestClient(create_app(engine, clock))
    headers = {"Authorization": f"Bearer {api_keys.create(engine, bu, clock, 'k').secret}"}
    created = client.post("/v1/skills", headers=headers, json={
        "name": "quiet", "registration": "55501", "calling_list": "follow-up-people",
        "reply_pacing": False, "reply_rate_prior": 0.2})
    assert created.status_code == 201, created.text
    assert (created.json()["reply_pacing"], created.json()["reply_rate_prior"]) == (False, 0.2)

    world.reply(0)  # one conversation held: 9 places free
    housekeeping(world)
    pacing = client.get("/v1/skills/follow-up/progress", headers=headers).json()["reply_pacing"]
    assert pacing["state"] == "paced" and pacing["waiting"] is False
    assert (pacing["available_agents"], pacing["free_places"]) == (2, 9)
    # 5% moved by 12 texts without a reply of a past window (the one reply is recent):
    # (5 + 0) / (100 + 12) = 4.5%; 9 places / 4.5% / 30 min = 7 texts/min.
    assert pacing["explain"] == "2 agents, 9 free places, reply rate 4.5% -> 7 texts/min"
    assert pacing["prior_reply_rate"] == 0.05

    answer = client.put("/v1/skills/follow-up/reply-pacing", headers=headers,
                        json={"enabled": False})
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "off"
    assert client.get("/v1/skills/follow-up", headers=headers).json()["reply_pacing"] is False
    bad = client.put("/v1/skills/follow-up/reply-pacing", headers=headers,
                     json={"enabled": True, "prior_reply_rate": 0})
    assert bad.status_code == 422 and "prior_reply_rate" in bad.text
    again = client.put("/v1/skills/follow-up/reply-pacing", headers=headers,
                       json={"enabled": True, "prior_reply_rate": 0.1}).json()
    assert again["state"] == "paced" and again["prior_reply_rate"] == 0.1
    missing = client.put("/v1/skills/nope/reply-pacing", headers=headers,
                         json={"enabled": False})
    assert missing.status_code == 404
    # The skill's PATCH takes the setting too.
    patched = client.patch("/v1/skills/follow-up", headers=headers,
                           json={"reply_pacing": False, "reply_rate_prior": 0.3})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["reply_pacing"], patched.json()["reply_rate_prior"]) == (False, 0.3)
    cleared = client.patch("/v1/skills/follow-up", headers=headers, json={"reply_pacing": None})
    assert cleared.status_code == 422 and "reply_pacing" in cleared.text
