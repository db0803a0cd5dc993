"""The webhook sender against a real receiver over HTTP, on the real store, with a manual clock:
signatures verify with the documented recipe, failures are retried at the backoff times and
logged, the last failure gives up, and one BU's events never reach another's URL."""

from __future__ import annotations

from datetime import timedelta

from proactive_sms.domain.webhook_events import EventType
from proactive_sms.domain.webhook_signature import ID_HEADER, SIGNATURE_HEADER
from proactive_sms.services import administration, webhooks
from proactive_sms.services.webhook_sender import SenderOptions, WebhookSender
from proactive_sms.store import webhook_events
from tests.webhook_receiver import (
    Receiver,
    documented_verifier,
    receiver_fixture,  # noqa: F401 - the `receiver` fixture
)

verify = documented_verifier()


def emit(engine, bu, clock, data=None, event_type=EventType.SKILL_FINISHED) -> str | None:
    with engine.begin() as conn:
        return webhook_events.emit(conn, bu.id, event_type, data or {"skill": "x"}, clock.now())


def verified(delivery, secret, clock) -> bool:
    return verify(secret, delivery.headers, delivery.body,
                  now=clock.now().timestamp())


async def test_an_event_reaches_the_receiver_signed_and_logged(engine, bu, clock, receiver):
    secret = webhooks.set_endpoint(engine, bu, clock, receiver.url).secret
    event_id = emit(engine, bu, clock, {"skill": "reminders"})
    assert await WebhookSender(engine, clock).deliver_due() == 1

    (got,) = receiver.deliveries
    assert verified(got, secret, clock)
    assert got.headers[ID_HEADER] == event_id
    assert got.headers["webhook-timestamp"] == str(int(clock.now().timestamp()))
    # a new endpoint's secret is a standard one: no header of the scheme before it
    assert not {"psms-signature", "psms-event-id", "psms-event-type"} & set(got.headers)
    assert got.event["id"] == event_id and got.event["business_unit"] == "sales"
    assert got.event["data"] == {"skill": "reminders"}
    assert got.event["occurred_at"] == "2026-03-04T16:00:00Z"
    (logged,) = webhooks.deliveries(engine, bu).items
    assert logged.event.state == "delivered"
    assert [(a.attempt_no, a.http_status, a.outcome, a.url) for a in logged.attempts] == [
        (1, 200, "delivered", receiver.url)]
    assert await WebhookSender(engine, clock).deliver_due() == 0  # delivered: not sent again


async def test_a_failing_receiver_is_retried_at_the_backoff_times(engine, bu, clock):
    receiver = Receiver(answers=[500, 500]).start()
    try:
        secret = webhooks.set_endpoint(engine, bu, clock, receiver.url).secret
        start = clock.now()
        emit(engine, bu, clock)
        sender = WebhookSender(engine, clock)
        assert await sender.deliver_due() == 1
        clock.advance(29)
        assert await sender.deliver_due() == 0  # not yet
        clock.advance(1)
        assert await sender.deliver_due() == 1
        clock.advance(119)
        assert await sender.deliver_due() == 0
        clock.advance(1)
        assert await sender.deliver_due() == 1
    finally:
        receiver.stop()

    assert [d.answered for d in receiver.deliveries] == [500, 500, 200]
    assert len({d.headers[ID_HEADER] for d in receiver.deliveries}) == 1
    assert len({d.body for d in receiver.deliveries}) == 1  # the same bytes each time
    for got, at in zip(receiver.deliveries, (0, 30, 150), strict=True):
        assert verify(secret, got.headers, got.body,
                      now=(start + timedelta(seconds=at)).timestamp())
    (logged,) = webhooks.deliveries(engine, bu).items
    assert logged.event.state == "delivered" and logged.event.attempts == 3
    assert [(a.attempted_at.replace(tzinfo=None) - start.replace(tzinfo=None),
             a.http_status, a.outcome) for a in logged.attempts] == [
        (timedelta(0), 500, "retrying"),
        (timedelta(seconds=30), 500, "retrying"),
        (timedelta(seconds=150), 200, "delivered")]
    assert [a.next_attempt_at.replace(tzinfo=None) - start.replace(tzinfo=None)
            for a in logged.attempts[:2]] == [timedelta(seconds=30), timedelta(seconds=150)]
    assert "HTTP 500" in logged.attempts[0].error


async def test_the_last_failure_gives_up_and_nothing_is_sent_after(engine, bu, clock):
    receiver = Receiver(default=503).start()
    try:
        webhooks.set_endpoint(engine, bu, clock, receiver.url)
        emit(engine, bu, clock)
        sender = WebhookSender(engine, clock)
        for delay in (0, 30, 120, 600, 3600, 3 * 3600, 6 * 3600, 12 * 3600):
            clock.advance(delay)
            assert await sender.deliver_due() == 1
        clock.advance(48 * 3600)
        assert await sender.deliver_due() == 0
    finally:
        receiver.stop()
    assert len(receiver.deliveries) == 8
    (logged,) = webhooks.deliveries(engine, bu).items
    assert logged.event.state == "given_up" and logged.event.next_attempt_at is None
    assert [a.outcome for a in logged.attempts] == ["retrying"] * 7 + ["given_up"]


