"""Issue 17: every set-up resource can be shown, changed (PATCH) and removed (DELETE) over the
API: registrations, connections, templates, the webhook, agents, console users and API keys.

For each: GET one carries the ETag, a PATCH changes only what it sends and answers the new
ETag, two PATCHes made from the same read end one 200 and one 412, a key of another unit gets
404 on every verb, unknown fields are 422 naming them, and removal refuses (409, naming what)
while something still to run uses the row, archives it where history refers to it.
"""

from __future__ import annotations

import pytest

from proactive_sms.services import agents, audit, console_users
from tests.interfaces.api.conftest import set_up_skill

CONNECTION = {"name": "carrier", "host": "10.0.0.5", "port": 2775, "system_id": "psms",
              "password": "secret"}


@pytest.fixture
def resources(client, key_a, engine, bu, clock):
    """One of every resource of unit A (sales): connection, registration, template, webhook,
    agent, console user and a second API key."""
    assert client.post("/v1/connections", headers=key_a, json=CONNECTION).status_code == 201
    assert client.post("/v1/registrations", headers=key_a, json={
        "code": "55502", "kind": "short", "throughput_per_s": 10,
        "connection": "carrier"}).status_code == 201
    assert client.put("/v1/templates/hello", headers=key_a,
                      json={"body": "Hi {FirstName}"}).status_code == 200
    assert client.put("/v1/webhook", headers=key_a,
                      json={"url": "https://hooks.example.com/in"}).status_code == 201
    assert client.post("/v1/agents", headers=key_a, json={"name": "ann"}).status_code == 201
    console_users.create(engine, bu, clock, "sue", "supervisor", "correct horse battery")
    from proactive_sms.services import api_keys
    api_keys.create(engine, bu, clock, "spare")
    return client


# (path of one row, a valid change, the field it changes, the value the answer shows)
ROWS = [
    ("/v1/registrations/55502", {"throughput_per_s": 20.0}, "throughput_per_s", 20.0),
    ("/v1/connections/carrier", {"host": "10.0.0.6"}, "host", "10.0.0.6"),
    ("/v1/templates/hello", {"body": "Hello {FirstName}"}, "body", "Hello {FirstName}"),
    ("/v1/webhook", {"active": False}, "active", False),
    ("/v1/agents/ann", {"display_name": "Ann Lee"}, "display_name", "Ann Lee"),
    ("/v1/users/sue", {"role": "admin"}, "role", "admin"),
    ("/v1/api-keys/spare", {"name": "backup"}, "name", "backup"),
]
IDS = [row[0].split("/")[2] for row in ROWS]


@pytest.mark.parametrize(("path", "change", "field", "shown"), ROWS, ids=IDS)
def test_get_carries_the_etag_and_a_patch_changes_only_what_it_sends(
        resources, key_a, path, change, field, shown):
    before = resources.get(path, headers=key_a)
    assert before.status_code == 200, before.text
    assert before.headers["ETag"] == f'"{before.json()["version"]}"'
    patched = resources.patch(path, headers={**key_a, "If-Match": before.headers["ETag"]},
                              json=change)
    assert patched.status_code == 200, patched.text
    assert patched.json()[field] == shown
    assert patched.json()["version"] == before.json()["version"] + 1
    assert patched.headers["ETag"] == f'"{patched.json()["version"]}"'
    untouched = {k: v for k, v in before.json().items()
                 if k not in (field, "version", "updated_at", "link", "pace", "warnings",
                              "disabled", "disabled_at")}
    assert {k: patched.json()[k] for k in untouched} == untouched


@pytest.mark.parametrize(("path", "change", "field", "shown"), ROWS, ids=IDS)
def test_two_patches_from_the_same_read_one_wins_one_is_412(
        resources, key_a, path, change, field, shown):
    if path.startswith("/v1/api-keys"):
        change = {"name": "other"}  # the loser must still name the key by its old name
    tag = resources.get(path, headers=key_a).headers["ETag"]
    first = resources.patch(path, headers={**key_a, "If-Match": tag}, json=change)
    target = path if not path.startswith("/v1/api-keys") else "/v1/api-keys/other"
    second = resources.patch(target, headers={**key_a, "If-Match": tag}, json=change)
    assert first.status_code == 200, first.text
    assert second.status_code == 412, second.text
    assert second.json()["errors"][0]["field"] == "If-Match"
    # Without If-Match the last writer wins, as before.
    assert resources.patch(target, headers=key_a, json=change).status_code == 200


