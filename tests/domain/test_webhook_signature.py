"""The signature as the Standard Webhooks specification says: made by the sender's code, checked
by the official `standardwebhooks` library and by the recipes integrators copy from
docs/webhooks.md (Python and shell); secrets made before the scheme keep their old header."""

from __future__ import annotations

import base64
import os
import subprocess
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from proactive_sms.domain import webhook_signature as ws
from proactive_sms.domain.webhook_retry import MAX_ATTEMPTS, RETRY_DELAYS, delay_after
from tests.webhook_receiver import (
    documented_legacy_verifier,
    documented_shell_check,
    documented_verifier,
)

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
LEGACY = "whsec_Jm2o5rV0Bq3yWc7uX1sZkL9pTd4fHgEaNi8bR6vYtQw"  # the old form: 43 URL-safe chars
ID = "evt_2n4bXo1"
BODY = '{"id":"evt_2n4bXo1","type":"webhook.ping","data":{"text":"héllo"}}'.encode()
T = 1_772_640_000

verify = documented_verifier()
verify_legacy = documented_legacy_verifier()


def headers(secret: str = SECRET, timestamp: int = T, body: bytes = BODY) -> dict[str, str]:
    return ws.signed_headers(secret, ID, "webhook.ping", timestamp, body)


def test_a_new_secret_is_whsec_and_the_base64_of_32_random_bytes():
    first, second = ws.new_secret(), ws.new_secret()
    assert first != second and first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    assert ws.standard_key(first) is not None and not ws.is_legacy(first)


@pytest.mark.parametrize("secret", [LEGACY, "whsec_test-secret", "whsec_", "no prefix",
                                    "whsec_" + base64.b64encode(b"too short").decode()])
def test_other_secrets_are_legacy(secret):
    assert ws.is_legacy(secret)
    assert ws.signing_key(secret) == secret.encode()


def test_the_signature_is_what_the_official_library_makes():
    expected = Webhook(SECRET).sign(ID, datetime.fromtimestamp(T, UTC), BODY)
    assert ws.signature(SECRET, ID, T, BODY) == expected
    assert headers() == {"webhook-id": ID, "webhook-timestamp": str(T),
                         "webhook-signature": expected}


def test_the_official_library_verifies_a_fresh_delivery_and_refuses_the_rest():
    now = int(datetime.now(UTC).timestamp())  # the library reads the real clock
    library = Webhook(SECRET)
    assert library.verify(BODY, headers(timestamp=now))["id"] == ID
    refusals = {
        "tampered body": (BODY.replace(b"ping", b"pong"), headers(timestamp=now)),
        "another secret": (BODY, headers(ws.new_secret(), timestamp=now)),
        "6 minutes old": (BODY, headers(timestamp=now - 360)),
        "6 minutes early": (BODY, headers(timestamp=now + 360)),
        "id changed": (BODY, headers(timestamp=now) | {"webhook-id": "evt_other"}),
        "timestamp moved": (BODY, headers(timestamp=now) | {"webhook-timestamp": str(now - 1)}),
    }
    for case, (body, sent) in refusals.items():
        with pytest.raises(WebhookVerificationError):
            library.verify(body, sent)
            pytest.fail(f"the library accepted: {case}")


def test_the_documented_recipe_verifies_and_refuses():
    assert verify(SECRET, headers(), BODY, now=T + 10)
    assert verify(SECRET, headers(), BODY, now=T + 300)  # the tolerance is five minutes
    assert not verify(SECRET, headers(), BODY.replace(b"ping", b"pong"), now=T)
    assert not verify(ws.new_secret(), headers(), BODY, now=T)
    assert not verify(SECRET, headers(), BODY, now=T + 301)
    assert not verify(SECRET, headers(), BODY, now=T - 301)
    moved = headers() | {"webhook-timestamp": str(T + 60)}
    assert not verify(SECRET, moved, BODY, now=T + 60)


def test_several_signatures_in_the_header_one_of_them_ours_verify():
    sent = headers()
    sent["webhook-signature"] = "v1,bm90IG91cnM= " + sent["webhook-signature"]
    assert verify(SECRET, sent, BODY, now=T)


@pytest.mark.parametrize("broken", [
    {"webhook-id": None, "webhook-timestamp": None, "webhook-signature": None},
    {"webhook-timestamp": "abc"}, {"webhook-id": None},
                                    {"webhook-signature": None}, {"webhook-signature": "v1,00"}])
def test_a_malformed_delivery_is_refused_not_an_error(broken):
    sent = {k: v for k, v in (headers() | broken).items() if v is not None}
    assert not verify(SECRET, sent, BODY, now=T)


def _shell(tmp_path, sent: dict[str, str], body: bytes) -> str:
    (tmp_path / "body.json").write_bytes(body)
    env = {**os.environ, "SECRET": SECRET, "ID": sent["webhook-id"],
           "TIMESTAMP": sent["webhook-timestamp"], "SIGNATURE": sent["webhook-signature"]}
    return subprocess.run(["sh", "-c", documented_shell_check()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_the_documented_shell_recipe_agrees(tmp_path):
    import time

    now = int(time.time())  # the shell recipe reads the real clock
    assert _shell(tmp_path, headers(timestamp=now), BODY) == "valid"
    assert _shell(tmp_path, headers(timestamp=now), BODY + b" ") == "invalid"
    assert _shell(tmp_path, headers(timestamp=now - 400), BODY) == "invalid"


def test_a_legacy_secret_keeps_its_old_header_beside_the_standard_ones():
    sent = headers(LEGACY)
    assert sent["PSMS-Event-Id"] == ID and sent["PSMS-Event-Type"] == "webhook.ping"
    assert verify_legacy(LEGACY, sent["PSMS-Signature"], BODY, now=T + 10)
    assert not verify_legacy(LEGACY, sent["PSMS-Signature"], BODY + b" ", now=T)
    assert not verify_legacy(LEGACY, sent["PSMS-Signature"], BODY, now=T + 301)
    # the standard header verifies with the secret's bytes as the key, as documented
    now = int(datetime.now(UTC).timestamp())
    assert Webhook(LEGACY.encode()).verify(BODY, headers(LEGACY, timestamp=now))["id"] == ID
    # the old header, made as before this scheme: hex HMAC of "<t>.<body>" under the text
    import hashlib
    import hmac
    old = hmac.new(LEGACY.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sent["PSMS-Signature"] == f"t={T},v1={old}"


def test_a_standard_secret_sends_no_legacy_header():
    assert not any(name.startswith("PSMS-") for name in headers())


def test_the_backoff_schedule_gives_up_after_eight_attempts_within_a_day():
    assert [delay_after(n).total_seconds() for n in range(1, MAX_ATTEMPTS)] == [
        30, 120, 600, 3600, 10800, 21600, 43200]
    assert delay_after(MAX_ATTEMPTS) is None
    assert MAX_ATTEMPTS == 8
    assert sum(d.total_seconds() for d in RETRY_DELAYS) < 24 * 3600
