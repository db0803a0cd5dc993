"""`/metrics` and `/healthz`: the figures of a skill really dispatched through the simulator, in
Prometheus text that Prometheus' own parser reads."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from proactive_sms.domain.clock import ManualClock
from proactive_sms.interfaces.api.app import create_app
from proactive_sms.services import administration, launching
from proactive_sms.store.engine import open_engine
from proactive_sms.store.schema import early_receipt, message
from tests.factories import launched_skill
from tests.services.dispatch_world import DaytimeClock, World, simulator


@pytest.fixture
def world(engine, bu, tmp_path):
    # Numbers of exchange 200 ending in 0-4 get an undeliverable receipt, the others delivered.
    sim = simulator(receipt_outcome_by_destination={r"\+1212200000[0-4]": "undeliverable"})
    yield World(engine, bu, sim, tmp_path, DaytimeClock())
    sim.stop_in_thread()


def scrape(client: TestClient, **headers: str) -> dict[str, dict[tuple, float]]:
    """{sample name: {labels as sorted tuple: value}}, through prometheus_client's parser."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = (
                sample.value)
    return samples


def last_submit(engine):
    with engine.connect() as conn:
        moment = conn.scalar(select(func.max(message.c.submitted_at)))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def test_metrics_match_the_states_of_a_dispatched_skill(world, engine, bu):
    world.connection()
    world.code("55501")
    world.code("55502")  # a code with nothing sent yet: every series is there, at 0
    world.people("people", 20)
    administration.dnc_add(engine, bu, world.clock, ["+12122000019"], None, source="manual")
    skill_id = world.skill("bulk", "55501", "people", "Hi {FirstName}, a bonus shift is open.")
    await world.run_until_idle()
    # A second skill started but not dispatched yet: its texts are the code's queue.
    world.people("later", 7, start=100)
    later = administration.create_skill(engine, bu, world.clock, name="later",
                                        registration="55502", calling_list="later")
    launching.start_skill(engine, later.id, world.clock, message_text="Later, {FirstName}.")

    states = world.states(skill_id)
    assert states == {"delivered": 14, "undeliverable": 5, "skipped": 1}
    clock = ManualClock(last_submit(engine) + timedelta(seconds=1))
    client = TestClient(create_app(engine, clock))
    samples = scrape(client)

    texts = samples["psms_texts"]
    for state in ("delivered", "undeliverable", "skipped", "pending", "sent", "uncertain"):
        assert texts[(("code", "55501"), ("state", state))] == states.get(state, 0)
    assert texts[(("code", "55502"), ("state", "pending"))] == 7
    assert samples["psms_queue_depth"] == {(("code", "55501"),): 0, (("code", "55502"),): 7}
    # All 19 submits happened within the minute before the clock: 19 / 60 per second.
    assert samples["psms_send_rate_per_s"][(("code", "55501"),)] == pytest.approx(19 / 60)
    assert samples["psms_send_rate_per_s"][(("code", "55502"),)] == 0
    # Every receipted text is in the latency histogram once.
    code = ("code", "55501")
    assert samples["psms_receipt_latency_seconds_gcount"][(code,)] == 19
    assert samples["psms_receipt_latency_seconds_bucket"][(code, ("le", "+Inf"))] == 19
    assert samples["psms_receipt_latency_seconds_gsum"][(code,)] >= 0
    buckets = sorted((float(labels[1][1]), value) for labels, value
                     in samples["psms_receipt_latency_seconds_bucket"].items()
                     if labels[0] == code)
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)  # cumulative

    # A minute later nothing was submitted in the last minute.
    clock.advance(61)
    assert scrape(client)["psms_send_rate_per_s"][(("code", "55501"),)] == 0


def test_metrics_name_codes_and_states_only_never_a_number_or_a_unit(engine, bu, clock,
                                                                     tmp_path):
    launched_skill(engine, bu, clock, tmp_path, 3)
    text = TestClient(create_app(engine, clock)).get("/metrics").text
    label_sets = {line.split("{", 1)[1].split("}", 1)[0]
                  for line in text.splitlines() if "{" in line and not line.startswith("#")}
    names = {pair.split("=")[0] for labels in label_sets for pair in labels.split(",")}
    assert names == {"code", "state", "le"}
    assert "212" not in text and "sales" not in text and "acme" not in text


def test_receipts_held_without_a_match_are_counted(engine, bu, clock):
    client = TestClient(create_app(engine, clock))
    assert scrape(client)["psms_early_receipts_held"] == {(): 0}
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(early_receipt.insert().values(
                carrier_message_id=f"x{n}", carrier_id_folded=f"X{n}", state="delivered",
                raw="", received_at=clock.now()))
    assert scrape(client)["psms_early_receipts_held"] == {(): 3}


def test_a_metrics_token_is_asked_for_when_set(engine, bu, clock):
    client = TestClient(create_app(engine, clock, metrics_token="s3cret"))
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == "Authorization"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert scrape(client, Authorization="Bearer s3cret") is not None


def test_healthz_answers_while_the_database_does_and_503_when_it_does_not(tmp_path, clock):
    engine = open_engine(f"sqlite:///{tmp_path / 'h.db'}")
    client = TestClient(create_app(engine, clock))
    assert client.get("/healthz").json() == {"status": "ok"}
    (tmp_path / "h.db").unlink()
    (tmp_path / "h.db").mkdir()  # the file is gone and nothing can open it again
    engine.dispose()
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.json()["title"] == "The database does not answer"