@pytest.mark.parametrize(("path", "change", "field", "shown"), ROWS, ids=IDS)
def test_another_units_key_gets_404_on_every_verb(resources, key_a, key_b, path, change,
                                                  field, shown):
    if path.startswith("/v1/connections"):
        pytest.skip("connections are the tenant's: see the other-tenant test")
    before = resources.get(path, headers=key_a).json()
    assert resources.get(path, headers=key_b).status_code == 404
    assert resources.patch(path, headers=key_b, json=change).status_code == 404
    assert resources.delete(path, headers=key_b).status_code == 404
    assert resources.get(path, headers=key_a).json() == before


def test_another_tenants_key_gets_404_on_a_connection(resources, key_a, key_other_tenant):
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"host": "evil"}} if method == "patch" else {}
        answer = getattr(resources, method)("/v1/connections/carrier",
                                            headers=key_other_tenant, **kwargs)
        assert answer.status_code == 404, (method, answer.text)
    assert resources.get("/v1/connections/carrier", headers=key_a).json()["host"] == "10.0.0.5"


@pytest.mark.parametrize(("path", "change", "field", "shown"), ROWS, ids=IDS)
def test_unknown_fields_are_422_naming_them_and_change_nothing(resources, key_a, path, change,
                                                               field, shown):
    before = resources.get(path, headers=key_a).json()
    answer = resources.patch(path, headers=key_a, json={**change, "colour": "red"})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["colour"]
    assert resources.get(path, headers=key_a).json() == before


def test_a_patch_is_checked_like_a_creation(resources, key_a):
    cases = [
        ("/v1/registrations/55502", {"throughput_per_s": 5000}, "throughput_per_s"),
        ("/v1/registrations/55502", {"throughput_per_s": None}, "throughput_per_s"),
        ("/v1/registrations/55502", {"connection": "nowhere"}, "carrier_connection"),
        ("/v1/connections/carrier", {"password": "123456789"}, "password"),
        ("/v1/connections/carrier", {"window_size": 0}, "window_size"),
        ("/v1/templates/hello", {"body": "Hi {FirstName"}, "body"),
        ("/v1/webhook", {"url": "ftp://hooks.example.com/in"}, "url"),
        ("/v1/agents/ann", {"display_name": "   "}, "display_name"),
        ("/v1/users/sue", {"role": "agent"}, "agent"),
        ("/v1/api-keys/spare", {"name": "  "}, "name"),
        ("/v1/templates/hello", {}, None),
    ]
    for path, change, field in cases:
        before = resources.get(path, headers=key_a).json()
        answer = resources.patch(path, headers=key_a, json=change)
        assert answer.status_code in (404, 422), (path, change, answer.text)
        assert answer.json()["errors"][0]["field"] == field, (path, change, answer.json())
        assert resources.get(path, headers=key_a).json() == before


def test_the_webhook_url_keeps_the_ssrf_rule_on_a_patch(resources, key_a):
    answer = resources.patch("/v1/webhook", headers=key_a, json={"url": "http://10.1.2.3/x"})
    assert answer.status_code == 422
    assert "public address" in answer.json()["detail"]


def test_a_connection_password_is_write_only_and_sealed(resources, key_a, engine):
    answer = resources.patch("/v1/connections/carrier", headers=key_a,
                             json={"password": "n3wpass"})
    assert answer.status_code == 200 and "n3wpass" not in answer.text
    from proactive_sms.store.schema import carrier_connection
    with engine.connect() as conn:
        stored = conn.execute(carrier_connection.select()).one().password
    assert "n3wpass" not in stored
    from proactive_sms.services import administration
    unit = administration.business_unit(engine, "sales")
    assert administration.find_connection(engine, unit, "carrier").password == "n3wpass"


