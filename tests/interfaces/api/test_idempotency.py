"""`Idempotency-Key`: the same request twice runs once and answers the same, after a restart
too; another request with the key is refused; every POST that creates or sends honors it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from proactive_sms.interfaces.api.app import create_app
from proactive_sms.store.schema import idempotency_key
from tests.factories import person, us_number
from tests.interfaces.api.conftest import csv_bytes, set_up_skill


def _start(client, headers, key: str | None, **body):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/v1/skills/notice/start", headers={**headers, **extra}, json=body)


def test_the_same_start_twice_starts_once_and_replays_the_answer(client, key_a):
    set_up_skill(client, key_a, 3)
    first = _start(client, key_a, "start-1", template="tip")
    again = _start(client, key_a, "start-1", template="tip")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["already_started"] is False and first.json()["pending"] == 3
    assert again.headers["Idempotency-Replayed"] == "true"
    report = client.get("/v1/skills/notice/report", headers=key_a).json()
    assert report["total"] == 3  # one text per record, not two


def test_the_same_ad_hoc_send_twice_texts_each_record_once(client, key_a):
    set_up_skill(client, key_a, 4, template=None)
    for _ in range(2):
        assert _start(client, key_a, "bonus-shift", message="Bonus shift open").status_code == 200
    report = client.get("/v1/skills/notice/report", headers=key_a).json()
    assert report["total"] == 4 and report["by_state"]["pending"] == 4


def test_a_start_without_a_key_repeated_reports_it_was_already_started(client, key_a):
    set_up_skill(client, key_a, 2)
    assert _start(client, key_a, None).json()["already_started"] is False
    assert _start(client, key_a, None).json()["already_started"] is True


def test_a_key_reused_for_another_request_is_a_409(client, key_a):
    set_up_skill(client, key_a, 1, template=None)
    _start(client, key_a, "k", message="first text")
    response = _start(client, key_a, "k", message="another text")
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_key_is_the_bus_own(client, key_a, key_b):
    """Another BU's request with the same key gets no replay of A's answer."""
    set_up_skill(client, key_a, 1)
    _start(client, key_a, "shared", template="tip")
    response = _start(client, key_b, "shared", template="tip")
    assert response.status_code == 404
    assert "Idempotency-Replayed" not in response.headers


def test_template_and_message_together_are_refused(client, key_a):
    set_up_skill(client, key_a, 1)
    response = _start(client, key_a, None, template="tip", message="x")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "message"


# --- persistent keys: every POST that creates or sends ------------------------------------

def _messages_of(client, headers, skill="notice"):
    items, cursor = [], None
    while True:
        page = client.get("/v1/messages", headers=headers,
                          params={"skill": skill, **({"cursor": cursor} if cursor else {})}).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_the_same_ad_hoc_send_twice_makes_one_message_per_record(client, key_a):
    set_up_skill(client, key_a, 5, template=None)
    answers = [_start(client, key_a, "adhoc-1", message="Bonus shift open") for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert "Idempotency-Replayed" not in answers[0].headers
    assert answers[1].headers["Idempotency-Replayed"] == "true"
    texts = _messages_of(client, key_a)
    assert len(texts) == 5 and {t["body"] for t in texts} == {"Bonus shift open"}


def test_a_replay_survives_a_restart(engine, clock, client, key_a):
    set_up_skill(client, key_a, 2)
    first = _start(client, key_a, "before-restart", template="tip")
    restarted = TestClient(create_app(engine, clock))  # a new process over the same store
    again = _start(restarted, key_a, "before-restart", template="tip")
    assert again.json() == first.json() and again.headers["Idempotency-Replayed"] == "true"
    assert again.json()["already_started"] is False  # the first answer, not a second start


def test_a_request_still_running_answers_409_in_progress(engine, client, key_a):
    set_up_skill(client, key_a, 1)
    _start(client, key_a, "slow", template="tip")
    with engine.begin() as conn:  # as if the first request with this key were still running
        conn.execute(idempotency_key.update().values(status_code=None, response_body=None))
    response = _start(client, key_a, "slow", template="tip")
    assert response.status_code == 409 and response.headers["Retry-After"] == "1"
    assert response.json()["type"].endswith("idempotency-key-in-progress")
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_failed_request_frees_its_key_for_the_corrected_retry(client, key_a):
    headers = {**key_a, "Idempotency-Key": "create-1"}
    body = {"name": "later", "registration": "55501", "calling_list": "people"}
    assert client.post("/v1/skills", headers=headers, json=body).status_code == 404
    set_up_skill(client, key_a, 1)
    created = client.post("/v1/skills", headers=headers, json=body)
    assert created.status_code == 201 and "Idempotency-Replayed" not in created.headers


def test_a_key_is_kept_a_day(client, key_a, clock):
    set_up_skill(client, key_a, 1)
    _start(client, key_a, "daily", template="tip")
    clock.advance(timedelta(hours=23).total_seconds())
    assert _start(client, key_a, "daily", template="tip").headers.get(
        "Idempotency-Replayed") == "true"
    clock.advance(timedelta(hours=1, seconds=1).total_seconds())
    fresh = _start(client, key_a, "daily", template="tip")
    assert "Idempotency-Replayed" not in fresh.headers
    assert fresh.json()["already_started"] is True  # run again: the store still starts once


def _people() -> bytes:
    return csv_bytes([person(1), person(2)])


# Each POST that creates or sends, and what a second run without the key would do instead.
CREATES = [
    ("/v1/registrations", {"json": {"code": "55599", "kind": "short",
                                    "throughput_per_s": 5}}, 201),
    ("/v1/campaigns", {"json": {"name": "autumn"}}, 201),
    ("/v1/skills", {"json": {"name": "second", "registration": "55501",
                             "calling_list": "people"}}, 201),
    ("/v1/connections", {"json": {"name": "c", "host": "h", "system_id": "s",
                                  "password": "p"}}, 201),
    ("/v1/dnc/numbers", {"json": {"numbers": [us_number(5)]}}, 200),
    ("/v1/dnc/lists/legal/imports", {"files": {"file": ("d.csv", b"number\n2125550188\n",
                                                        "text/csv")}}, 200),
]


@pytest.mark.parametrize(("path", "payload", "status"), CREATES)
def test_every_create_replays_its_first_answer(client, key_a, path, payload, status):
    set_up_skill(client, key_a, 1)
    headers = {**key_a, "Idempotency-Key": "once"}
    first = client.post(path, headers=headers, **payload)
    again = client.post(path, headers=headers, **payload)  # a new multipart boundary, too
    assert first.status_code == again.status_code == status, first.text
    assert again.json() == first.json() and again.headers["Idempotency-Replayed"] == "true"
    without_key = client.post(path, headers=key_a, **payload)
    if status == 201:  # proof that the replay did nothing: a second create is refused
        assert without_key.status_code == 409
    else:  # an import or add run again finds everything there already
        assert without_key.json() != first.json()


def test_a_replayed_import_does_not_import_again(client, key_a):
    headers = {**key_a, "Idempotency-Key": "import-1"}
    upload = {"file": ("p.csv", _people(), "text/csv")}
    first = client.post("/v1/calling-lists/more/imports", headers=headers, files=upload)
    changed = csv_bytes([person(1, FirstName="Changed")])
    client.post("/v1/calling-lists/more/imports", headers=key_a,
                files={"file": ("p.csv", changed, "text/csv")})
    again = client.post("/v1/calling-lists/more/imports", headers=headers, files=upload)
    assert again.json() == first.json() and again.headers["Idempotency-Replayed"] == "true"
    records = client.get("/v1/calling-lists/more/records", headers=key_a).json()["items"]
    assert records[0]["fields"]["FirstName"] == "Changed"  # not imported over again
    other_file = client.post("/v1/calling-lists/more/imports", headers=headers,
                             files={"file": ("p.csv", changed, "text/csv")})
    assert other_file.status_code == 409  # same key, another file


def test_a_template_save_with_a_key_cannot_undo_a_later_change(client, key_a):
    headers = {**key_a, "Idempotency-Key": "save-1"}
    client.put("/v1/templates/t", headers=headers, json={"body": "first"})
    client.put("/v1/templates/t", headers=key_a, json={"body": "changed since"})
    retried = client.put("/v1/templates/t", headers=headers, json={"body": "first"})
    assert retried.headers["Idempotency-Replayed"] == "true"
    assert client.get("/v1/templates/t", headers=key_a).json()["body"] == "changed since"


GUARDED = [("post", "/v1/registrations"), ("post", "/v1/campaigns"), ("post", "/v1/skills"),
           ("post", "/v1/skills/{name}/start"), ("put", "/v1/templates/{name}"),
           ("post", "/v1/calling-lists/{name}/imports"), ("post", "/v1/dnc/numbers"),
           ("post", "/v1/dnc/lists/{name}/imports"), ("post", "/v1/connections"),
           ("post", "/v1/conversations/{conversation_id}/replies")]


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_the_openapi_documents_the_key_on_every_guarded_route(client, method, path):
    operation = client.get("/openapi.json").json()["paths"][path][method]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert "Idempotency-Key" in headers
    success = next(code for code in operation["responses"] if code.startswith("2"))
    assert "Idempotency-Replayed" in operation["responses"][success]["headers"]
    assert "idempotency-key-in-progress" in operation["responses"]["409"]["description"]


def test_concurrent_requests_with_one_key_start_once(client, key_a):
    """Whatever the timing, one request runs; the others are replays or 409 in progress."""
    set_up_skill(client, key_a, 300, template=None)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: _start(client, key_a, "race", message="Open tonight"),
                                range(4)))
    ran = [a for a in answers if a.status_code == 200 and "Idempotency-Replayed" not in a.headers]
    others = [a for a in answers if a not in ran]
    assert len(ran) == 1 and ran[0].json()["already_started"] is False
    for answer in others:
        assert (answer.status_code == 200 and answer.json() == ran[0].json()) or (
            answer.status_code == 409 and answer.headers["Retry-After"] == "1"), answer.text
    assert len(_messages_of(client, key_a)) == 300