async def test_a_timeout_and_a_refused_connection_are_failures_with_their_reason(
        engine, bu, clock):
    slow = Receiver(slow_s=1.0).start()
    try:
        webhooks.set_endpoint(engine, bu, clock, slow.url)
        emit(engine, bu, clock)
        await WebhookSender(engine, clock, SenderOptions(timeout_s=0.2)).deliver_due()
    finally:
        slow.stop()
    # the port is closed now: nobody listens
    clock.advance(30)
    await WebhookSender(engine, clock).deliver_due()
    (logged,) = webhooks.deliveries(engine, bu).items
    first, second = logged.attempts
    assert first.http_status is None and "no answer within 0.2 s" in first.error
    assert second.http_status is None and "ConnectError" in second.error
    assert logged.event.state == "pending" and logged.event.attempts == 2


async def test_events_of_one_bu_never_reach_another_bus_url(engine, bu, clock):
    other = administration.init(engine, clock, "acme", "collections", "US")
    mine, theirs = Receiver().start(), Receiver().start()
    try:
        secret_a = webhooks.set_endpoint(engine, bu, clock, mine.url).secret
        secret_b = webhooks.set_endpoint(engine, other, clock, theirs.url).secret
        ids_a = {emit(engine, bu, clock, {"n": i}) for i in range(3)}
        ids_b = {emit(engine, other, clock, {"n": i}) for i in range(2)}
        await WebhookSender(engine, clock).deliver_due()
    finally:
        mine.stop()
        theirs.stop()
    assert {d.event["id"] for d in mine.deliveries} == ids_a
    assert {d.event["id"] for d in theirs.deliveries} == ids_b
    assert all(verified(d, secret_a, clock) and not verified(d, secret_b, clock)
               for d in mine.deliveries)
    assert {d.event["business_unit"] for d in theirs.deliveries} == {"collections"}
    assert {i.event.public_id for i in webhooks.deliveries(engine, bu).items} == ids_a


async def test_a_rotated_secret_signs_at_once_and_the_old_one_stops(engine, bu, clock,
                                                                    receiver):
    old = webhooks.set_endpoint(engine, bu, clock, receiver.url).secret
    new = webhooks.rotate_secret(engine, bu, clock).secret
    assert new != old and new.startswith("whsec_")
    emit(engine, bu, clock)
    await WebhookSender(engine, clock).deliver_due()
    (got,) = receiver.deliveries
    assert verified(got, new, clock) and not verified(got, old, clock)


async def test_removing_the_webhook_cancels_what_waits_and_stops_new_events(engine, bu, clock):
    receiver = Receiver(answers=[500]).start()
    try:
        webhooks.set_endpoint(engine, bu, clock, receiver.url)
        emit(engine, bu, clock)
        await WebhookSender(engine, clock).deliver_due()
        assert webhooks.remove_endpoint(engine, bu) == 1
        assert emit(engine, bu, clock) is None  # no endpoint: no event
        clock.advance(60)
        assert await WebhookSender(engine, clock).deliver_due() == 0
    finally:
        receiver.stop()
    assert len(receiver.deliveries) == 1
    (logged,) = webhooks.deliveries(engine, bu).items
    assert logged.event.state == "cancelled"


async def test_a_disabled_webhook_gets_no_events_and_a_filter_narrows_them(engine, bu, clock):
    webhooks.set_endpoint(engine, bu, clock, "https://example.com/h", active=False)
    assert emit(engine, bu, clock) is None
    webhooks.set_endpoint(engine, bu, clock, "https://example.com/h", event_types=["opt_out"])
    assert emit(engine, bu, clock, event_type=EventType.SKILL_FINISHED) is None
    assert emit(engine, bu, clock, event_type=EventType.OPT_OUT) is not None


async def test_a_redelivery_sends_the_same_event_again(engine, bu, clock, receiver):
    webhooks.set_endpoint(engine, bu, clock, receiver.url)
    event_id = emit(engine, bu, clock)
    sender = WebhookSender(engine, clock)
    await sender.deliver_due()
    clock.advance(3600)
    webhooks.redeliver(engine, bu, clock, event_id)
    assert await sender.deliver_due() == 1
    first, second = receiver.deliveries
    assert first.body == second.body
    assert first.headers[SIGNATURE_HEADER] != second.headers[SIGNATURE_HEADER]
    logged = webhooks.delivery(engine, bu, event_id)
    assert [a.outcome for a in logged.attempts] == ["delivered", "delivered"]