def test_changes_and_removals_are_in_the_units_audit_log(resources, key_a, engine, bu):
    resources.patch("/v1/templates/hello", headers=key_a, json={"direction": "rtl"})
    resources.patch("/v1/connections/carrier", headers=key_a, json={"password": "abc"})
    resources.delete("/v1/agents/ann", headers=key_a)
    resources.delete("/v1/webhook", headers=key_a)
    entries = audit.entries(engine, bu).entries
    seen = {(e.action, e.target): e for e in entries}
    assert ("template.changed", "hello") in seen
    assert seen[("connection.changed", "carrier")].detail == '{"password": "(changed)"}'
    assert ("agent.removed", "ann") in seen
    assert ("webhook.removed", "webhook") in seen
    assert {e.username for e in entries if e.action.endswith((".changed", ".removed"))} == {
        audit.API_USERNAME}


# --- removal ------------------------------------------------------------------------------------

def test_unused_rows_are_deleted_and_gone(resources, key_a):
    assert resources.delete("/v1/registrations/55502", headers=key_a).json()["outcome"] == \
        "deleted"
    for path in ("/v1/connections/carrier", "/v1/templates/hello", "/v1/agents/ann"):
        answer = resources.delete(path, headers=key_a)
        assert answer.status_code == 200, answer.text
        assert answer.json()["outcome"] == "deleted"
        assert resources.get(path, headers=key_a).status_code == 404
        assert resources.delete(path, headers=key_a).status_code == 404
    assert resources.delete("/v1/webhook", headers=key_a).status_code == 204
    assert resources.get("/v1/webhook", headers=key_a).status_code == 404
    assert resources.delete("/v1/users/sue", headers=key_a).status_code == 204
    assert resources.get("/v1/users/sue", headers=key_a).status_code == 404


def test_a_removed_api_key_is_revoked_and_refused(resources, key_a, engine, bu, clock):
    from proactive_sms.services import api_keys
    secret = api_keys.create(engine, bu, clock, "doomed").secret
    doomed = {"Authorization": f"Bearer {secret}"}
    assert resources.get("/v1/templates", headers=doomed).status_code == 200
    removed = resources.delete("/v1/api-keys/doomed", headers=key_a)
    assert removed.status_code == 200 and removed.json()["active"] is False
    assert resources.get("/v1/templates", headers=doomed).status_code == 401
    listed = {k["name"]: k["active"] for k in
              resources.get("/v1/api-keys", headers=key_a).json()["items"]}
    assert listed == {"integration": True, "spare": True, "doomed": False}


def test_a_template_checked_against_a_list_only_is_not_a_change(resources, key_a, engine, bu,
                                                                 clock, tmp_path):
    from tests.factories import import_people
    import_people(engine, bu, clock, tmp_path, 1)
    tag = resources.get("/v1/templates/hello", headers=key_a).headers["ETag"]
    checked = resources.patch("/v1/templates/hello", headers={**key_a, "If-Match": tag},
                              json={"calling_list": "people"})
    assert checked.status_code == 200 and checked.headers["ETag"] == tag
    wrong = resources.patch("/v1/templates/hello", headers=key_a,
                            json={"body": "Hi {Nickname}", "calling_list": "people"})
    assert wrong.status_code == 422 and "Nickname" in wrong.json()["detail"]


def test_a_delete_with_a_stale_etag_is_412_and_removes_nothing(resources, key_a):
    for path, change in [("/v1/templates/hello", {"direction": "rtl"}),
                         ("/v1/webhook", {"active": False}),
                         ("/v1/users/sue", {"disabled": True})]:
        tag = resources.get(path, headers=key_a).headers["ETag"]
        assert resources.patch(path, headers=key_a, json=change).status_code == 200
        stale = resources.delete(path, headers={**key_a, "If-Match": tag})
        assert stale.status_code == 412, (path, stale.text)
        assert resources.get(path, headers=key_a).status_code == 200


