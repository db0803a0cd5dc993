"""`POST /v1/erasures`: a person asks to be forgotten. Their records, texts, replies and
conversations lose what identifies them; reports still add up; their DNC entry stays and still
blocks; the audit log names them masked; nothing is raced with a text in flight."""

from __future__ import annotations

from sqlalchemy import select

from proactive_sms.domain.message_states import MessageState
from proactive_sms.services import administration, audit, launching, webhooks
from proactive_sms.store import messages
from proactive_sms.store.schema import (
    calling_record,
    conversation,
    inbound_message,
    message,
    webhook_event,
)
from tests.factories import import_people, launched_skill, person, us_number
from tests.interfaces.api.conftest import csv_bytes, upload
from tests.interfaces.api.worlds import POSSIBLE_OPT_OUT, reply, texted_skill

PERSON = 1
E164 = "+1" + us_number(PERSON)


def _report(client, headers) -> dict:
    return client.get("/v1/skills/notice/report", headers=headers).json()


def test_erasing_a_number_anonymises_everything_of_theirs_and_keeps_reports(
        client, key_a, engine, bu, clock, texted):
    reply(engine, clock, PERSON, "When does the shift start?")
    before = _report(client, key_a)
    response = client.post("/v1/erasures", headers=key_a, json={"number": us_number(PERSON)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["who"] == "+1******" + E164[-4:]
    assert (body["records"], body["messages"], body["inbound"], body["conversations"]) == (
        1, 1, 1, 1)
    with engine.connect() as conn:
        assert conn.scalar(select(calling_record.c.id).where(
            (calling_record.c.phone == E164) | (calling_record.c.sms_destination == E164))) is None
        assert conn.scalar(select(message.c.id).where(message.c.destination == E164)) is None
        assert conn.scalar(select(inbound_message.c.id)
                           .where(inbound_message.c.sender == E164)) is None
        assert conn.scalar(select(conversation.c.id).where(conversation.c.phone == E164)) is None
        erased = conn.execute(select(calling_record).where(
            calling_record.c.external_id.startswith("erased-"))).one()
        assert erased.fields in ({}, "{}") and erased.postal_code is None
    # The texts still count: the report's figures are those of before.
    after = _report(client, key_a)
    assert (after["total"], after["by_state"]) == (before["total"], before["by_state"])
    listed = client.get("/v1/calling-lists/people/records", headers=key_a,
                        params={"number": E164}).json()["items"]
    assert listed == []
    assert "Ann1" not in client.get("/v1/calling-lists/people/records", headers=key_a).text


def test_the_dnc_entry_is_kept_and_still_blocks_after_erasure(
        client, key_a, engine, bu, clock, texted):
    administration.dnc_add(engine, bu, clock, [us_number(PERSON)])
    assert client.post("/v1/erasures", headers=key_a,
                       json={"number": E164}).status_code == 200
    assert administration.dnc_check(engine, bu, E164) == ["default"]
    # The person comes back in a new list: the new skill skips them as dnc.
    assert upload(client, key_a, "again", csv_bytes([person(PERSON)])).status_code == 200
    created = administration.create_skill(engine, bu, clock, name="again", registration="55501",
                                          calling_list="again")
    summary = launching.start_skill(engine, created.id, clock, message_text="Hi again")
    assert summary.pending == 0 and dict(summary.skipped) == {"dnc": 1}


def test_the_audit_entry_names_the_number_masked(client, key_a, engine, bu, texted):
    client.post("/v1/erasures", headers=key_a, json={"number": E164})
    entry = audit.entries(engine, bu, action="person").entries[0]
    assert entry.action == "person.erased" and entry.username == "(api)"
    assert E164 not in entry.target + entry.detail and us_number(PERSON) not in entry.detail
    assert entry.target.endswith(E164[-4:])


def test_erasing_by_external_id_takes_their_texts_too(client, key_a, engine, texted):
    response = client.post("/v1/erasures", headers=key_a, json={"external_id": "C000002"})
    assert response.status_code == 200
    assert (response.json()["records"], response.json()["messages"]) == (1, 1)
    gone = "+1" + us_number(2)
    with engine.connect() as conn:
        assert conn.scalar(select(message.c.id).where(message.c.destination == gone)) is None
    assert client.get("/v1/calling-lists/people/records/C000002",
                      headers=key_a).status_code == 404


def test_pending_texts_are_cancelled_and_counted_as_such(client, key_a, engine, bu, clock,
                                                          tmp_path):
    launched_skill(engine, bu, clock, tmp_path, 3)
    response = client.post("/v1/erasures", headers=key_a, json={"number": E164})
    assert response.json()["cancelled"] == 1
    report = _report(client, key_a)
    assert report["total"] == 3 and report["by_state"]["cancelled"] == 1
    assert report["by_state"]["pending"] == 2


def test_refused_while_a_text_to_them_is_being_submitted(client, key_a, engine, bu, clock,
                                                         tmp_path):
    skill = launched_skill(engine, bu, clock, tmp_path, 3)
    with engine.begin() as conn:
        claimed = conn.scalar(select(message.c.id).where(message.c.skill_id == skill.id,
                                                         message.c.destination == E164))
        messages.transition(conn, [claimed], MessageState.SUBMITTING, clock.now(),
                            submitted_at=clock.now())
    refused = client.post("/v1/erasures", headers=key_a, json={"number": E164})
    assert refused.status_code == 409
    assert "being submitted" in refused.json()["detail"] and E164 not in refused.text
    with engine.connect() as conn:  # nothing of the erasure was written
        assert conn.scalar(select(message.c.destination)
                           .where(message.c.id == claimed)) == E164
        assert conn.scalar(select(calling_record.c.id)
                           .where(calling_record.c.phone == E164)) is not None


def test_bad_and_missing_input(client, key_a, texted):
    nothing = client.post("/v1/erasures", headers=key_a, json={})
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["field"] == "number"
    bad = client.post("/v1/erasures", headers=key_a, json={"number": "12ab"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "number"
    unknown = client.post("/v1/erasures", headers=key_a, json={"phone": E164})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "phone"
    stranger = client.post("/v1/erasures", headers=key_a, json={"number": "+12125550199"})
    assert stranger.status_code == 404


def test_another_bu_cannot_erase_this_bus_people(client, key_a, key_b, engine, bu, clock,
                                                 tmp_path, neighbour):
    import_people(engine, bu, clock, tmp_path, 3)
    response = client.post("/v1/erasures", headers=key_b, json={"number": E164})
    assert response.status_code == 404
    assert "Ann1" not in response.text
    found = client.get("/v1/calling-lists/people/records", headers=key_a,
                       params={"number": E164}).json()["items"]
    assert [r["external_id"] for r in found] == ["C000001"]


def test_webhook_events_keep_the_number_only_masked(client, key_a, engine, bu, clock,
                                                     tmp_path):
    webhooks.set_endpoint(engine, bu, clock, "https://hooks.corp.example/psms")
    texted_skill(engine, bu, clock, tmp_path, 3)
    with engine.connect() as conn:
        bodies = list(conn.scalars(select(webhook_event.c.body)))
    assert any(E164 in body for body in bodies)  # the events named the number
    response = client.post("/v1/erasures", headers=key_a, json={"number": E164})
    assert response.json()["webhook_events"] >= 1
    with engine.connect() as conn:
        bodies = list(conn.scalars(select(webhook_event.c.body)))
    assert not any(E164 in body for body in bodies)
    assert any("+1******" + E164[-4:] in body for body in bodies)
    assert any("+1" + us_number(2) in body for body in bodies)  # others are untouched


def test_refused_while_their_possible_opt_out_awaits_review(client, key_a, engine, clock,
                                                            texted):
    reply(engine, clock, PERSON, POSSIBLE_OPT_OUT)
    refused = client.post("/v1/erasures", headers=key_a, json={"number": E164})
    assert refused.status_code == 409 and "awaits review" in refused.json()["detail"]
    with engine.connect() as conn:
        assert conn.scalar(select(inbound_message.c.sender)
                           .where(inbound_message.c.review_state == "pending")) == E164
