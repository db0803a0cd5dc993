"""Launch: every record decided exactly once, with the right skip reasons."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from proactive_sms.domain import template
from proactive_sms.domain.message_states import MessageState
from proactive_sms.services import administration, importing, launching, record_decision
from proactive_sms.store import skills as skill_store
from proactive_sms.store.schema import message
from tests.factories import HEADER, import_people, person, registration, skill, us_number, write_csv


def _decisions(engine, skill_id):
    with engine.connect() as conn:
        return conn.execute(select(message.c.record_id, message.c.state, message.c.skip_reason,
                                   message.c.body, message.c.segments, message.c.encoding)
                            .where(message.c.skill_id == skill_id)).all()


def _setup(engine, bu, clock, tmp_path, count=50, **skill_options):
    import_people(engine, bu, clock, tmp_path, count)
    registration(engine, bu, clock)
    return skill(engine, bu, clock, **skill_options)


def test_launch_renders_pending_texts_and_runs(engine, bu, clock, tmp_path):
    created = _setup(engine, bu, clock, tmp_path, count=30)
    summary = launching.start_skill(engine, created.id, clock,
                                    message_text="Hi {FirstName}, shift open tonight.")
    assert summary.pending == 30
    assert summary.status is skill_store.SkillStatus.RUNNING
    rows = _decisions(engine, created.id)
    assert len(rows) == 30
    assert {r.state for r in rows} == {"pending"}
    assert "Hi Ann7, shift open tonight." in {r.body for r in rows}
    assert {(r.segments, r.encoding) for r in rows} == {(1, "gsm7")}


def test_the_database_refuses_a_second_message_for_the_same_skill_and_record(engine, bu, clock,
                                                                           tmp_path):
    created = _setup(engine, bu, clock, tmp_path, count=1)
    launching.start_skill(engine, created.id, clock, message_text="Hello")
    (row,) = _decisions(engine, created.id)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(message).values(
            skill_id=created.id, record_id=row.record_id, state="pending", segments=1,
            attempts=0, created_at=clock.now()))


def test_starting_twice_creates_nothing_twice(engine, bu, clock, tmp_path):
    created = _setup(engine, bu, clock, tmp_path, count=40)
    launching.start_skill(engine, created.id, clock, message_text="Hello")
    second = launching.start_skill(engine, created.id, clock, message_text="Hello again")
    assert second.already_started
    assert len(_decisions(engine, created.id)) == 40


def test_two_launches_at_once_decide_each_record_once(engine, bu, clock, tmp_path):
    created = _setup(engine, bu, clock, tmp_path, count=3000)
    with engine.begin() as conn:  # both runners find the skill mid-launch, as after a crash
        skill_store.set_text(conn, created.id, None, "Hello {FirstName}", "auto")
        skill_store.change_status(conn, created.id, skill_store.SkillStatus.LAUNCHING,
                                  [skill_store.SkillStatus.DRAFT], clock.now())
    errors: list[BaseException] = []

    def run():
        try:
            launching.start_skill(engine, created.id, clock, batch_size=200)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = _decisions(engine, created.id)
    assert len(rows) == 3000
    assert len({r.record_id for r in rows}) == 3000


class Crash(Exception):
    pass


def test_a_launch_killed_halfway_resumes_with_one_decision_per_record(engine, bu, clock,
                                                                     tmp_path):
    created = _setup(engine, bu, clock, tmp_path, count=1000)

    def crash_after_two_batches(done: int) -> None:
        if done >= 200:
            raise Crash()

    with pytest.raises(Crash):
        launching.start_skill(engine, created.id, clock, message_text="Hi {FirstName}",
                              batch_size=100, after_batch=crash_after_two_batches)
    assert len(_decisions(engine, created.id)) == 200
    with engine.connect() as conn:
        assert skill_store.skill_by_id(conn, created.id).status is skill_store.SkillStatus.LAUNCHING

    summary = launching.start_skill(engine, created.id, clock, batch_size=100)
    assert summary.decided_now == 800
    rows = _decisions(engine, created.id)
    assert len(rows) == 1000 == len({r.record_id for r in rows})
    assert summary.status is skill_store.SkillStatus.RUNNING


def test_every_skip_reason(engine, bu, clock, tmp_path):
    header = [*HEADER, "ExpirationDate", "SMSPhoneNumber"]
    rows = [
        [*person(1), "", ""],  # pending
        [*person(2), "", ""],  # dnc
        [*person(3, IsCellPhone="false"), "", ""],  # no_mobile_number
        [*person(4, IsCellPhone="false"), "", "555"],  # invalid_number
        [*person(5, FirstName=""), "", ""],  # missing_field
        [*person(6, FirstName="W" * 600), "", ""],  # too_long (over 3 segments)
        [*person(7, PhoneNumber=us_number(1)), "", ""],  # duplicate_destination of record 1
        [*person(8), "2026-03-01", ""],  # expired (the clock says 2026-03-04)
        [*person(9), "2026-03-04", ""],  # expires today: still sent
    ]
    write_csv(tmp_path / "people.csv", rows, header)
    importing.import_calling_list(engine, bu, "people", tmp_path / "people.csv", clock)
    registration(engine, bu, clock)
    administration.dnc_add(engine, bu, clock, [us_number(2)])
    created = skill(engine, bu, clock)
    summary = launching.start_skill(engine, created.id, clock, message_text="Hi {FirstName}!")
    assert summary.pending == 2
    assert summary.skipped == Counter({"dnc": 1, "no_mobile_number": 1, "invalid_number": 1,
                                       "missing_field": 1, "too_long": 1,
                                       "duplicate_destination": 1, "expired": 1})
    by_state = Counter(r.state for r in _decisions(engine, created.id))
    assert by_state == {MessageState.PENDING.value: 2, MessageState.SKIPPED.value: 7}


def test_dnc_group_of_the_registration_is_used_instead_of_the_tenant_list(engine, bu, clock,
                                                                        tmp_path):
    import_people(engine, bu, clock, tmp_path, 3)
    registration(engine, bu, clock, dnc_group="vip")
    administration.dnc_add(engine, bu, clock, [us_number(0)])  # tenant default list
    administration.dnc_add(engine, bu, clock, [us_number(1)], group="vip")
    created = skill(engine, bu, clock)
    summary = launching.start_skill(engine, created.id, clock, message_text="Hello")
    assert summary.skipped == Counter({"dnc": 1})
    with engine.connect() as conn:
        dnc_row = conn.execute(select(message.c.destination).where(
            message.c.skip_reason == "dnc")).scalar_one()
    assert dnc_row == "+1" + us_number(1)


def test_saved_template_with_unknown_field_refuses_to_start(engine, bu, clock, tmp_path):
    created = _setup(engine, bu, clock, tmp_path, count=3)
    saved = administration.save_template(engine, bu, clock, "t", "Hi {FirstNme}!")
    with pytest.raises(launching.LaunchError, match=r"FirstNme.*position 3"):
        launching.start_skill(engine, created.id, clock, template_id=saved.id)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(message)) == 0
        assert skill_store.skill_by_id(conn, created.id).status is skill_store.SkillStatus.DRAFT


def test_arabic_template_is_ucs2_with_isolated_values(engine, bu, clock, tmp_path):
    created = _setup(engine, bu, clock, tmp_path, count=2)
    # The Latin value starts the text: unfenced it would turn the paragraph left-to-right.
    saved = administration.save_template(engine, bu, clock, "ar", "{FirstName}، لديك موعد")
    launching.start_skill(engine, created.id, clock, template_id=saved.id)
    rows = _decisions(engine, created.id)
    assert {r.encoding for r in rows} == {"ucs2"}
    assert any(r.body == "\u2066Ann1\u2069، لديك موعد" for r in rows)  # a code-like value: LRI


def test_a_template_without_bidi_marks_sends_its_values_bare(engine, bu, clock, tmp_path):
    created = _setup(engine, bu, clock, tmp_path, count=2)
    saved = administration.save_template(engine, bu, clock, "ar", "{FirstName}، لديك موعد",
                                         bidi_marks="off")
    assert saved.bidi_marks == "off"
    launching.start_skill(engine, created.id, clock, template_id=saved.id)
    bodies = {r.body for r in _decisions(engine, created.id)}
    assert "Ann1، لديك موعد" in bodies
    assert not any(ch in body for body in bodies for ch in "\u2066\u2068\u2069")


def test_two_launches_at_once_count_each_record_once_between_them(engine, bu, clock, tmp_path):
    created = _setup(engine, bu, clock, tmp_path, count=2000)
    with engine.begin() as conn:
        skill_store.set_text(conn, created.id, None, "Hello {FirstName}", "auto")
        skill_store.change_status(conn, created.id, skill_store.SkillStatus.LAUNCHING,
                                  [skill_store.SkillStatus.DRAFT], clock.now())
    summaries: list[launching.LaunchSummary] = []
    threads = [threading.Thread(target=lambda: summaries.append(
        launching.start_skill(engine, created.id, clock, batch_size=150))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # decided_now counts only what each one really inserted: together, every record once
    assert sum(s.decided_now for s in summaries) == 2000


def test_a_list_imported_after_others_is_launched_whole_and_alone(engine, bu, clock, tmp_path):
    import_people(engine, bu, clock, tmp_path, 700, name="first")
    header = [*HEADER, "Balance"]
    rows = [[*person(i), f"${i}.00"] for i in range(1000, 1900)]
    importing.import_calling_list(engine, bu, "people", write_csv(tmp_path / "p.csv", rows,
                                                                  header), clock)
    import_people(engine, bu, clock, tmp_path, 300, name="last")
    registration(engine, bu, clock)
    created = skill(engine, bu, clock)
    summary = launching.start_skill(engine, created.id, clock, batch_size=128,
                                    message_text="Hi {first_name}, {Balance} is due")
    assert summary.pending == 900
    bodies = {r.body for r in _decisions(engine, created.id)}
    assert len(bodies) == 900
    assert "Hi Ann1899, $1899.00 is due" in bodies


_NAMES = ["FirstName", "first_name", "First Name", "Balance", "balance", "Note", "City"]
_VALUES = st.one_of(st.sampled_from(["Ann", " ", "", "$12.50", "\u2066x", "https://x.co/a"]),
                    st.none(), st.integers(), st.text(max_size=8))
_TEMPLATES = ["Hi {FirstName}, {Balance} is due.", "{first name}{balance}", "مرحبا {FirstName}",
              "{Note} https://x.co/{Balance}", "{FirstName} {FirstName}", "fixed"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_TEMPLATES), st.sampled_from(["ltr", "rtl", "auto"]),
       st.lists(st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=5), max_size=6))
def test_the_launch_renderer_is_template_render(body, direction, records):
    parsed = template.parse(body)
    resolved = template.resolve_direction(parsed, direction)
    renderer = record_decision.Renderer(parsed, resolved)
    for fields in [*records, *records]:  # twice: the second time from the cached plans
        try:
            expected = template.render(parsed, fields, resolved)
        except template.MissingFieldError as exc:
            with pytest.raises(template.MissingFieldError) as raised:
                renderer.render(fields)
            assert raised.value.field == exc.field
            continue
        assert renderer.render(fields) == expected
