"""Tracked links end to end: a launch on a BU with a link domain, a click on `psms serve`'s
/l/{code} (302), and the skill's report page showing it."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

from playwright.sync_api import expect
from sqlalchemy import select

from proactive_sms.services import administration
from proactive_sms.store.schema import message
from tests.factories import person, us_number

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str) -> tuple[int, str | None]:
    request = urllib.request.Request(url, headers={"User-Agent": PHONE})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=10) as answer:
            return answer.status, answer.headers.get("Location")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location")


def test_a_click_on_a_short_link_shows_on_the_report_page(browser, console, login):
    administration.set_link_domain(console.engine, console.bu(), console.url)
    console.add_code("55577", 5)
    console.import_people("linked", [person(i, PhoneNumber=us_number(i, "917"))
                                     for i in range(3)])
    created = console.start_skill("linked", "linked",
                                  "Hi {FirstName}, the roster: https://roster.example.org/w",
                                  registration="55577")
    with console.engine.connect() as conn:
        bodies = conn.execute(select(message.c.body).where(message.c.skill_id == created.id)
                              ).scalars().all()
    links = [re.search(re.escape(console.url) + r"/l/\w+", body).group(0) for body in bodies]
    assert _get(links[0]) == (302, "https://roster.example.org/w")
    assert _get(links[0])[0] == 302
    assert _get(links[1]) == (302, "https://roster.example.org/w")
    assert _get(links[2][:-1] + ("x" if links[2][-1] != "x" else "y"))[0] == 404

    page = login(browser, console)
    page.goto(console.url + "/skills/linked/report")
    expect(page.locator("#clicks")).to_have_text("3")
    expect(page.locator("#unique-clickers")).to_have_text("2")
