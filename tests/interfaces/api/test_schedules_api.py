"""Issue 16 (scheduling) over HTTP: `start_at` on start, the skill's scheduled-start resource
(ETag / If-Match), and `/v1/schedules` with its runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from proactive_sms.domain.clock import ManualClock
from proactive_sms.services.schedule_firing import ScheduleFiring
from tests.interfaces.api.conftest import set_up_skill


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))  # a Friday, 06:00 in Chicago


def test_a_skill_started_with_start_at_is_scheduled_moved_and_cancelled(client, key_a):
    set_up_skill(client, key_a)
    started = client.post("/v1/skills/notice/start", headers=key_a, json={
        "start_at": "2027-01-01T09:00", "time_zone": "America/Chicago"})
    assert started.status_code == 200, started.json()
    assert started.json()["status"] == "scheduled"
    assert started.json()["start_at"] == "2027-01-01T15:00:00Z"
    skill = client.get("/v1/skills/notice", headers=key_a).json()
    assert (skill["status"], skill["start_at"]) == ("scheduled", "2027-01-01T15:00:00Z")
    assert (skill["start_time_zone"], skill["local_start"]) == ("America/Chicago",
                                                                "2027-01-01 09:00 CST")
    progress = client.get("/v1/skills/notice/progress", headers=key_a).json()
    assert (progress["status"], progress["start_at"], progress["local_start"]) == (
        "scheduled", "2027-01-01T15:00:00Z", "2027-01-01 09:00 CST")
    listed = client.get("/v1/skills?status=scheduled", headers=key_a).json()["items"]
    assert [s["name"] for s in listed] == ["notice"]

    start = client.get("/v1/skills/notice/scheduled-start", headers=key_a)
    assert start.json()["local_start"] == "2027-01-01 09:00 CST"
    etag = start.headers["ETag"]
    moved = client.put("/v1/skills/notice/scheduled-start", headers={**key_a, "If-Match": etag},
                       json={"start_at": "2027-01-01T10:00-06:00"})
    assert moved.status_code == 200 and moved.json()["start_at"] == "2027-01-01T16:00:00Z"
    skill = client.get("/v1/skills/notice", headers=key_a).json()  # given with an offset only
    assert (skill["start_time_zone"], skill["local_start"]) == (None, "2027-01-01 16:00 UTC")
    stale = client.put("/v1/skills/notice/scheduled-start", headers={**key_a, "If-Match": etag},
                       json={"start_at": "2027-01-01T11:00-06:00"})
    assert stale.status_code == 412
    gone = client.delete("/v1/skills/notice/scheduled-start",
                         headers={**key_a, "If-Match": moved.headers["ETag"]})
    assert gone.status_code == 200 and gone.json()["status"] == "draft"
    assert gone.json()["start_at"] is None and gone.json()["local_start"] is None
    progress = client.get("/v1/skills/notice/progress", headers=key_a).json()
    assert (progress["start_at"], progress["start_time_zone"]) == (None, None)
    again = client.delete("/v1/skills/notice/scheduled-start", headers=key_a)
    assert again.status_code == 409


def test_a_past_moment_and_a_missing_zone_are_refused_naming_the_field(client, key_a):
    set_up_skill(client, key_a)
    past = client.post("/v1/skills/notice/start", headers=key_a, json={
        "start_at": "2026-12-31T09:00", "time_zone": "America/Chicago"})
    assert past.status_code == 422
    assert past.json()["errors"][0]["field"] == "start_at"
    assert "in the past" in past.json()["detail"]
    no_zone = client.post("/v1/skills/notice/start", headers=key_a,
                          json={"start_at": "2027-01-04T09:00"})
    assert no_zone.status_code == 422 and no_zone.json()["errors"][0]["field"] == "time_zone"
    assert client.get("/v1/skills/notice", headers=key_a).json()["status"] == "draft"
    never = client.get("/v1/skills/notice/scheduled-start", headers=key_a)
    assert never.status_code == 404


def test_a_recurring_notice_over_the_api_with_its_runs(client, key_a, engine, clock):
    set_up_skill(client, key_a)
    made = client.post("/v1/schedules", headers=key_a, json={
        "name": "daily", "template": "tip", "calling_list": "people", "registration": "55501",
        "every": "weekday", "at": "09:00", "time_zone": "America/Chicago"})
    assert made.status_code == 201, made.json()
    # the schedule's moments in its own zone, with the offset (the same instant as 15:00Z)
    assert made.json()["next_run_at"] == "2027-01-01T09:00:00-06:00"
    bad = client.post("/v1/schedules", headers=key_a, json={
        "name": "bad", "template": "tip", "calling_list": "people", "registration": "55501",
        "cron": "0 9 * *", "time_zone": "America/Chicago"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cron"

    firing = ScheduleFiring(engine, clock, "w")
    for day in (1, 4):
        clock.set(datetime(2027, 1, day, 15, 0, tzinfo=UTC))
        assert [f.outcome for f in firing.run_due()] == ["started"]
    runs = client.get("/v1/schedules/daily/runs", headers=key_a).json()["items"]
    assert [(r["due_at"], r["outcome"], r["skill"], r["fired_at"]) for r in runs] == [
        ("2027-01-01T09:00:00-06:00", "started", "daily-20270101-0900",
         "2027-01-01T09:00:00-06:00"),
        ("2027-01-04T09:00:00-06:00", "started", "daily-20270104-0900",
         "2027-01-04T09:00:00-06:00")]
    assert {r["time_zone"] for r in runs} == {"America/Chicago"}
    assert client.get("/v1/skills/daily-20270104-0900",
                      headers=key_a).json()["status"] == "running"

    shown = client.get("/v1/schedules/daily", headers=key_a)
    paused = client.post("/v1/schedules/daily/pause",
                         headers={**key_a, "If-Match": shown.headers["ETag"]})
    assert paused.status_code == 200 and paused.json()["next_run_at"] is None
    stale = client.patch("/v1/schedules/daily", headers={**key_a, "If-Match": shown.headers[
        "ETag"]}, json={"cron": "0 8 * * *"})
    assert stale.status_code == 412
    unknown = client.patch("/v1/schedules/daily", headers=key_a, json={"colour": "red"})
    assert unknown.status_code == 422
    changed = client.patch("/v1/schedules/daily", headers=key_a, json={"cron": "0 8 * * *"})
    assert changed.json()["describe"] == "every day at 08:00 (America/Chicago)"
    assert client.delete("/v1/schedules/daily", headers=key_a).status_code == 200
    assert client.get("/v1/schedules/daily", headers=key_a).status_code == 404


def test_another_units_schedules_are_out_of_reach(client, key_a, key_b):
    set_up_skill(client, key_a)
    assert client.post("/v1/schedules", headers=key_a, json={
        "name": "daily", "template": "tip", "calling_list": "people", "registration": "55501",
        "cron": "0 9 * * *", "time_zone": "UTC"}).status_code == 201
    assert client.get("/v1/schedules/daily", headers=key_b).status_code == 404
    assert client.get("/v1/schedules", headers=key_b).json()["items"] == []
