"""One-step sends (ad-hoc broadcasts and notices), their dry run, the notice history, and the
checks of a text being typed."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from proactive_sms.services import administration, broadcasts, notices, previews
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.broadcasts import Broadcast
from proactive_sms.services.launching import LaunchError
from proactive_sms.store.errors import NotFound
from proactive_sms.store.schema import message, skill
from tests.factories import import_people, registration, us_number


@pytest.fixture
def ready(engine, bu, clock, tmp_path):
    import_people(engine, bu, clock, tmp_path, 5)
    registration(engine, bu, clock)
    return engine


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def test_dry_run_of_a_broadcast_counts_recipients_and_skips_and_writes_nothing(ready, bu,
                                                                              clock):
    administration.dnc_add(ready, bu, clock, ["+1" + us_number(2)])
    result = broadcasts.dry_run(ready, bu, clock, Broadcast("55501", "people",
                                                            message="Shift open, {FirstName}"))
    assert (result.records, result.go_now + result.waiting) == (5, 4)
    assert result.skipped == Counter({"dnc": 1})
    assert result.segments == 4
    assert result.predicted_finish is not None
    assert _count(ready, skill) == 0 and _count(ready, message) == 0


def test_dry_run_refuses_a_text_with_an_unknown_field_as_start_would(ready, bu, clock):
    with pytest.raises(LaunchError, match="unknown field 'FirstNme'.*did you mean FirstName"):
        broadcasts.dry_run(ready, bu, clock, Broadcast("55501", "people",
                                                       message="Hi {FirstNme}"))


def test_send_creates_and_starts_a_skill_with_the_typed_text(ready, bu, clock):
    sent = broadcasts.send(ready, bu, clock, Broadcast("55501", "people",
                                                       message="Hi {FirstName}"))
    assert sent.skill.name.startswith("broadcast-")
    assert sent.skill.status.value == "running"
    assert sent.summary.pending == 5
    with ready.connect() as conn:
        bodies = sorted(conn.scalars(select(message.c.body)))
    assert bodies == [f"Hi Ann{i}" for i in range(5)]


def test_two_sends_in_the_same_second_get_two_skills(ready, bu, clock):
    first = broadcasts.send(ready, bu, clock, Broadcast("55501", "people", message="One"))
    second = broadcasts.send(ready, bu, clock, Broadcast("55501", "people", message="Two"))
    assert second.skill.name == first.skill.name + "-2"


def test_a_text_that_cannot_start_leaves_no_skill_behind(ready, bu, clock):
    with pytest.raises(LaunchError):
        broadcasts.send(ready, bu, clock, Broadcast("55501", "people", message="Hi {Nope}"))
    assert _count(ready, skill) == 0


@pytest.mark.parametrize(("values", "reason"), [
    (dict(message="   "), "the message is empty"),
    (dict(message="Hi", template="tip"), "not both"),
])
def test_send_refuses_an_empty_or_double_text(ready, bu, clock, values, reason):
    with pytest.raises(InvalidRequest, match=reason):
        broadcasts.send(ready, bu, clock, Broadcast("55501", "people", **values))


def test_send_to_an_unknown_code_names_it(ready, bu, clock):
    with pytest.raises(NotFound, match="55599"):
        broadcasts.send(ready, bu, clock, Broadcast("55599", "people", message="Hi"))


def test_notices_remember_their_last_target_and_report_their_outcome(ready, bu, clock,
                                                                     tmp_path):
    administration.save_template(ready, bu, clock, "tip", "New tip received, {FirstName}.")
    administration.save_template(ready, bu, clock, "unused", "Never sent")
    import_people(ready, bu, clock, tmp_path, 2, name="field")
    assert notices.last_target(ready, bu, "tip") is None
    broadcasts.send(ready, bu, clock, Broadcast("55501", "people", template="tip"))
    sent = broadcasts.send(ready, bu, clock, Broadcast("55501", "field", template="tip"))
    broadcasts.send(ready, bu, clock, Broadcast("55501", "people", message="ad-hoc, not a "
                                                                           "notice"))
    assert sent.skill.name.startswith("notice-")
    assert notices.last_target(ready, bu, "tip") == notices.Target("field", "55501")
    assert notices.last_targets(ready, bu) == {"tip": notices.Target("field", "55501")}

    with ready.begin() as conn:  # one text delivered, one undeliverable
        ids = list(conn.scalars(select(message.c.id).where(message.c.skill_id == sent.skill.id)))
        for message_id, state in zip(ids, ("delivered", "undeliverable"), strict=True):
            conn.execute(message.update().where(message.c.id == message_id).values(state=state))
    history = notices.history(ready, bu, clock.now())
    assert [h.skill for h in history] == [sent.skill.name, history[1].skill]
    latest = history[0]
    assert (latest.template, latest.target.calling_list) == ("tip", "field")
    assert latest.by_state == {"delivered": 1, "undeliverable": 1}
    assert (latest.total, latest.sent, latest.delivery_rate) == (2, 2, 0.5)
    assert history[1].by_state == {"pending": 5}


# --- checks of a text as it is typed ---------------------------------------------------------

def test_check_names_an_unknown_field_with_its_position_and_a_suggestion(ready, bu):
    result = previews.check(ready, bu, "Hello {FirstNme}", calling_list="people")
    assert result.blocking
    [issue] = result.issues
    assert (issue.reason, issue.field, issue.position, issue.hint) == (
        "unknown field 'FirstNme'", "FirstNme", 6, "did you mean FirstName?")
    assert str(issue) == "unknown field 'FirstNme' at position 6 (did you mean FirstName?)"


def test_check_reports_a_syntax_error_instead_of_raising(ready, bu):
    result = previews.check(ready, bu, "Hi {FirstName", calling_list="people")
    assert result.blocking and result.rendered is None
    assert (result.issues[0].reason, result.issues[0].position) == ("unclosed '{'", 3)


def test_check_says_an_empty_text_is_empty(ready, bu):
    assert [str(i) for i in previews.check(ready, bu, " \n").issues] == ["the message is empty"]


def test_check_warns_that_a_text_longer_than_the_skill_allows_is_skipped(ready, bu):
    result = previews.check(ready, bu, "x" * 200, calling_list="people", max_segments=1)
    assert not result.blocking
    assert [str(i) for i in result.issues] == [
        "too long: 2 segments, more than the skill's 1; such texts are skipped"]


def test_check_of_a_good_text_renders_the_first_record_and_counts_it(ready, bu):
    result = previews.check(ready, bu, "Hi {First Name} 😀", calling_list="people",
                            max_segments=3)
    assert (result.issues, result.blocking) == ((), False)
    assert result.rendered == "Hi Ann0 😀" and result.external_id == "C000000"
    assert (result.report.encoding.value, result.report.unicode_chars) == ("ucs2", ("😀",))


def test_samples_render_the_first_records_of_the_list(ready, bu):
    shown = previews.samples(ready, bu, "Hi {FirstName}", calling_list="people", count=3)
    assert [(p.external_id, p.rendered) for p in shown] == [
        ("C000000", "Hi Ann0"), ("C000001", "Hi Ann1"), ("C000002", "Hi Ann2")]


def test_preview_of_a_chosen_record_and_of_a_missing_one(ready, bu):
    chosen = previews.preview(ready, bu, "Hi {FirstName}", calling_list="people",
                              external_id="C000003")
    assert chosen.rendered == "Hi Ann3"
    missing = previews.preview(ready, bu, "Hi {FirstName}", calling_list="people",
                               external_id="nobody")
    assert missing.rendered is None
    assert "calling list 'people' has no record 'nobody'" in missing.problems


def test_arabic_preview_isolates_a_latin_value_and_reads_right_to_left(ready, bu):
    result = previews.preview(ready, bu, "{FirstName}، لديك نوبة", direction="auto",
                              calling_list="people")
    assert result.direction == "rtl"
    assert result.rendered.startswith("\u2066Ann0\u2069")  # a code-like value: LRI
    assert (result.mark_units, result.mark_segments) == (2, 0)
    bare = previews.preview(ready, bu, "{FirstName}، لديك نوبة", direction="auto",
                            calling_list="people", bidi_marks="off")
    assert bare.rendered.startswith("Ann0،") and bare.mark_units == 0


def test_a_preview_says_when_the_marks_cost_a_segment(ready, bu):
    # 69 units of Arabic and a Latin value starting the text: the fence (2 units) makes 71.
    body = "{FirstName} " + "ب" * 64
    result = previews.preview(ready, bu, body, direction="rtl", calling_list="people")
    assert result.report.units == 71 and result.report.segments == 2
    assert (result.mark_units, result.mark_segments) == (2, 1)
    assert result.as_dict()["bidi_mark_segments"] == 1
