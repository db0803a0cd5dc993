"""Skills in the console, in Chromium against `psms serve` and the SMSC simulator: create one
(a bad name refused inline with the API's reason), start it and see the simulator receive its
texts; change settings; pause, resume and stop with confirmation; campaigns; the cadence editor
of an agent skill."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from proactive_sms.domain.clock import SystemClock
from proactive_sms.services import administration, audit, cadences
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.store.errors import NotFound
from tests.factories import person
from tests.interfaces.web.conftest import wait_until


@pytest.fixture(scope="module")
def unit(console):
    """The console's unit with a list of 3 people ('staff'), one of 200 ('crowd') and a saved
    template."""
    bu = console.bu()
    console.import_people("staff", [person(i + 40) for i in range(3)])
    console.import_people("crowd", [person(i + 1000) for i in range(200)])
    administration.save_template(console.engine, bu, SystemClock(), "tip",
                                 "Hi {FirstName}, a new tip came in.", calling_list="staff")
    return bu


def _api_reason(name: str) -> str:
    """What POST /v1/skills answers for this name (the rule is the service's, for both)."""
    with pytest.raises(InvalidRequest) as refused:
        administration.check_skill_name(name)
    return str(refused.value)


def _confirming(page) -> list[str]:
    """Accept every confirmation the page asks; the questions asked."""
    asked: list[str] = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    return asked


def test_a_bad_name_is_refused_inline_then_the_skill_is_created_and_started(
        browser, console, login, shoot, unit):
    page = login(browser, console)
    page.goto(console.url + "/skills")
    page.click("#new-skill")
    page.fill("#f-name", "bonus shift!")
    page.select_option("#f-calling_list", "staff")
    page.fill("#f-message_text", "Hi {FirstName}, a bonus shift is open tonight.")
    page.fill("#f-weekday", "00:00-23:59")
    page.fill("#f-weekend", "00:00-23:59")
    page.click("#skill-form button[type=submit]")
    expect(page.locator("#e-name")).to_have_text(_api_reason("bonus shift!"))
    expect(page.locator("#f-message_text")).to_have_value(
        "Hi {FirstName}, a bonus shift is open tonight.")  # what was typed stays
    page.fill("#f-name", "bonus-shift")
    page.click("#skill-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("bonus-shift")
    expect(page.locator("#skill-status")).to_have_text("draft")
    shoot(page, "skill-edit")

    before = len(console.sim.submits())
    asked = _confirming(page)
    page.click("#start-button")
    expect(page.locator(".flash-success")).to_contain_text("Skill bonus-shift started: 3 texts")
    assert asked == ["Start bonus-shift? Its texts will be sent."]
    texts = wait_until(lambda: [s for s in console.sim.submits()[before:]
                                if "bonus shift is open" in str(s)] or None, 30,
                       "the simulator to receive the texts")
    wait_until(lambda: len([s for s in console.sim.submits()[before:]
                            if "bonus shift is open" in str(s)]) == 3, 30, "3 texts")
    assert texts
    entries = audit.entries(console.engine, unit, action="skill").entries
    assert [(e.action, e.target) for e in entries][:2] == [("skill.started", "bonus-shift"),
                                                          ("skill.created", "bonus-shift")]


def test_settings_change_inline_errors_and_pause_resume_stop_with_confirmation(
        browser, console, login, unit):
    page = login(browser, console)
    page.goto(console.url + "/skills/+new")
    page.fill("#f-name", "night-watch")
    page.select_option("#f-calling_list", "crowd")
    page.select_option("#f-template", "tip")
    page.fill("#f-weekday", "00:00-23:59")
    page.fill("#f-weekend", "00:00-23:59")
    page.click("#skill-form button[type=submit]")
    expect(page.locator("#skill-status")).to_have_text("draft")
    # A value the form cannot read, then one the service refuses, each under its field.
    page.fill("#f-pacing_per_s", "fast")
    page.click("#save-button")
    expect(page.locator("#e-pacing_per_s")).to_contain_text("pacing must be a number")
    page.fill("#f-pacing_per_s", "0.5")  # 200 texts: it runs for minutes
    page.fill("#f-weekday", "25:00-26:00")
    page.click("#save-button")
    expect(page.locator("#e-weekday")).to_contain_text("weekday")
    page.fill("#f-weekday", "00:00-23:59")
    page.fill("#f-message_text", "A typed text too")
    page.click("#save-button")
    expect(page.locator("#e-message_text")).to_have_text(
        "give a saved template or a typed message, not both")
    page.fill("#f-message_text", "")
    page.click("#save-button")
    expect(page.locator(".flash-success")).to_have_text("Settings saved.")
    expect(page.locator("#f-pacing_per_s")).to_have_value("0.5")

    asked = _confirming(page)
    page.click("#start-button")
    expect(page.locator("#skill-status")).to_have_text("running")
    expect(page.locator("#f-calling_list")).to_be_disabled()  # decided at the start
    expect(page.locator("#f-pacing_per_s")).to_be_enabled()  # read as texts go
    page.click("#pause-button")
    expect(page.locator("#skill-status")).to_have_text("paused")
    page.click("#resume-button")
    expect(page.locator("#skill-status")).to_have_text("running")
    page.click("#stop-button")
    expect(page.locator("#skill-status")).to_have_text("stopped")
    assert asked[-1] == ("Stop night-watch for good? Texts not sent yet are cancelled.")
    assert len(asked) == 4
    actions = [e.action for e in audit.entries(console.engine, unit, action="skill").entries
               if e.target == "night-watch"]
    assert actions[:4] == ["skill.stopped", "skill.resumed", "skill.paused", "skill.started"]
    # Bad input by hand never answers a 500.
    for path in ("/skills?status=nonsense&campaign=nope&after=x", "/skills/+new?kind=x"):
        assert page.goto(console.url + path).status in (200, 404), path
    assert page.goto(console.url + "/skills/nope").status == 404


def test_campaigns_group_skills_and_the_list_filters_by_them(browser, console, login, shoot,
                                                             unit):
    page = login(browser, console)
    page.goto(console.url + "/skills")
    page.fill("#f-campaign_name", "a/b")
    page.click("#campaign-form button")
    expect(page.locator("#campaign-form .error")).to_contain_text("contains '/'")
    page.fill("#f-campaign_name", "spring")
    page.click("#campaign-form button")
    expect(page.locator(".flash-success")).to_have_text("Campaign spring created.")
    page.goto(console.url + "/skills/+new")
    page.fill("#f-name", "spring-notice")
    page.select_option("#f-calling_list", "staff")
    page.click("#skill-form button[type=submit]")
    page.goto(console.url + "/skills")
    page.select_option("#f-member-skill", "spring-notice")
    page.select_option("#f-member-campaign", "spring")
    page.click("#campaign-member-form button")
    expect(page.locator(".flash-success")).to_have_text("Skill spring-notice added to spring.")
    expect(page.locator("#skills tbody tr")).to_have_count(1)
    page.goto(console.url + "/skills?status=draft")
    expect(page.locator("#skills")).to_contain_text("spring-notice")
    expect(page.locator("#skills")).not_to_contain_text("night-watch")
    page.goto(console.url + "/skills")
    shoot(page, "skills")


def test_the_cadence_of_an_agent_skill_is_edited_with_every_problem_inline(
        browser, console, login, shoot, unit):
    page = login(browser, console)
    page.goto(console.url + "/skills")
    page.click("#new-agent-skill")
    page.fill("#f-name", "sales-follow-up")
    page.select_option("#f-calling_list", "staff")
    page.click("#skill-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Cadence of sales-follow-up")
    page.fill("#step-1-max_attempts", "2")
    page.fill("#step-1-rest_minutes", "30")
    page.click("#add-step")
    expect(page.locator("#step-2")).to_be_visible()
    page.select_option("#step-2-channel", "sms")
    page.fill("#step-2-after", "answering_machine, texted")
    page.fill("#f-dispositions", "sale, refused")
    page.fill("#f-ends_on", "sale, won")
    page.click("#save-cadence")
    step = page.locator("#step-2")
    expect(step.locator("[data-error='steps[2].template']")).to_have_text(
        "an SMS step needs a template")
    expect(step.locator("[data-error='steps[2].after']")).to_have_text(
        "no earlier step can end in 'texted'")
    expect(page.locator("[data-error='ends_on']")).to_contain_text("'won'")
    page.select_option("#step-2-template", "tip")
    page.fill("#step-2-after", "answering_machine")
    page.fill("#f-ends_on", "sale")
    page.click("#save-cadence")
    expect(page.locator(".flash-success")).to_have_text(
        "Cadence of sales-follow-up saved: 2 steps.")
    saved = cadences.show(console.engine, unit, "sales-follow-up").to_dict()
    assert saved["steps"][0]["max_attempts"] == 2 and saved["steps"][0]["rest_minutes"] == 30
    assert saved["steps"][1] == {"channel": "sms", "destination": "SMSPhoneNumber",
                                 "after": ["answering_machine"], "template": "tip",
                                 "max_attempts": 1, "rest_minutes": 0}
    assert saved["ends_on"] == ["sale"]
    shoot(page, "cadence-editor")
    page.click("a:has-text('Back to the skill')")
    expect(page.locator("#cadence-link")).to_be_visible()


def _post(page, url: str, form: dict[str, str]):
    """A form post with the page's CSRF token, as a hand-made request would send it."""
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    return page.request.post(url, form={"csrf_token": token, **form})


def test_bad_input_to_every_skill_form_is_answered_without_a_500(browser, console, login,
                                                                  unit):
    # The running skill the first test starts; made here when that test ran on another worker.
    try:
        administration.find_skill(console.engine, unit, "bonus-shift")
    except NotFound:
        console.start_skill("bonus-shift", "staff", template_name="tip")
    page = login(browser, console)
    page.goto(console.url + "/skills")
    base = console.url
    answers = {
        "empty create": _post(page, base + "/skills", {}),
        "nan pacing": _post(page, base + "/skills", {
            "name": "nan-pace", "registration": "55501", "calling_list": "staff",
            "pacing_per_s": "nan"}),
        "unreadable": _post(page, base + "/skills", {
            "name": "odd", "registration": "55501", "calling_list": "staff",
            "max_segments": "x", "weekday": "noon", "validity_hours": "-inf"}),
        "unknown list": _post(page, base + "/skills", {
            "name": "lost", "registration": "55501", "calling_list": "nope"}),
        "unknown code": _post(page, base + "/skills", {
            "name": "lost", "registration": "99999", "calling_list": "staff"}),
        "huge segments": _post(page, base + "/skills", {
            "name": "big", "registration": "55501", "calling_list": "staff",
            "max_segments": "99999999999999999999999"}),
        "unknown skill edit": _post(page, base + "/skills/nope", {"pacing_per_s": "1"}),
        "unknown start": _post(page, base + "/skills/nope/start", {}),
        "cadence of nothing": _post(page, base + "/skills/nope/cadence", {"action": "save"}),
        "garbled cadence": _post(page, base + "/skills/bonus-shift/cadence", {
            "steps": "many", "action": "remove-x"}),
        "bad campaign": _post(page, base + "/campaigns", {"name": "\t"}),
        "bad member": _post(page, base + "/campaigns/skills", {"campaign": "x", "skill": "y"}),
    }
    for what, answer in answers.items():
        assert answer.status < 500, (what, answer.status, answer.text()[:300])
    assert answers["nan pacing"].status == 422
    assert "pacing must be 0.1 to 10,000 per second, got nan" in answers["nan pacing"].text()
    assert answers["unknown list"].status == 422
    assert "no calling list &#39;nope&#39;" in answers["unknown list"].text()
    assert answers["unknown skill edit"].status == 404
    assert administration.find_skill(console.engine, unit, "bonus-shift").status.value in (
        "running", "finished")


def test_another_units_skill_is_not_found_and_left_alone(browser, console, login, unit):
    other = console.bu("support")
    console.add_code("55599", 10, connection=None, bu="support")
    console.import_people("theirs", [person(7)], bu="support")
    theirs = administration.create_skill(console.engine, other, SystemClock(),
                                         name="their-skill", registration="55599",
                                         calling_list="theirs")
    page = login(browser, console)
    for path in ("/skills/their-skill", "/skills/their-skill/cadence",
                 "/calling-lists/theirs"):
        assert page.goto(console.url + path).status == 404, path
    page.goto(console.url + "/skills")
    expect(page.locator("body")).not_to_contain_text("their-skill")
    for action in ("start", "stop"):
        assert _post(page, f"{console.url}/skills/their-skill/{action}", {}).status == 404
    assert administration.find_skill(console.engine, other, "their-skill").status is (
        theirs.status)


def test_a_skill_without_text_asks_for_it_at_the_start_and_an_agent_skill_for_its_cadence(
        browser, console, login, unit):
    clock = SystemClock()
    window = {"weekday": "00:00-23:59", "weekend": "00:00-23:59"}
    administration.create_skill(console.engine, unit, clock, name="typed-later",
                                registration="55501", calling_list="staff",
                                calling_window=window)
    administration.create_skill(console.engine, unit, clock, name="no-cadence",
                                registration="55501", calling_list="staff", kind="agent")
    page = login(browser, console)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(console.url + "/skills/no-cadence")
    page.click("#start-button")
    expect(page.locator("#start-error")).to_have_text(
        "skill 'no-cadence' has no cadence yet: set one first")
    expect(page.locator("#skill-status")).to_have_text("draft")
    page.goto(console.url + "/skills/typed-later")
    page.fill("#f-message", "Hi {FirstName}, the lobby is closed today.")
    page.click("#start-button")
    expect(page.locator(".flash-success")).to_contain_text("3 texts to send")
    expect(page.locator("#actions")).not_to_contain_text("Start")
    wait_until(lambda: len([s for s in console.sim.submits()
                            if "lobby is closed" in str(s)]) == 3, 30, "the 3 texts")
