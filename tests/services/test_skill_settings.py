"""Skill names as contact centers know them, and which settings change in which status."""

from __future__ import annotations

import pytest

from proactive_sms.services import administration, launching, skill_settings
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.store.errors import NotFound
from tests.factories import import_people, registration, skill


@pytest.mark.parametrize("name", ["x", "a" * 31, "two words", "slash/name", "tab\tname",
                                  "émile", ""])
def test_a_skill_name_outside_the_rule_is_refused_naming_the_name_field(engine, bu, clock,
                                                                          tmp_path, name):
    import_people(engine, bu, clock, tmp_path, 1)
    registration(engine, bu, clock)
    with pytest.raises(InvalidRequest) as refused:
        skill(engine, bu, clock, name=name)
    assert refused.value.field == "name"
    assert "2 to 30 characters" in str(refused.value)


@pytest.mark.parametrize("name", ["ab", "a" * 30, "Sales-2026.q1:east_", "0.9"])
def test_a_skill_name_of_letters_digits_and_the_four_marks_is_taken(engine, bu, clock,
                                                                      tmp_path, name):
    import_people(engine, bu, clock, tmp_path, 1)
    registration(engine, bu, clock)
    assert skill(engine, bu, clock, name=name).name == name


def test_a_bad_window_names_its_setting(engine, bu, clock, tmp_path):
    import_people(engine, bu, clock, tmp_path, 1)
    registration(engine, bu, clock)
    with pytest.raises(InvalidRequest) as refused:
        skill(engine, bu, clock, calling_window={"weekend": "25:00-26:00"})
    assert refused.value.field == "calling_window.weekend"


def test_a_draft_changes_every_setting_and_the_view_names_them(engine, bu, clock, tmp_path):
    import_people(engine, bu, clock, tmp_path, 2)
    import_people(engine, bu, clock, tmp_path, 2, name="others")
    registration(engine, bu, clock)
    registration(engine, bu, clock, code="55502")
    administration.create_campaign(engine, bu, clock, "spring")
    administration.save_template(engine, bu, clock, "tip", "New tip, {FirstName}.")
    skill(engine, bu, clock, name="notice")
    view = skill_settings.update_skill(engine, bu, clock, "notice", {
        "registration": "55502", "calling_list": "others", "template": "tip",
        "campaign": "spring", "max_segments": 2, "pacing_per_s": 3.0,
        "calling_window": {"weekday": "09:00-17:00", "weekend": "10:00-12:00",
                           "forbidden_days": ["sunday"]}})
    assert (view.registration, view.calling_list, view.template, view.campaign) == (
        "55502", "others", "tip", "spring")
    assert view.skill.max_segments == 2 and view.skill.pacing_per_s == 3.0
    assert skill_settings.skill_view(engine, bu, "notice").settings()["calling_window"][
        "forbidden_days"] == ["sunday"]


def test_a_running_skill_keeps_what_launch_decided_and_changes_what_sending_reads(
        engine, bu, clock, tmp_path):
    import_people(engine, bu, clock, tmp_path, 2)
    import_people(engine, bu, clock, tmp_path, 2, name="others")
    registration(engine, bu, clock)
    created = skill(engine, bu, clock, name="notice")
    launching.start_skill(engine, created.id, clock, message_text="Shift open")
    with pytest.raises(InvalidRequest) as refused:
        skill_settings.update_skill(engine, bu, clock, "notice", {"calling_list": "others"})
    assert refused.value.field == "calling_list"
    assert "running" in str(refused.value)
    same = skill_settings.update_skill(engine, bu, clock, "notice",
                                       {"calling_list": "people", "pacing_per_s": 2.5})
    assert same.calling_list == "people" and same.skill.pacing_per_s == 2.5


def test_an_unknown_template_or_setting_is_refused_and_nothing_changes(engine, bu, clock,
                                                                      tmp_path):
    import_people(engine, bu, clock, tmp_path, 1)
    registration(engine, bu, clock)
    skill(engine, bu, clock, name="notice")
    with pytest.raises(NotFound):
        skill_settings.update_skill(engine, bu, clock, "notice",
                                    {"max_segments": 2, "template": "nope"})
    with pytest.raises(InvalidRequest) as refused:
        skill_settings.update_skill(engine, bu, clock, "notice", {"name": "other"})
    assert refused.value.field == "name"
    assert skill_settings.skill_view(engine, bu, "notice").skill.max_segments == 3


def test_another_units_skill_is_not_found(engine, bu, clock, tmp_path):
    import_people(engine, bu, clock, tmp_path, 1)
    registration(engine, bu, clock)
    skill(engine, bu, clock, name="notice")
    other = administration.init(engine, clock, "acme", "collections", "US")
    with pytest.raises(NotFound):
        skill_settings.skill_view(engine, other, "notice")
    with pytest.raises(NotFound):
        skill_settings.update_skill(engine, other, clock, "notice", {"max_segments": 2})


def test_a_skill_gets_a_template_or_a_typed_text_never_both(engine, bu, clock, tmp_path):
    import_people(engine, bu, clock, tmp_path, 1)
    registration(engine, bu, clock)
    administration.save_template(engine, bu, clock, "tip", "New tip.")
    with pytest.raises(InvalidRequest) as refused:
        skill(engine, bu, clock, template_name="tip", message_text="Shift open")
    assert refused.value.field == "message_text"
    skill(engine, bu, clock, name="notice", template_name="tip")
    with pytest.raises(InvalidRequest):
        skill_settings.update_skill(engine, bu, clock, "notice", {"message_text": "Hi"})
    typed = skill_settings.update_skill(engine, bu, clock, "notice",
                                        {"template": None, "message_text": "Hi"})
    assert typed.template is None and typed.skill.message_text == "Hi"


@pytest.mark.parametrize(("setting", "value"), [("pacing_per_s", float("nan")),
                                                ("pacing_per_s", float("inf")),
                                                ("validity_hours", float("nan")),
                                                ("validity_hours", -1.0)])
def test_a_rate_or_validity_that_is_no_positive_number_is_refused(engine, bu, clock, tmp_path,
                                                                  setting, value):
    import_people(engine, bu, clock, tmp_path, 1)
    registration(engine, bu, clock)
    with pytest.raises(InvalidRequest) as refused:
        skill(engine, bu, clock, **{setting: value})
    assert refused.value.field == setting
