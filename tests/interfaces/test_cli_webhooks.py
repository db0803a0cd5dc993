"""`psms webhook …` on a real SQLite database, against a real receiver."""

from __future__ import annotations

from tests.interfaces import test_cli
from tests.webhook_receiver import Receiver, documented_verifier

psms = test_cli.psms  # the same fixture: a fresh database with BU sales


def test_set_show_test_deliveries_rotate_remove(psms):
    receiver = Receiver().start()
    try:
        out = psms("webhook", "set", receiver.url, "--events", "opt_out,skill.finished")
        secret = next(line for line in out.splitlines() if line.startswith("whsec_"))
        shown = psms("webhook", "show")
        assert receiver.url in shown and "opt_out, skill.finished" in shown
        assert secret not in shown
        assert "signatures:  Standard Webhooks\n" in shown
        assert "webhook.ping" in psms("webhook", "test")
        (got,) = receiver.deliveries
        assert documented_verifier()(secret, got.headers, got.body)
        log = psms("webhook", "deliveries")
        assert got.event["id"] in log and "delivered" in log and "200" in log
        rotated = psms("webhook", "rotate")
        assert "whsec_" in rotated and secret not in rotated
        assert "removed" in psms("webhook", "remove")
        assert "no webhook" in psms("webhook", "show", code=2)
    finally:
        receiver.stop()


def test_a_bad_url_or_event_type_is_one_clear_line(psms):
    assert "https://" in psms("webhook", "set", "ftp://example.com", code=2)
    out = psms("webhook", "set", "https://example.com/h", "--events", "sms.sent", code=2)
    assert "unknown event type 'sms.sent'" in out


def test_an_internal_destination_is_refused_with_its_reason(psms, monkeypatch):
    monkeypatch.delenv("PSMS_WEBHOOK_ALLOW_INTERNAL")
    out = psms("webhook", "set", "http://2130706433:8080/hook", code=2)
    assert "url must point to a public address: 127.0.0.1 is a loopback address" in out
    assert "Traceback" not in out
