"""SimulatorControl: the client of the simulator's HTTP control interface (urllib, no dependency),
for tests, benchmarks and the CLI that drive a simulator running in another process."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

DEFAULT_CONTROL_URL = "http://127.0.0.1:2776"


class ControlError(RuntimeError):
    """The control interface refused a request (the message says why) or is unreachable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SimulatorControl:
    def __init__(self, base_url: str = DEFAULT_CONTROL_URL, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def stats(self) -> dict[str, Any]:
        return self._request("GET", "/stats")

    def config(self) -> dict[str, Any]:
        return self._request("GET", "/config")

    def submits(self, since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Accepted submits from index `since`, as the JSON objects of the JSONL log."""
        query = f"?since={since}" + (f"&limit={limit}" if limit is not None else "")
        return list(self._request("GET", "/submits" + query)["submits"])

    def inject(
        self,
        sender: str,
        recipient: str,
        text: str,
        data_coding: int | None = None,
        system_id: str | None = None,
        wait_s: float = 5.0,
    ) -> dict[str, Any]:
        """Send an inbound text; waits up to `wait_s` for the client's deliver_sm_resp.
        Returns {"status": "acknowledged", "command_status": n} or {"status": "pending"}."""
        body: dict[str, Any] = {"from": sender, "to": recipient, "text": text, "timeout_s": wait_s}
        if data_coding is not None:
            body["data_coding"] = data_coding
        if system_id is not None:
            body["system_id"] = system_id
        return self._request("POST", "/inbound", body, timeout_s=wait_s + self.timeout_s)

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Change knobs live; returns the whole new config."""
        return self._request("POST", "/config", knobs)

    def reset(self) -> None:
        self._request("POST", "/reset", {})

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        timeout_s: float | None = None,
    ) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s or self.timeout_s) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            raise ControlError(f"{method} {path}: {message}", exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ControlError(f"{method} {path}: cannot reach {self.base_url}: {exc}") from None
