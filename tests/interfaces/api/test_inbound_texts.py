"""`/v1/inbound-texts` and `/v1/reviews`: texts received, filtered; possible opt-outs decided."""

from __future__ import annotations

from tests.factories import us_number
from tests.interfaces.api.worlds import POSSIBLE_OPT_OUT, reply


def _texts(client, headers, **params):
    response = client.get("/v1/inbound-texts", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [(i["text"], i["sender"]) for i in response.json()["items"]]


def test_inbound_texts_are_listed_and_read_with_their_classification(client, key_a, engine,
                                                                     clock, texted):
    outcome = reply(engine, clock, 1, "Can I pay next week?")
    listed = client.get("/v1/inbound-texts", headers=key_a).json()["items"]
    assert len(listed) == 1
    one = client.get(f"/v1/inbound-texts/{outcome.inbound_id}", headers=key_a).json()
    assert one == listed[0]
    assert (one["sender"], one["classification"], one["skill"], one["conversation_id"]) == (
        "+1" + us_number(1), "reply", "notice", outcome.conversation_id)


def test_filters_classification_number_skill_and_since(client, key_a, engine, clock, texted):
    reply(engine, clock, 0, "STOP")
    clock.advance(3600)
    reply(engine, clock, 1, "Can I pay next week?")
    reply(engine, clock, 2, "HELP")
    since = clock.now().isoformat()
    clock.advance(60)
    reply(engine, clock, 2, "thanks")
    assert _texts(client, key_a, classification="opt_out") == [("STOP", "+1" + us_number(0))]
    assert [t for t, _ in _texts(client, key_a, number=f"(212) {us_number(2)[3:6]}-"
                                                      f"{us_number(2)[6:]}")] == ["HELP", "thanks"]
    assert len(_texts(client, key_a, skill="notice")) == 4
    assert [t for t, _ in _texts(client, key_a, since=since)] == [
        "Can I pay next week?", "HELP", "thanks"]
    naive_utc = clock.now().replace(tzinfo=None).isoformat()
    assert [t for t, _ in _texts(client, key_a, since=naive_utc)] == ["thanks"]
    assert _texts(client, key_a, classification="help", number=us_number(1)) == []


def test_bad_filters_are_problems_naming_them(client, key_a, texted):
    for params, field in [({"classification": "spam"}, "classification"),
                          ({"since": "yesterday"}, "since"), ({"number": "abc"}, "number")]:
        response = client.get("/v1/inbound-texts", headers=key_a, params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] == field
    assert client.get("/v1/inbound-texts", headers=key_a,
                      params={"skill": "nope"}).status_code == 404


def test_a_possible_opt_out_is_accepted_from_the_review_queue(client, key_a, engine, clock,
                                                              texted):
    outcome = reply(engine, clock, 1, POSSIBLE_OPT_OUT)
    queue = client.get("/v1/reviews", headers=key_a).json()["items"]
    assert [(i["id"], i["review_state"]) for i in queue] == [(outcome.inbound_id, "pending")]
    keyed = {**key_a, "Idempotency-Key": "review-1"}
    first = client.post(f"/v1/reviews/{outcome.inbound_id}/accept", headers=keyed)
    decided = first.json()
    assert decided["dnc_changed"] and decided["confirmation_id"] is not None
    # a retried request (a lost answer) gets the same answer and texts no second confirmation
    retried = client.post(f"/v1/reviews/{outcome.inbound_id}/accept", headers=keyed)
    assert retried.status_code == 200 and retried.headers["Idempotency-Replayed"] == "true"
    assert retried.json() == decided
    assert decided["inbound"]["review_state"] == "accepted"
    assert client.get(f"/v1/dnc/numbers/{us_number(1)}", headers=key_a).json()["lists"] == [
        "default"]
    assert client.get("/v1/reviews", headers=key_a).json()["items"] == []
    again = client.post(f"/v1/reviews/{outcome.inbound_id}/reject", headers=key_a)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "review_state"


def test_a_rejected_review_is_an_ordinary_reply(client, key_a, engine, clock, texted):
    outcome = reply(engine, clock, 2, POSSIBLE_OPT_OUT)
    decided = client.post(f"/v1/reviews/{outcome.inbound_id}/reject", headers=key_a).json()
    assert not decided["dnc_changed"] and decided["inbound"]["review_state"] == "rejected"
    assert decided["conversation_id"] is not None  # an sms_messaging code: a conversation
    assert client.get(f"/v1/dnc/numbers/{us_number(2)}", headers=key_a).json()["lists"] == []


def test_an_unknown_inbound_id_answers_404(client, key_a, texted):
    assert client.get("/v1/inbound-texts/424242", headers=key_a).status_code == 404
    assert client.post("/v1/reviews/424242/accept", headers=key_a).status_code == 404
