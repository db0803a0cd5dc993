"""The console's /numbers/history page (issue 19, "why"): the same events as the CLI and the API,
to supervisors and admins; an agent is not let in. Real HTTP through TestClient on a real session
(the browser tests of the console run elsewhere; this page has no script)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from proactive_sms.interfaces.api.app import create_app
from proactive_sms.interfaces.web.auth import SESSION_COOKIE
from proactive_sms.services import agents, console_sessions, console_users
from proactive_sms.services.console_sessions import SessionPolicy
from tests.services import number_story
from tests.services.test_number_history import STORY_KINDS

PASSWORD = "a long enough passphrase 42"


@pytest.fixture
async def story(engine, bu, tmp_path):
    return await number_story.tell(engine, bu, tmp_path)


def signed_in(engine, bu, clock, role: str) -> TestClient:
    """A client with the session cookie of a new user of `role`, signed in as the login page
    does (the password checked, then a session started)."""
    agent = agents.create_agent(engine, bu, clock, f"{role}-agent").name if role == "agent" \
        else None
    console_users.create(engine, bu, clock, f"{role}1", role, PASSWORD, agent)
    user = console_users.authenticate(engine, clock, f"{role}1", PASSWORD, "127.0.0.1")
    session = console_sessions.start(engine, clock, user, "127.0.0.1", SessionPolicy.from_env())
    client = TestClient(create_app(engine, clock), base_url="https://testserver")
    client.cookies.set(SESSION_COOKIE, session.token)
    return client


def kinds(html: str) -> list[str]:
    return re.findall(r'<tr data-kind="([a-z_]+)">', html)


async def test_a_supervisor_sees_every_decision_in_order_with_the_full_number(
        engine, bu, clock, story):
    client = signed_in(engine, bu, clock, "supervisor")
    page = client.get("/numbers/history", params={"number": story.local})
    assert page.status_code == 200, page.text
    assert kinds(page.text) == [kind for kind, _ in STORY_KINDS]
    assert f'<span id="history-number">{story.number}</span>' in page.text
    assert "waited for the calling window until 2026-01-14T13:00:00+00:00" in page.text


async def test_the_skill_report_and_the_dnc_page_lead_to_it(engine, bu, clock, story):
    client = signed_in(engine, bu, clock, "admin")
    report = client.get("/skills/shortie/report")
    assert 'action="/numbers/history"' in report.text and 'value="shortie"' in report.text
    narrowed = client.get("/numbers/history", params={"number": story.local, "skill": "shortie"})
    assert kinds(narrowed.text) == ["imported", "skipped", "dnc_added", "dnc_removed"]
    found = client.get("/dnc", params={"q": story.local})
    assert 'id="history-link"' in found.text


async def test_an_agent_is_not_let_in_and_bad_input_is_named(engine, bu, clock, story):
    agent = signed_in(engine, bu, clock, "agent")
    assert agent.get("/numbers/history", params={"number": story.local}).status_code == 403
    client = signed_in(engine, bu, clock, "supervisor")
    bad = client.get("/numbers/history", params={"number": "12ab"})
    assert bad.status_code == 422 and "is not a phone number" in bad.text
    unknown = client.get("/numbers/history", params={"number": story.local, "skill": "nope"})
    assert unknown.status_code == 422 and "no skill" in unknown.text
    nothing = client.get("/numbers/history", params={"number": "2125559999"})
    assert 'id="nothing-known"' in nothing.text