@pytest.fixture
def running(client, key_a):
    """Unit A's skill 'notice' running on code 55501 with template 'tip'."""
    set_up_skill(client, key_a, 3)
    assert client.post("/v1/skills/notice/start", headers=key_a, json={}).status_code == 200
    return client


@pytest.mark.parametrize("status", ["running", "paused"])
def test_what_a_running_or_paused_skill_uses_cannot_be_removed(running, key_a, status):
    if status == "paused":
        assert running.post("/v1/skills/notice/pause", headers=key_a).status_code == 200
    for path in ("/v1/registrations/55501", "/v1/templates/tip"):
        answer = running.delete(path, headers=key_a)
        assert answer.status_code == 409, answer.text
        assert f"skill notice ({status})" in answer.json()["detail"]
        assert running.get(path, headers=key_a).status_code == 200


def test_a_connection_a_code_sends_through_cannot_be_removed(resources, key_a):
    answer = resources.delete("/v1/connections/carrier", headers=key_a)
    assert answer.status_code == 409
    assert "registration 55502" in answer.json()["detail"]


def test_what_a_finished_skill_used_is_archived_not_deleted(running, key_a, key_b):
    assert running.post("/v1/skills/notice/stop", headers=key_a).status_code == 200
    for path in ("/v1/templates/tip", "/v1/registrations/55501"):
        answer = running.delete(path, headers=key_a)
        assert answer.status_code == 200, answer.text
        assert answer.json()["outcome"] == "archived"
        assert "skill" in answer.json()["kept_for"]
        assert running.get(path, headers=key_a).status_code == 404
    # The skill and its report still read (they join to the archived rows).
    assert running.get("/v1/skills/notice", headers=key_a).status_code == 200
    assert running.get("/v1/skills/notice/report", headers=key_a).status_code == 200
    listed = running.get("/v1/registrations", headers=key_a).json()["items"]
    assert listed == []
    # Saving a template of that name again brings the row back with the new body.
    saved = running.put("/v1/templates/tip", headers=key_a, json={"body": "New tip."})
    assert saved.status_code == 200 and saved.json()["body"] == "New tip."
    # So does adding the unit's own code again; another unit cannot take it.
    again = {"code": "55501", "kind": "short", "throughput_per_s": 50}
    assert running.post("/v1/registrations", headers=key_b, json=again).status_code == 409
    back = running.post("/v1/registrations", headers=key_a, json=again)
    assert back.status_code == 201 and back.json()["throughput_per_s"] == 50


def test_an_agent_who_handled_a_conversation_is_archived_and_can_come_back(
        client, key_a, engine, bu, clock, tmp_path):
    from tests.interfaces.api.worlds import reply, texted_skill
    texted_skill(engine, bu, clock, tmp_path, 1)
    talk = reply(engine, clock, 0, "Can I pay next week?")
    ann = agents.create_agent(engine, bu, clock, "ann", availability="available",
                              skill_names=["notice"])
    assert client.delete("/v1/agents/ann", headers=key_a).status_code == 409  # it is open
    agents.close(engine, bu, clock, "ann", talk.conversation_id)
    removed = client.delete("/v1/agents/ann", headers=key_a).json()
    assert removed["outcome"] == "archived" and "conversation_assignment" in removed["kept_for"]
    assert client.get("/v1/agents", headers=key_a).json()["items"] == []
    back = client.post("/v1/agents", headers=key_a, json={"name": "ann",
                                                          "display_name": "Ann B"})
    assert back.status_code == 201 and back.json()["display_name"] == "Ann B"
    assert agents.get_agent(engine, bu, "ann").agent.id == ann.agent.id


def test_an_agent_with_open_conversations_or_a_user_cannot_be_removed(resources, key_a, engine,
                                                                       bu, clock):
    console_users.create(engine, bu, clock, "ann.user", "agent", "correct horse battery",
                         agent="ann")
    answer = resources.delete("/v1/agents/ann", headers=key_a)
    assert answer.status_code == 409
    assert "console user ann.user" in answer.json()["detail"]
    assert agents.get_agent(engine, bu, "ann").name == "ann"
