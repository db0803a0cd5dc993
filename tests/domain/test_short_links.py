"""Short link codes: fixed length, round trip, refused when mistyped or made with another key;
tracked links found in a template; user agents classed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proactive_sms.domain import link_tracking, short_links, template, user_agents
from proactive_sms.domain.short_links import LinkRef

KEY = short_links.derive_key("a secret")
OLD = short_links.derive_key("an old secret")


@given(st.integers(0, short_links.MAX_SKILL_ID), st.integers(0, short_links.MAX_RECORD_ID),
       st.integers(0, short_links.MAX_LINKS - 1))
def test_a_code_has_a_fixed_length_and_reads_back(skill_id, record_id, index):
    code = short_links.make_code(KEY, skill_id, record_id, index)
    assert len(code) == short_links.CODE_LENGTH and code.isalnum() and code.isascii()
    assert short_links.read_code([KEY], code) == LinkRef(skill_id, record_id, index)
    assert short_links.read_code([OLD, KEY], code) == LinkRef(skill_id, record_id, index)
    assert short_links.read_code([OLD], code) is None


@given(st.integers(1, 10_000), st.integers(1, 10_000_000), st.integers(0, 16),
       st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
def test_a_mistyped_character_is_refused(skill_id, record_id, position, typed):
    code = short_links.make_code(KEY, skill_id, record_id, 0)
    if code[position] == typed:
        return
    mistyped = code[:position] + typed + code[position + 1:]
    assert short_links.read_code([KEY], mistyped) is None


def test_ids_beyond_the_code_are_refused():
    with pytest.raises(ValueError):
        short_links.make_code(KEY, short_links.MAX_SKILL_ID + 1, 1, 0)
    with pytest.raises(ValueError):
        short_links.make_code(KEY, 1, 1, short_links.MAX_LINKS)


@pytest.mark.parametrize(("given_domain", "stored"), [
    ("go.example.com", "https://go.example.com"),
    ("https://Go.Example.com/", "https://go.example.com"),
    ("http://localhost:8000", "http://localhost:8000"),
])
def test_a_link_domain_is_a_scheme_and_a_host(given_domain, stored):
    assert short_links.normalize_domain(given_domain) == stored


@pytest.mark.parametrize("bad", ["", "ftp://x.com", "https://x.com/path", "https://x.com?a",
                                 "https://user@x.com", "a b.com"])
def test_a_link_domain_with_more_than_a_host_is_refused(bad):
    with pytest.raises(short_links.LinkDomainError):
        short_links.normalize_domain(bad)


def _track(body: str):
    return link_tracking.track(template.parse(body), "https://go.example.com",
                               short_links.sample_code)


def test_web_links_are_tracked_and_other_links_are_not():
    tracked = _track("Pay https://pay.example.org/x?a=1. Call tel:+12025550143, mail "
                     "mailto:a@b.co, see www.example.org/deal or example.net/p!")
    assert tracked.targets == ("https://pay.example.org/x?a=1", "https://www.example.org/deal",
                               "https://example.net/p")
    text = "".join(p for p in tracked.template.pieces if isinstance(p, str))
    assert "tel:+12025550143" in text and "mailto:a@b.co" in text
    assert text.startswith("Pay https://go.example.com/l/") and ". Call" in text


def test_a_link_written_as_a_variable_is_tracked_exactly():
    parsed = template.parse("Hi {FirstName} {Link:https://x.example.org/a.b}.")
    assert parsed.links == ("https://x.example.org/a.b",)
    assert template.render(parsed, {"FirstName": "Al"}) == "Hi Al https://x.example.org/a.b."
    tracked = link_tracking.track(parsed, "https://go.example.com", short_links.sample_code)
    assert tracked.targets == ("https://x.example.org/a.b",)


@pytest.mark.parametrize("body", ["{Link:}", "{Link:javascript:alert(1)}",
                                  "{Link:https://a b.com}", "{Link:https://x.com"])
def test_a_bad_link_variable_is_a_template_error(body):
    with pytest.raises(template.TemplateError):
        template.parse(body)


def test_a_url_that_runs_into_a_merged_value_is_left_alone():
    tracked = _track("Your page: https://x.example.org/{Code} and https://y.example.org/z")
    assert tracked.targets == ("https://y.example.org/z",)


def test_a_link_already_on_the_short_domain_is_left_alone():
    assert _track("https://go.example.com/l/abc").targets == ()


def test_the_sample_has_the_length_of_every_real_link():
    sample = _track("x https://a.example.org/b").samples[0]
    real = short_links.short_url("https://go.example.com",
                                 short_links.make_code(KEY, 123456, 98765432, 3))
    assert len(sample) == len(real) == short_links.short_url_length("https://go.example.com")


@pytest.mark.parametrize(("agent", "kind"), [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1",
     "mobile"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120.0 Mobile Safari/537.36", "mobile"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15",
     "desktop"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36", "desktop"),
    ("WhatsApp/2.23.20.0 A", "bot"),
    ("facebookexternalhit/1.1 Facebot Twitterbot/1.0", "bot"),  # iMessage's previews
    ("TelegramBot (like TwitterBot)", "bot"),
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "bot"),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot"),
    ("curl/8.5.0", "other"),
    (None, "other"),
])
def test_user_agents_are_classed(agent, kind):
    assert user_agents.classify(agent) == kind
