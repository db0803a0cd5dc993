"""One rule for the names of everything people create (domain.names), applied by every service
that creates one, so the API, the CLI and the console refuse the same names; sane bounds on rates;
templates' invisible characters refused or warned about through the services."""

from __future__ import annotations

import pytest

from proactive_sms.domain.names import InvalidName, check_name
from proactive_sms.domain.template import TemplateError
from proactive_sms.services import (
    administration,
    agents,
    api_keys,
    dnc_import,
    importing,
    previews,
)
from proactive_sms.services.administration import InvalidRequest
from tests.factories import person, registration, write_csv

BAD_NAMES = [
    ("a/b", "contains '/'"),
    ("a\\b", "contains '\\'"),
    ("tab\there", "U+0009"),
    ("new\nline", "U+000A"),
    ("zero\u200bwidth", "ZERO WIDTH SPACE"),
    ("flip\u202eme", "RIGHT-TO-LEFT OVERRIDE"),
    (" padded", "starts or ends with a space"),
    ("", "empty"),
    ("..", "cannot be '..'"),
    ("x" * 101, "longer than 100"),
]


@pytest.mark.parametrize(("name", "words"), BAD_NAMES)
def test_the_name_rule_says_what_is_wrong(name, words):
    with pytest.raises(InvalidName, match="template name") as refused:
        check_name("template", name)
    assert words in str(refused.value)


@pytest.mark.parametrize("name", ["reminders", "Bonus shift 2", "tip-0412", "قائمة العملاء",
                                  "q3.follow_up:east"])
def test_ordinary_names_of_any_script_are_fine(name):
    assert check_name("skill", name) == name


def _creators(engine, bu, clock, tmp_path):
    registration(engine, bu, clock)
    csv_path = write_csv(tmp_path / "people.csv", [person(1)])
    importing.import_calling_list(engine, bu, "people", csv_path, clock)
    dnc_path = tmp_path / "dnc.csv"
    dnc_path.write_text("number\n2125550100\n")
    return {
        "calling list": lambda n: importing.import_calling_list(engine, bu, n, csv_path, clock),
        "template": lambda n: administration.save_template(engine, bu, clock, n, "Hi"),
        "skill": lambda n: administration.create_skill(
            engine, bu, clock, name=n, registration="55501", calling_list="people"),
        "campaign": lambda n: administration.create_campaign(engine, bu, clock, n),
        "connection": lambda n: administration.add_connection(
            engine, bu, clock, n, "127.0.0.1", 2775, "psms", "secret"),
        "DNC group": lambda n: administration.dnc_add(engine, bu, clock, ["2125550100"], n),
        "DNC group (import)": lambda n: dnc_import.import_numbers(engine, bu, clock, dnc_path, n),
        "agent": lambda n: agents.create_agent(engine, bu, clock, n),
        "API key": lambda n: api_keys.create(engine, bu, clock, n),
    }


@pytest.mark.parametrize(("name", "words"), [("a/b", "'/'"), ("tab\there", "U+0009"),
                                             ("ctl\x07", "U+0007")])
def test_every_named_resource_refuses_a_bad_name(engine, bu, clock, tmp_path, name, words):
    for kind, create in _creators(engine, bu, clock, tmp_path).items():
        with pytest.raises(InvalidRequest) as refused:
            create(name)
        assert words in str(refused.value), (kind, str(refused.value))
        assert kind.split(" (")[0] + " name" in str(refused.value)


@pytest.mark.parametrize("rate", [1e-9, 0.05, 0.0, -1.0, float("nan"), 1001.0])
def test_a_registration_throughput_out_of_bounds_is_refused(engine, bu, clock, rate):
    with pytest.raises(InvalidRequest, match="throughput of a short code must be 0.1 to 1000/s"):
        administration.add_registration(engine, bu, clock, code="55501", kind="short",
                                        throughput_per_s=rate, connection=None, dnc_group=None)


@pytest.mark.parametrize("rate", [1e-9, 0.01, 20_000.0])
def test_a_skill_pacing_out_of_bounds_is_refused(engine, bu, clock, tmp_path, rate):
    _creators(engine, bu, clock, tmp_path)
    with pytest.raises(InvalidRequest, match="pacing must be 0.1 to 10,000 per second"):
        administration.create_skill(engine, bu, clock, name="paced", registration="55501",
                                    calling_list="people", pacing_per_s=rate)


def test_a_template_with_a_bidi_override_is_refused_and_a_zero_width_one_warned(engine, bu,
                                                                                clock):
    with pytest.raises(TemplateError, match="RIGHT-TO-LEFT OVERRIDE"):
        administration.save_template(engine, bu, clock, "pay", "Pay \u202e0.01$")
    saved = administration.save_template(engine, bu, clock, "joined", "Hi\u200b there")
    shown = previews.preview(engine, bu, saved.body)
    assert shown.as_dict()["warnings"] == [
        "invisible character U+200B (ZERO WIDTH SPACE) at position 2"]
