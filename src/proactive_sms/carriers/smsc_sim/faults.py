"""The per-submit decisions a config implies: refusals, silences and which receipt to send.

A `SubmitPolicy` is rebuilt whenever the config changes (regexes compiled once); the state that
must survive a config change (the random generator, throttle windows) is owned by the simulator
and handed in.
"""

from __future__ import annotations

import random
import re

from . import pdu
from .config import SimulatorConfig

NACK = -1  # refusal marker: answer with generic_nack instead of submit_sm_resp


class ThrottleWindows:
    """Accepted-submit counts per system_id in the current whole second of time.monotonic()."""

    def __init__(self) -> None:
        self._windows: dict[str, list[int]] = {}

    def admit(self, system_id: str, limit: int, now_mono: float) -> bool:
        second = int(now_mono)
        window = self._windows.get(system_id)
        if window is None or window[0] != second:
            window = [second, 0]
            self._windows[system_id] = window
        if window[1] >= limit:
            return False
        window[1] += 1
        return True

    def clear(self) -> None:
        self._windows.clear()


def e164(destination: str, ton: int) -> str:
    """The destination as patterns see it: international numbers always with their '+'."""
    if ton == 1 and not destination.startswith("+"):
        return "+" + destination
    return destination


class SubmitPolicy:
    def __init__(
        self, config: SimulatorConfig, rng: random.Random, throttle: ThrottleWindows
    ) -> None:
        self.config = config
        self._rng = rng
        self._throttle = throttle
        self._invalid = _compile(config.invalid_destination_pattern)
        self._silent = _compile(config.no_response_pattern)
        self._outcome_patterns = [
            (re.compile(pattern), outcome)
            for pattern, outcome in config.receipt_outcome_by_destination.items()
        ]
        weights = {k: float(v) for k, v in config.receipt_outcomes.items() if v > 0}
        self._outcomes = list(weights)
        self._weights = list(weights.values())
        # Only compute the E.164 form of each destination when some pattern will read it.
        self.reads_destination = bool(self._invalid or self._silent or self._outcome_patterns)

    def refusal(self, system_id: str, destination: str, now_mono: float) -> int | None:
        """The command_status to refuse with, NACK, or None to accept."""
        config = self.config
        if config.generic_nack_ratio and self._rng.random() < config.generic_nack_ratio:
            return NACK
        limit = config.throttle_above_per_s
        if limit is not None and not self._throttle.admit(system_id, limit, now_mono):
            return pdu.ESME_RTHROTTLED
        if self._invalid is not None and self._invalid.fullmatch(destination):
            return pdu.ESME_RINVDSTADR
        if config.queue_full_ratio and self._rng.random() < config.queue_full_ratio:
            return pdu.ESME_RMSGQFUL
        return None

    def silent(self, destination: str) -> bool:
        """True when the submit is accepted but its submit_sm_resp must never be sent."""
        if self._silent is not None and self._silent.fullmatch(destination):
            return True
        ratio = self.config.no_response_ratio
        return bool(ratio) and self._rng.random() < ratio

    def outcome(self, destination: str) -> str:
        for regex, outcome in self._outcome_patterns:
            if regex.fullmatch(destination):
                return outcome
        if len(self._outcomes) == 1:
            return self._outcomes[0]  # no draw: keeps the random sequence of other knobs stable
        return self._rng.choices(self._outcomes, self._weights)[0]

    def duplicate_receipt(self) -> bool:
        ratio = self.config.duplicate_receipts
        return bool(ratio) and self._rng.random() < ratio

    def receipt_first(self) -> bool:
        ratio = self.config.receipt_before_resp
        return bool(ratio) and self._rng.random() < ratio

    def malformed(self) -> bool:
        """True when this accepted submit's answer is to be a malformed frame (malformed_kind)."""
        ratio = self.config.malformed_ratio
        return bool(ratio) and self._rng.random() < ratio

    def unknown_receipt(self) -> bool:
        ratio = self.config.unknown_receipt_ratio
        return bool(ratio) and self._rng.random() < ratio

    def random_octets(self, count: int) -> bytes:
        return self._rng.randbytes(count)


def malformed_frame(kind: str, sequence: int, resp: bytes, garbage: bytes) -> bytes:
    """The octets written in place of `resp` (a whole submit_sm_resp) for `kind`.

    Kinds that keep the framing intact (an unknown command, a truncated deliver_sm) still send
    the real resp after the garbage, so the text is answered; the others break the framing, and
    the only honest outcome at the client is a lost session with the text left uncertain.
    """
    if kind == "short_length":
        return pdu.HEADER.pack(8, pdu.SUBMIT_SM | pdu.RESP_BIT, 0, sequence) + resp[16:]
    if kind == "huge_length":
        return pdu.HEADER.pack(0x7FFFFFFF, pdu.SUBMIT_SM | pdu.RESP_BIT, 0, sequence) + resp[16:]
    if kind == "long_length":
        return pdu.HEADER.pack(len(resp) + 4, pdu.SUBMIT_SM | pdu.RESP_BIT, 0, sequence) + resp[16:]
    if kind == "unknown_command":
        return pdu.pdu(0x000001FF, 0, 0x7FFFFF00, b"\x01\x02\x03") + resp
    if kind == "truncated_deliver_sm":
        # service_type, source TON/NPI and the start of an address with no terminator
        return pdu.pdu(pdu.DELIVER_SM, 0, 0x7FFFFF01, b"\x00\x01\x01155") + resp
    if kind == "random_bytes":
        return garbage
    raise ValueError(f"unknown malformed_kind {kind!r}")


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern else None
