"""Webhooks go to public destinations only: internal addresses in every spelling are refused when
the URL is saved and again, after DNS, when the sender connects; a private deployment allows its
own hosts by setting; the delivery log keeps a status, never the receiver's answer. And one unit's
slow receiver delays no other unit's events."""

from __future__ import annotations

import asyncio
import ipaddress
import time

import pytest

from proactive_sms.domain.destinations import Allowance, host_problem, literal_address
from proactive_sms.domain.webhook_events import EventType
from proactive_sms.services import administration, webhooks
from proactive_sms.services.administration import InvalidRequest
from proactive_sms.services.webhook_sender import SenderOptions, WebhookSender
from proactive_sms.store import webhook_events
from tests.webhook_receiver import Receiver

ALLOW = "PSMS_WEBHOOK_ALLOW_INTERNAL"

INTERNAL_HOSTS = [
    ("127.0.0.1", "loopback"),
    ("[::1]", "loopback"),
    ("169.254.169.254", "link-local"),
    ("10.1.2.3", "private"),
    ("172.16.0.9", "private"),
    ("192.168.1.1", "private"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - a destination under test, not a bind
    ("2130706433", "loopback"),  # decimal 127.0.0.1
    ("0x7f000001", "loopback"),  # hexadecimal
    ("0177.0.0.1", "loopback"),  # octal first part
    ("127.1", "loopback"),  # short form
    ("0x7f.1", "loopback"),
    ("[::ffff:127.0.0.1]", "loopback"),  # IPv4-mapped IPv6
    ("[::ffff:a9fe:a9fe]", "link-local"),  # 169.254.169.254, mapped, in hex
    ("[64:ff9b::a9fe:a9fe]", "link-local"),  # NAT64
    ("[2002:7f00:1::]", "loopback"),  # 6to4 of 127.0.0.1
    ("[fd00::1]", "private"),
    ("[fe80::1]", "link-local"),
    ("localhost", "this machine"),
    ("api.localhost", "this machine"),
    ("100.64.0.1", "not a public address"),  # carrier-grade NAT
]


@pytest.mark.parametrize(("host", "words"), INTERNAL_HOSTS)
def test_internal_hosts_in_every_spelling_are_refused(host, words):
    problem = host_problem(host.strip("[]"), Allowance())
    assert problem is not None and words in problem, problem


@pytest.mark.parametrize("host", ["93.184.215.14", "example.com", "[2606:4700::1111]",
                                  "1.1.1.1", "hooks.example.com", "0x5db8d70e"])
def test_public_hosts_and_names_may_be_saved(host):
    assert host_problem(host.strip("[]"), Allowance()) is None


def test_numeric_forms_read_as_inet_aton_reads_them():
    assert literal_address("2130706433") == ipaddress.IPv4Address("127.0.0.1")
    assert literal_address("0177.0.0.01") == ipaddress.IPv4Address("127.0.0.1")
    assert literal_address("10.65535") == ipaddress.IPv4Address("10.0.255.255")
    assert literal_address("4294967296") is None  # beyond 32 bits: a name, not an address
    assert literal_address("1.2.3.4.5") is None
    assert literal_address("hooks.example.com") is None


def test_an_allowance_names_hosts_addresses_and_networks():
    allowance = Allowance.parse(" hooks.corp.example., 10.20.0.0/16 ,127.0.0.1")
    assert host_problem("HOOKS.corp.example", allowance) is None
    assert host_problem("10.20.3.4", allowance) is None
    assert host_problem("2130706433", allowance) is None  # the address, however spelled
    assert host_problem("10.21.0.1", allowance) is not None
    with pytest.raises(ValueError, match="neither"):
        Allowance.parse("user@host")


@pytest.mark.parametrize(("host", "words"), INTERNAL_HOSTS)
def test_saving_an_internal_url_is_refused_naming_url_and_reason(engine, bu, clock, monkeypatch,
                                                                 host, words):
    monkeypatch.delenv(ALLOW, raising=False)
    with pytest.raises(InvalidRequest) as refused:
        webhooks.set_endpoint(engine, bu, clock, f"http://{host}:8080/hook")
    assert str(refused.value).startswith("url must point to a public address")
    assert words in str(refused.value) and ALLOW in str(refused.value)


def test_a_private_deployment_allows_its_named_host(engine, bu, clock, monkeypatch):
    monkeypatch.setenv(ALLOW, "hooks.corp.example")
    saved = webhooks.set_endpoint(engine, bu, clock, "https://hooks.corp.example/psms")
    assert saved.endpoint.url == "https://hooks.corp.example/psms"
    with pytest.raises(InvalidRequest, match="private address"):
        webhooks.set_endpoint(engine, bu, clock, "https://10.0.0.8/psms")


def _resolving(table: dict[str, str]):
    """DNS as the test says: each name to one address (a rebinding name, say)."""
    async def resolve(host: str, port: int):
        return [ipaddress.ip_address(table[host])]
    return resolve


async def test_a_name_that_resolves_to_an_internal_address_is_refused_at_connect_time(
        engine, bu, clock, monkeypatch):
    monkeypatch.delenv(ALLOW, raising=False)
    receiver = Receiver().start()
    try:
        port = receiver.server.server_address[1]
        url = f"http://rebind.example.com:{port}/hook"
        webhooks.set_endpoint(engine, bu, clock, url)  # a public-looking name: saved
        with engine.begin() as conn:
            webhook_events.emit(conn, bu.id, EventType.PING, {"message": "x"}, clock.now())
        resolver = _resolving({"rebind.example.com": "127.0.0.1"})  # ... that now rebinds
        assert await WebhookSender(engine, clock, resolver=resolver).deliver_due() == 1
    finally:
        receiver.stop()
    assert receiver.deliveries == []
    (attempt,) = webhooks.deliveries(engine, bu).items[0].attempts
    assert attempt.http_status is None
    assert ("rebind.example.com resolves to an internal address: 127.0.0.1 is a loopback "
            "address") in attempt.error


async def test_an_allowed_name_is_connected_at_its_checked_address_with_its_own_host(
        engine, bu, clock, monkeypatch):
    monkeypatch.setenv(ALLOW, "hooks.corp.example")
    receiver = Receiver().start()
    try:
        port = receiver.server.server_address[1]
        webhooks.set_endpoint(engine, bu, clock, f"http://hooks.corp.example:{port}/hook")
        with engine.begin() as conn:
            webhook_events.emit(conn, bu.id, EventType.PING, {"message": "x"}, clock.now())
        resolver = _resolving({"hooks.corp.example": "127.0.0.1"})
        assert await WebhookSender(engine, clock, resolver=resolver).deliver_due() == 1
    finally:
        receiver.stop()
    (got,) = receiver.deliveries
    assert got.headers["host"] == f"hooks.corp.example:{port}"


async def test_the_delivery_log_keeps_the_status_not_the_receivers_answer(engine, bu, clock):
    receiver = Receiver(default=500, body=b"<h1>internal admin page: db password hunter2</h1>")
    receiver.start()
    try:
        webhooks.set_endpoint(engine, bu, clock, receiver.url)
        with engine.begin() as conn:
            webhook_events.emit(conn, bu.id, EventType.PING, {"message": "x"}, clock.now())
        await WebhookSender(engine, clock).deliver_due()
    finally:
        receiver.stop()
    (attempt,) = webhooks.deliveries(engine, bu).items[0].attempts
    assert attempt.http_status == 500
    assert attempt.error == "HTTP 500 Internal Server Error"


async def test_a_trickling_receiver_of_one_unit_does_not_delay_another_units_events(
        engine, clock):
    """A answers one byte every 0.5 s (never reaching httpx's per-read timeout, 20 s for its
    whole answer); B's events, emitted while A's delivery hangs, are all delivered before A's
    attempt ends, and A's attempt ends at the deadline of the whole request."""
    unit_a = administration.init(engine, clock, "acme", "unit-a", "US")
    unit_b = administration.init(engine, clock, "acme", "unit-b", "US")
    slow = Receiver(trickle_every_s=0.5).start()
    fast = Receiver().start()
    stop = asyncio.Event()
    options = SenderOptions(poll_interval_s=0.05, timeout_s=8.0)
    sender = WebhookSender(engine, clock, options)
    running = None
    try:
        webhooks.set_endpoint(engine, unit_a, clock, slow.url)
        webhooks.set_endpoint(engine, unit_b, clock, fast.url)
        running = asyncio.create_task(sender.run(stop))
        with engine.begin() as conn:
            webhook_events.emit(conn, unit_a.id, EventType.PING, {"message": "a"}, clock.now())
        await _until(lambda: slow.deliveries, 5)  # A's delivery is hanging now
        for n in range(3):
            with engine.begin() as conn:
                webhook_events.emit(conn, unit_b.id, EventType.PING, {"message": f"b{n}"},
                                    clock.now())
            await _until(lambda n=n: len(fast.deliveries) > n, 30)
        assert webhooks.deliveries(engine, unit_a).items[0].attempts == []  # A: still going
        await _until(lambda: webhooks.deliveries(engine, unit_a).items[0].attempts, 30)
        (attempt,) = webhooks.deliveries(engine, unit_a).items[0].attempts
        assert attempt.error == "no answer within 8 s"
        assert attempt.duration_ms < 15_000  # A's answer would take 20 s to trickle
    finally:
        stop.set()
        if running is not None:
            await asyncio.wait_for(running, 30)
        slow.stop()
        fast.stop()


async def _until(condition, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_url_saved_while_allowed_is_refused_at_connect_once_the_allowance_is_gone(
        engine, bu, clock, monkeypatch):
    receiver = Receiver().start()  # on 127.0.0.1, allowed by the tests' setting
    try:
        webhooks.set_endpoint(engine, bu, clock, receiver.url)
        monkeypatch.delenv(ALLOW)
        with engine.begin() as conn:
            webhook_events.emit(conn, bu.id, EventType.PING, {"message": "x"}, clock.now())
        assert await WebhookSender(engine, clock).deliver_due() == 1  # the system's resolver
    finally:
        receiver.stop()
    assert receiver.deliveries == []
    (attempt,) = webhooks.deliveries(engine, bu).items[0].attempts
    assert "refused: 127.0.0.1 is a loopback address" in attempt.error
