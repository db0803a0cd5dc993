"""The agent workspace in a real browser against `psms serve` and the SMSC simulator: a
customer's reply reaches the agent live, the agent answers and the simulator receives it; an
agent cannot open another agent's conversation; a supervisor sees the queue and transfers."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from proactive_sms.domain.clock import SystemClock
from proactive_sms.domain.phone import mask
from proactive_sms.services import agents
from tests.factories import person, us_number
from tests.interfaces.web.conftest import CODE, wait_until

LIVE_MS = 20_000  # a reply's way: simulator, dispatcher, store, the stream's tick, htmx
ALL_DAY = {"weekday": "00:00-24:00", "weekend": "00:00-24:00"}  # the simulator is nobody's phone


def _customers(console, skill: str, start: int, count: int = 2) -> list[str]:
    """A skill of its own that has texted `count` customers (so their replies route to its
    agents); their numbers in E.164, once the simulator has received every text."""
    console.import_people(f"{skill}-list", [person(i, PhoneNumber=us_number(i, "646"))
                                            for i in range(start, start + count)])
    console.start_skill(skill, f"{skill}-list",
                        "Hi {FirstName}, can we call you about your order?",
                        calling_window=ALL_DAY)
    numbers = ["+1" + us_number(i, "646") for i in range(start, start + count)]
    wait_until(lambda: {n.lstrip("+") for n in numbers}
               <= {s["destination_addr"].lstrip("+") for s in console.sim.submits()},
               30, f"the texts of {skill} at the simulator")
    return numbers


def _agent_user(console, login, browser, name: str, skill: str | None):
    """A signed-in agent user whose agent answers `skill`'s replies."""
    password = console.make_user(name, "agent", agent=name)
    if skill is not None:
        agents.add_skill(console.engine, console.bu(),
                         SystemClock(), name, skill)
    return login(browser, console, "agent", username=name, password=password)


def _conversation_of(console, agent: str) -> int:
    unit = console.bu()
    (entry, *_) = agents.queue(console.engine, unit, SystemClock(), agent)
    return entry.conversation.id


def test_a_reply_reaches_the_agent_live_and_their_answer_reaches_the_simulator(
        console, browser, login, shoot):
    customer, other = _customers(console, "ws-live", 100)
    page = _agent_user(console, login, browser, "ana", "ws-live")
    assert page.url.endswith("/workspace")
    expect(page.locator("#availability-now")).to_have_text("offline")
    page.get_by_role("button", name="Available").click()
    expect(page.locator("#availability-now")).to_have_text("available")
    expect(page.locator(".ws-queue .empty")).to_be_visible()
    page.locator("h1").click()  # the first gesture: the page may play sounds from now on
    page.evaluate("window.notReloaded = true")

    console.sim.inject(customer, CODE, "Yes please, after 5pm works for me")
    item = page.locator(".ws-queue-item")
    expect(item).to_have_count(1, timeout=LIVE_MS)  # arrived without a reload
    expect(item).to_contain_text("waiting")
    expect(page).to_have_title(re.compile(r"^\(1\) Workspace"))
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate("document.body.dataset.replySounds") == "1"

    item.locator("a").click()
    page.wait_for_url(re.compile(r"/workspace/conversations/\d+$"))
    thread = page.locator("#messages")
    expect(thread.locator(".ws-msg-in .ws-text")).to_have_text(
        "Yes please, after 5pm works for me")
    expect(thread.locator(".ws-msg-out .ws-text").first).to_contain_text("can we call you")
    for text in page.locator(".ws-text").all():
        assert text.get_attribute("dir") == "auto"
    page.evaluate("window.notReloaded = true")
    console.sim.inject(customer, CODE, "Actually, 6pm is better")  # into the open thread
    expect(thread.locator(".ws-msg-in .ws-text").last).to_have_text("Actually, 6pm is better",
                                                                    timeout=LIVE_MS)
    assert page.evaluate("window.notReloaded") is True

    page.get_by_role("button", name="Send answer").click()  # nothing typed
    expect(page.locator("#answer-form .error")).to_contain_text("the answer is empty")

    answer = "Ana here: 6pm it is, I will call you then. — ¡Hasta luego!"
    page.fill("#answer-text", answer)
    expect(page.locator("#segment-counter")).to_contain_text("1 SMS part")
    expect(page.locator("#segment-counter")).to_contain_text("UCS-2")  # the em dash
    page.get_by_role("button", name="Send answer").click()
    expect(page.locator("#messages .ws-msg-out .ws-text").last).to_have_text(answer,
                                                                             timeout=LIVE_MS)
    wait_until(lambda: any(s["destination_addr"].lstrip("+") == customer.lstrip("+")
                           and answer in s["text"]
                           for s in console.sim.submits()), 30, "the answer at the simulator")
    # Its receipt moves its state on the page without a reload.
    expect(page.locator("#messages .ws-msg-out").last.locator("[data-state]")).to_have_text(
        "delivered", timeout=30_000)
    page.fill("#answer-text", "Anything else I can help with? مع السلامة")
    expect(page.locator("#segment-counter")).to_contain_text("UCS-2")
    shoot(page, "conversation")

    console.sim.inject(other, CODE, "Who is this? مرحبا")
    expect(page.locator(".ws-queue-item")).to_have_count(2, timeout=LIVE_MS)
    page.goto(f"{console.url}/workspace")
    shoot(page, "workspace")

    first = page.locator(".ws-queue-item a").first.get_attribute("data-conversation")
    page.goto(f"{console.url}/workspace/conversations/{first}")
    page.once("dialog", lambda dialog: dialog.accept())  # "Close this conversation?"
    page.get_by_role("button", name="Close conversation").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Conversation #{first} closed")
    expect(page.locator(".ws-queue-item")).to_have_count(1)
    closed = page.goto(f"{console.url}/workspace/conversations/{first}")  # still hers to read
    assert closed.status == 200
    expect(page.locator(".ws-thread-head")).to_contain_text("closed")
    expect(page.locator("#answer-form")).to_have_count(0)


