"""`psms agent …`, run in-process on a real SQLite database, with replies handled by the real
inbound service and a manual clock for waiting times."""

from __future__ import annotations

import json

import pytest

from proactive_sms.domain.clock import ManualClock
from proactive_sms.interfaces.cli import context as cli_context
from proactive_sms.services import administration
from proactive_sms.store.engine import open_engine
from tests.interfaces.cli_runner import database_url, sales_cli
from tests.services.agent_world import e164, texted_world


@pytest.fixture
def psms(tmp_path, monkeypatch, clock: ManualClock):
    monkeypatch.setattr(cli_context, "clock", clock)
    run = sales_cli(tmp_path, monkeypatch)
    engine = open_engine(database_url(tmp_path))
    run.world = texted_world(engine, administration.business_unit(engine, "sales"), clock,
                             tmp_path)
    yield run
    engine.dispose()


def test_agents_take_replies_by_load_and_show_their_queues(psms, clock):
    psms("agent", "create", "ana", "--availability", "available", "--skill", "follow-up",
         "--display-name", "Ana Ruiz")
    psms("agent", "create", "ben", "--availability", "available", "--skill", "follow-up",
         "--max-open", "5")
    psms("agent", "create", "cho", "--skill", "follow-up")  # offline by default
    ids = [psms.world.reply(i).conversation_id for i in range(4)]
    clock.advance(125)
    listing = psms("agent", "list")
    assert "Ana Ruiz" in listing and "2/5" in listing and "offline" in listing
    queue = psms("agent", "conversations", "ana")
    assert f"{ids[0]} " in queue and f"{ids[2]} " in queue and "2 min 5 s" in queue
    assert e164(0) not in queue and e164(0)[-4:] in queue  # masked
    assert "Ana Ruiz" in psms("agent", "status", "ana")


def test_answer_transfer_and_close_with_clear_refusals(psms):
    psms("agent", "create", "ana", "--availability", "available", "--skill", "follow-up")
    psms("agent", "create", "ben", "--availability", "away", "--skill", "follow-up")
    psms("agent", "create", "cho", "--skill", "follow-up")
    cid = psms.world.reply(1).conversation_id
    refused = psms("agent", "answer", "ben", str(cid), "Hi", code=2)
    assert "assigned to ana" in refused and "psms agent transfer" in refused
    assert "queued as message" in psms("agent", "answer", "ana", str(cid), "Hi, Ana here")
    assert "no agent 'zed'" in psms("agent", "transfer", str(cid), "zed", code=2)
    assert "offline" in psms("agent", "transfer", str(cid), "cho", code=2)
    assert "now with ben" in psms("agent", "transfer", str(cid), "ben")
    assert "closed" in psms("agent", "close", "ben", str(cid))
    assert "is closed" in psms("agent", "close", "ben", str(cid), code=2)
    assert "no conversation '999'" in psms("agent", "close", "ben", "999", code=2)


def test_waiting_replies_are_listed_and_taken_when_an_agent_comes_back(psms, clock):
    psms("agent", "create", "ana", "--skill", "follow-up")
    cid = psms.world.reply(2).conversation_id
    clock.advance(3 * 3600 + 120)
    waiting = psms("agent", "conversations")
    assert f"{cid} " in waiting and "3 h 02 min" in waiting
    back = psms("agent", "status", "ana", "available")
    assert "is available" in back and f"conversations assigned: #{cid}" in back
    gone = psms("agent", "status", "ana", "offline")
    assert f"conversations back in the queue: #{cid}" in gone and "assigned" not in gone
    assert f"{cid} " in psms("agent", "conversations")
    assert "busy" in psms("agent", "status", "ana", "busy", code=2)


def test_skills_and_report(psms, clock):
    psms("agent", "create", "ana", "--availability", "available", "--skill", "follow-up")
    cid = psms.world.reply(1).conversation_id
    clock.advance(40)
    psms("agent", "answer", "ana", str(cid), "Hello")
    assert "ana: no skills" in psms("agent", "skills", "ana", "--remove", "follow-up")
    assert "ana: follow-up" in psms("agent", "skills", "ana", "--add", "follow-up")
    data = json.loads(psms("agent", "report", "--json"))
    assert (data["conversations"], data["answered"], data["mean_first_answer_s"]) == (1, 1, 40.0)
    assert data["agents"][0]["handled"] == 1
    table = psms("agent", "report")
    assert "1 conversations, 1 answered" in table and "40 s" in table
    assert "time zone" in psms("agent", "report", "--since", "2026-01-01", code=2)
