"""`/v1/messages`: found by skill, state and number (in any spelling), and one in full with
its carrier parts and receipts."""

from __future__ import annotations

from proactive_sms.services import administration, conversations
from tests.factories import us_number
from tests.interfaces.api.worlds import reply


def _ids(client, headers, **params):
    response = client.get("/v1/messages", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["items"]]


def test_a_message_in_full_has_its_parts_receipt_and_timestamps(client, key_a, texted):
    first = texted.message_ids[0]
    m = client.get(f"/v1/messages/{first}", headers=key_a).json()
    assert (m["state"], m["skill"], m["registration"], m["kind"]) == (
        "delivered", "notice", "55501", "skill")
    assert m["destination"] == "+1" + us_number(0)
    assert (m["body"], m["encoding"], m["segments"]) == ("Hi Ann0, we miss you.", "gsm7", 1)
    assert m["submitted_at"] and m["sent_at"] and m["finished_at"]
    assert m["parts"] == [{"part_no": 1, "carrier_message_id": f"A{first:03d}",
                           "receipt_state": "delivered", "receipt_error": None,
                           "receipt_at": m["parts"][0]["receipt_at"]}]
    assert m["error_code"] is None


def test_filter_by_number_in_any_spelling(client, key_a, texted):
    number = us_number(2)  # 212 + 7 digits
    spellings = [number, "+1" + number, f"({number[:3]}) {number[3:6]}-{number[6:]}",
                 f"1-{number[:3]}-{number[3:6]}-{number[6:]}"]
    for spelling in spellings:
        assert _ids(client, key_a, number=spelling) == [texted.message_ids[2]]


def test_a_number_filter_that_is_no_number_is_a_problem_naming_number(client, key_a, texted):
    response = client.get("/v1/messages", headers=key_a, params={"number": "12"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "number"


def test_filter_by_state_and_skill(client, key_a, engine, bu, clock, texted):
    administration.create_skill(engine, bu, clock, name="later", registration="55501",
                                calling_list="people")
    assert _ids(client, key_a, state="delivered") == texted.message_ids
    assert _ids(client, key_a, state="pending") == []
    assert _ids(client, key_a, skill="notice") == texted.message_ids
    assert _ids(client, key_a, skill="later") == []
    assert _ids(client, key_a, skill="notice", state="delivered",
                number=us_number(1)) == [texted.message_ids[1]]


def test_an_unknown_state_or_skill_is_a_problem(client, key_a, texted):
    bad_state = client.get("/v1/messages", headers=key_a, params={"state": "lost"})
    assert bad_state.status_code == 422 and bad_state.json()["errors"][0]["field"] == "state"
    no_skill = client.get("/v1/messages", headers=key_a, params={"skill": "nope"})
    assert no_skill.status_code == 404 and no_skill.json()["errors"][0]["field"] == "skill"


def test_system_texts_are_the_bus_messages_too(client, key_a, engine, bu, clock, texted):
    outcome = reply(engine, clock, 1, "Can I pay next week?")
    answer_id = conversations.reply(engine, bu, clock, outcome.conversation_id, "Yes.")
    stop = reply(engine, clock, 3, "STOP")
    listed = client.get("/v1/messages", headers=key_a, params={"state": "pending"}).json()
    kinds = {m["id"]: (m["kind"], m["skill"]) for m in listed["items"]}
    assert kinds == {answer_id: ("agent_reply", None),
                     stop.confirmation_id: ("opt_out_confirmation", None)}
    answer = client.get(f"/v1/messages/{answer_id}", headers=key_a).json()
    assert (answer["conversation_id"], answer["registration"], answer["body"]) == (
        outcome.conversation_id, "55501", "Yes.")


def test_an_unknown_message_id_answers_404(client, key_a, texted):
    response = client.get("/v1/messages/999999", headers=key_a)
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "message"
