"""A real webhook receiver for tests: an HTTP server on a random local port, in a thread, that
records every delivery and answers what it is told to. And the documented verification recipe,
taken from docs/webhooks.md itself, so the tests check what integrators copy."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "webhooks.md"


def _doc_block(marker: str) -> str:
    found = re.search(rf"<!-- {marker} -->\s*```\w+\n(.*?)```", DOC.read_text(), re.S)
    assert found, f"docs/webhooks.md has no block after <!-- {marker} -->"
    return found.group(1)


def _doc_function(marker: str, name: str):
    namespace: dict = {}
    exec(compile(_doc_block(marker), str(DOC), "exec"), namespace)  # noqa: S102
    return namespace[name]


def documented_verifier():
    """`verify_signature(secret, headers, body, tolerance_s=300, now=None)` as documented: the
    Standard Webhooks recipe without a library."""
    return _doc_function("verify-python", "verify_signature")


def documented_legacy_verifier():
    """`verify_legacy_signature(secret, header, body, …)`: the PSMS-Signature recipe that
    receivers of secrets made before Standard Webhooks still use."""
    return _doc_function("verify-legacy-python", "verify_legacy_signature")


def documented_library_handler(secret: str):
    """`handle(headers, body)` from the documented use of the official library, for `secret`."""
    namespace: dict = {"secret": secret}
    exec(compile(_doc_block("verify-library"), str(DOC), "exec"), namespace)  # noqa: S102
    return namespace["handle"]


def documented_shell_check() -> str:
    return _doc_block("verify-shell")


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes
    answered: int
    at: float

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """Answers the statuses in `answers` in turn, then `default`; `slow_s` delays each answer."""

    def __init__(self, answers: list[int] | None = None, default: int = 200,
                 slow_s: float = 0.0, body: bytes = b"ok",
                 trickle_every_s: float | None = None) -> None:
        self.answers = list(answers or [])
        self.default = default
        self.slow_s = slow_s
        self.body = body
        self.trickle_every_s = trickle_every_s  # answer one byte at a time, this far apart
        self.stopping = threading.Event()
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    status = receiver.answers.pop(0) if receiver.answers else receiver.default
                    receiver.deliveries.append(Delivery(
                        {k.lower(): v for k, v in self.headers.items()}, body, status,
                        time.time()))
                if receiver.slow_s:
                    time.sleep(receiver.slow_s)
                if receiver.trickle_every_s is not None:
                    self._trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    return
                self.send_response(status)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def _trickle(self, answer: bytes) -> None:
                for byte in answer:
                    if receiver.stopping.wait(receiver.trickle_every_s):
                        return
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:  # the sender gave up
                        return

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/psms"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def events(self, event_type: str | None = None) -> list[dict]:
        return [d.event for d in self.deliveries
                if event_type is None or d.event["type"] == event_type]


@pytest.fixture(name="receiver")
def receiver_fixture():
    """A receiver that answers 200 to everything (import this fixture where it is used)."""
    server = Receiver().start()
    yield server
    server.stop()
