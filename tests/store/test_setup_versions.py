"""store.versions on the set-up rows (issue 17, crud-a): templates and registrations; archive and
referenced (what refers to a row decides between deleting and archiving it)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from proactive_sms.services import administration
from proactive_sms.store import versions
from proactive_sms.store.errors import NotFound, StaleVersion
from proactive_sms.store.schema import sms_registration, template
from tests.factories import registration


def _template_id(engine, bu, clock) -> int:
    return administration.save_template(engine, bu, clock, "hello", "Hi").id


def test_a_change_at_the_expected_version_raises_it_by_one(engine, bu, clock):
    row_id = _template_id(engine, bu, clock)
    with engine.begin() as conn:
        versions.change(conn, template, row_id, 1, "template", "hello", body="Hello")
        versions.change(conn, template, row_id, None, "template", "hello", body="Hey")
        assert conn.scalar(select(template.c.version).where(template.c.id == row_id)) == 3


def test_a_stale_version_is_refused_naming_the_current_one(engine, bu, clock):
    row_id = _template_id(engine, bu, clock)
    with engine.begin() as conn:
        versions.change(conn, template, row_id, 1, "template", "hello", body="Hello")
    with pytest.raises(StaleVersion) as refused, engine.begin() as conn:
        versions.change(conn, template, row_id, 1, "template", "hello", body="Lost")
    assert (refused.value.expected, refused.value.current) == (1, 2)
    with pytest.raises(StaleVersion), engine.begin() as conn:
        versions.remove(conn, template, row_id, 1, kind="template", key="hello")
    assert administration.find_template(engine, bu, "hello").body == "Hello"


def test_a_change_of_a_row_that_is_gone_is_not_found(engine, bu, clock):
    row_id = _template_id(engine, bu, clock)
    with engine.begin() as conn:
        versions.remove(conn, template, row_id, 1, kind="template", key="hello")
    with pytest.raises(NotFound), engine.begin() as conn:
        versions.change(conn, template, row_id, 1, "template", "hello", body="x")


def test_of_two_overlapping_changes_from_the_same_read_exactly_one_wins(engine, bu, clock):
    row_id = _template_id(engine, bu, clock)
    first_wrote, outcomes = threading.Event(), {}

    def first() -> None:
        with engine.begin() as conn:
            versions.change(conn, template, row_id, 1, "template", "hello", body="first")
            first_wrote.set()
            # Hold the transaction open while the second change starts and waits on the row.
            threading.Event().wait(0.5)
        outcomes["first"] = "won"

    def second() -> None:
        first_wrote.wait(10)
        try:
            with engine.begin() as conn:
                versions.change(conn, template, row_id, 1, "template", "hello", body="second")
            outcomes["second"] = "won"
        except StaleVersion:
            outcomes["second"] = "412"

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == {"first": "won", "second": "412"}
    assert administration.find_template(engine, bu, "hello").body == "first"


def test_referenced_names_the_tables_whose_rows_refer_to_a_row(engine, bu, clock, tmp_path):
    from tests.factories import import_people, skill
    reg = registration(engine, bu, clock)
    with engine.connect() as conn:
        assert versions.referenced(conn, sms_registration, reg.id) == []
    import_people(engine, bu, clock, tmp_path, 1)
    skill(engine, bu, clock)
    with engine.connect() as conn:
        assert versions.referenced(conn, sms_registration, reg.id) == ["skill"]
