"""Real deliveries, from the sender to a real receiver over HTTP, verified by the official
Standard Webhooks library (`standardwebhooks`) as an integrator's receiver would: a delivery
verifies, a tampered body and a delivery signed too long ago are refused, a retry keeps its
webhook-id. A secret made before Standard Webhooks keeps its old header until it is rotated."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from proactive_sms.domain.clock import SystemClock
from proactive_sms.domain.webhook_events import EventType
from proactive_sms.services import webhooks
from proactive_sms.services.webhook_sender import WebhookSender
from proactive_sms.store import webhook_events
from proactive_sms.store import webhooks as stored_webhooks
from tests.webhook_receiver import (
    Receiver,
    documented_legacy_verifier,
    documented_library_handler,
    receiver_fixture,  # noqa: F401 - the `receiver` fixture
)

LEGACY = "whsec_Jm2o5rV0Bq3yWc7uX1sZkL9pTd4fHgEaNi8bR6vYtQw"  # the form made before


def emit(engine, bu, clock, data=None) -> str | None:
    with engine.begin() as conn:
        return webhook_events.emit(conn, bu.id, EventType.SKILL_FINISHED,
                                   data or {"skill": "reminders"}, clock.now())


async def test_a_delivery_verifies_with_the_official_library(engine, bu, clock, receiver):
    secret = webhooks.set_endpoint(engine, bu, clock, receiver.url).secret
    event_id = emit(engine, bu, clock)
    assert await WebhookSender(engine, SystemClock()).deliver_due() == 1  # signed now

    (got,) = receiver.deliveries
    assert Webhook(secret).verify(got.body, got.headers)["id"] == event_id
    assert got.headers["webhook-id"] == event_id
    handle = documented_library_handler(secret)  # the snippet of docs/webhooks.md
    assert handle(got.headers, got.body)["data"] == {"skill": "reminders"}

    tampered = got.body.replace(b"reminders", b"remindens")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, got.headers)
    assert handle(got.headers, tampered) is None
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(got.body, got.headers)


async def test_a_delivery_signed_long_ago_is_refused_by_the_library(engine, bu, clock,
                                                                    receiver):
    """The manual clock stands months back: a replayed old delivery looks just like this."""
    secret = webhooks.set_endpoint(engine, bu, clock, receiver.url).secret
    emit(engine, bu, clock)
    assert await WebhookSender(engine, clock).deliver_due() == 1

    (got,) = receiver.deliveries
    assert int(got.headers["webhook-timestamp"]) == int(clock.now().timestamp())
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(got.body, got.headers)
    assert documented_library_handler(secret)(got.headers, got.body) is None


async def test_every_retry_verifies_and_keeps_its_webhook_id(engine, bu, clock):
    receiver = Receiver(answers=[503]).start()
    try:
        secret = webhooks.set_endpoint(engine, bu, clock, receiver.url).secret
        event_id = emit(engine, bu, clock)
        sender = WebhookSender(engine, SystemClock())
        assert await sender.deliver_due() == 1
        webhooks.redeliver(engine, bu, clock, event_id)  # due now, rather than in 30 s
        assert await sender.deliver_due() == 1
    finally:
        receiver.stop()
    assert [d.answered for d in receiver.deliveries] == [503, 200]
    for got in receiver.deliveries:
        assert got.headers["webhook-id"] == event_id
        assert Webhook(secret).verify(got.body, got.headers)["id"] == event_id


async def test_a_legacy_secret_keeps_working_until_rotated(engine, bu, clock, receiver):
    webhooks.set_endpoint(engine, bu, clock, receiver.url)
    with engine.begin() as conn:  # as an endpoint made before Standard Webhooks
        stored_webhooks.set_secret(conn, bu.id, LEGACY, clock.now())
    assert webhooks.show_endpoint(engine, bu).signature_scheme == "legacy"
    event_id = emit(engine, bu, clock)
    sender = WebhookSender(engine, SystemClock())
    assert await sender.deliver_due() == 1

    (old,) = receiver.deliveries
    # the receiver written for the old scheme verifies it, unchanged
    assert documented_legacy_verifier()(LEGACY, old.headers["psms-signature"], old.body)
    assert old.headers["psms-event-id"] == event_id
    assert old.headers["psms-event-type"] == "skill.finished"
    # and the standard headers verify with the secret's bytes as the key (docs/webhooks.md)
    assert Webhook(LEGACY.encode()).verify(old.body, old.headers)["id"] == event_id

    rotated = webhooks.rotate_secret(engine, bu, clock).secret
    assert webhooks.show_endpoint(engine, bu).signature_scheme == "standard"
    emit(engine, bu, clock, {"skill": "after rotation"})
    assert await sender.deliver_due() == 1
    new = receiver.deliveries[1]
    assert json.loads(new.body)["data"] == {"skill": "after rotation"}
    assert Webhook(rotated).verify(new.body, new.headers)
    assert "psms-signature" not in new.headers