def test_an_agent_cannot_open_another_agents_conversation_by_url(console, browser, login):
    (customer,) = _customers(console, "ws-own", 200, count=1)
    ben = _agent_user(console, login, browser, "ben", "ws-own")
    agents.set_availability(console.engine, console.bu(),
                            SystemClock(), "ben", "available")
    console.sim.inject(customer, CODE, "Hello, is this about my order?")
    conversation = wait_until(lambda: _queue_ids(console, "ben"), 20, "ben's conversation")[0]
    cho = _agent_user(console, login, browser, "cho", None)
    for path in (f"/workspace/conversations/{conversation}",
                 f"/workspace/conversations/{conversation}/messages",
                 f"/workspace/events?conversation={conversation}"):
        response = cho.goto(f"{console.url}{path}")
        assert response.status == 404, path
    assert "Hello, is this about my order?" not in cho.content()
    for path in ("/workspace/team", "/registrations", "/connections"):  # not an agent's pages
        assert cho.goto(f"{console.url}{path}").status == 403, path
    response = ben.goto(f"{console.url}/workspace/conversations/{conversation}")
    assert response.status == 200
    expect(ben.locator("#messages .ws-msg-in .ws-text")).to_have_text(
        "Hello, is this about my order?")


def _queue_ids(console, agent: str) -> list[int]:
    unit = console.bu()
    return [e.conversation.id for e in agents.queue(console.engine, unit, SystemClock(), agent)]


def test_a_supervisor_sees_the_waiting_queue_and_each_agents_load_and_transfers(
        console, browser, login, shoot):
    (customer,) = _customers(console, "ws-team", 300, count=1)
    unit = console.bu()
    clock = SystemClock()
    for name, shown, availability in (("dee", "Dee Okafor", "away"),
                                      ("eli", "Eli Haddad", "offline"),
                                      ("fay", "Fay Nasser", "away")):
        agents.create_agent(console.engine, unit, clock, name, display_name=shown,
                            availability=availability, skill_names=["ws-team"])
    console.sim.inject(customer, CODE, "Can someone call me back?")  # nobody available: waits
    (waiting, *_) = wait_until(lambda: [e.conversation.id for e in agents.unassigned(
        console.engine, unit, clock)], 20, "a waiting conversation")
    page = login(browser, console, "supervisor")
    page.goto(f"{console.url}/workspace")  # a supervisor's workspace is the team's
    expect(page.locator("#unassigned")).to_contain_text(mask(customer))
    expect(page.locator("#agents tr[data-agent=dee]")).to_contain_text("away")
    expect(page.locator("#agents tr[data-agent=eli]")).to_contain_text("offline")
    shoot(page, "supervisor-queue")

    page.locator(f"#unassigned a[href$='/{waiting}']").click()
    expect(page.locator("#messages .ws-msg-in .ws-text")).to_have_text(
        "Can someone call me back?")
    console.sim.inject(customer, CODE, "Hello??")  # the supervisor's page shows it too
    expect(page.locator("#messages .ws-msg-in .ws-text").last).to_have_text("Hello??",
                                                                            timeout=LIVE_MS)
    page.select_option("#transfer-agent", "eli")
    page.get_by_role("button", name="Transfer").click()
    expect(page.locator("#transfer-form .error")).to_contain_text("offline")  # refused inline
    page.select_option("#transfer-agent", "dee")
    page.get_by_role("button", name="Transfer").click()
    expect(page.locator(".flash-success")).to_contain_text("transferred to dee")
    assert agents.assignment(console.engine, unit, clock, waiting).agent_name == "dee"

    # Dee has it open when the supervisor moves it on: her page says so, live.
    dee = _agent_user(console, login, browser, "dee", None)
    dee.goto(f"{console.url}/workspace/conversations/{waiting}")
    expect(dee.locator(".ws-queue-item")).to_have_count(1)
    page.goto(f"{console.url}/workspace/team")
    expect(page.locator(f"#held tr[data-conversation='{waiting}']")).to_contain_text("dee")
    page.locator(f"#held tr[data-conversation='{waiting}'] a").click()
    page.select_option("#transfer-agent", "fay")
    page.get_by_role("button", name="Transfer").click()
    expect(page.locator(".flash-success")).to_contain_text("transferred to fay")
    expect(dee.locator("#thread-gone")).to_contain_text("no longer in your queue",
                                                        timeout=LIVE_MS)
    expect(dee.locator(".ws-queue-item")).to_have_count(0, timeout=LIVE_MS)
    assert dee.goto(f"{console.url}/workspace/conversations/{waiting}").status == 404
    elsewhere = login(browser, console, "supervisor", bu="support")  # another unit's
    assert elsewhere.goto(f"{console.url}/workspace/conversations/{waiting}").status == 404
