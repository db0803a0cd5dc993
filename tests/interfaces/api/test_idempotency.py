"""`Idempotency-Key` on start: the same request twice starts once and answers the same."""

from __future__ import annotations

from tests.interfaces.api.conftest import set_up_skill


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
