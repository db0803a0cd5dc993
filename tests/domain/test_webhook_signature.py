"""The signature as documented: made by the sender's code, checked by the recipe integrators
copy from docs/webhooks.md (Python and shell)."""

from __future__ import annotations

import os
import subprocess

import pytest

from proactive_sms.domain.webhook_retry import MAX_ATTEMPTS, RETRY_DELAYS, delay_after
from proactive_sms.domain.webhook_signature import signature_header
from tests.webhook_receiver import documented_shell_check, documented_verifier

SECRET = "whsec_test-secret"
BODY = '{"id":"evt_1","type":"webhook.ping","data":{"text":"héllo"}}'.encode()
T = 1_772_640_000

verify = documented_verifier()


def test_a_signed_body_verifies_with_the_documented_recipe():
    assert verify(SECRET, signature_header(SECRET, T, BODY), BODY, now=T + 10)


@pytest.mark.parametrize(("case", "secret", "body", "now"), [
    ("tampered body", SECRET, BODY.replace(b"ping", b"pong"), T),
    ("another secret", "whsec_other", BODY, T),
    ("stale: 301 s old", SECRET, BODY, T + 301),
    ("from the future: 301 s ahead", SECRET, BODY, T - 301),
])
def test_the_recipe_refuses(case, secret, body, now):
    assert not verify(secret, signature_header(SECRET, T, BODY), body, now=now), case


def test_the_tolerance_is_five_minutes():
    assert verify(SECRET, signature_header(SECRET, T, BODY), BODY, now=T + 300)


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "v1=00", "t=1772640000", "garbage"])
def test_a_malformed_header_is_refused_not_an_error(header):
    assert not verify(SECRET, header, BODY, now=T)


def test_a_timestamp_moved_breaks_the_signature():
    header = signature_header(SECRET, T, BODY).replace(f"t={T}", f"t={T + 60}")
    assert not verify(SECRET, header, BODY, now=T + 60)


def _shell(tmp_path, header: str, body: bytes) -> str:
    (tmp_path / "body.json").write_bytes(body)
    env = {**os.environ, "SECRET": SECRET, "HEADER": header}
    return subprocess.run(["sh", "-c", documented_shell_check()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_the_documented_shell_recipe_agrees(tmp_path):
    import time

    now = int(time.time())  # the shell recipe reads the real clock
    assert _shell(tmp_path, signature_header(SECRET, now, BODY), BODY) == "valid"
    assert _shell(tmp_path, signature_header(SECRET, now, BODY), BODY + b" ") == "invalid"
    assert _shell(tmp_path, signature_header(SECRET, now - 400, BODY), BODY) == "invalid"


def test_the_backoff_schedule_gives_up_after_eight_attempts_within_a_day():
    assert [delay_after(n).total_seconds() for n in range(1, MAX_ATTEMPTS)] == [
        30, 120, 600, 3600, 10800, 21600, 43200]
    assert delay_after(MAX_ATTEMPTS) is None
    assert MAX_ATTEMPTS == 8
    assert sum(d.total_seconds() for d in RETRY_DELAYS) < 24 * 3600
