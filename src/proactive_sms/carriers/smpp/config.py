"""Settings of one SMPP connection (one bind to one SMSC account)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SmppConfig:
    """Where to bind, as whom, and how hard to push.

    The first block is what every deployment sets; the defaults below it suit a typical carrier
    (window of 10, enquire_link after 30 s of silence) and the tests shorten the timeouts.
    """

    host: str
    port: int
    system_id: str  # SMPP 3.4 allows at most 15 characters
    password: str  # SMPP 3.4 allows at most 8 characters
    system_type: str = ""
    window_size: int = 10  # submit_sm PDUs awaiting their submit_sm_resp at any moment
    enquire_link_interval_s: float = 30.0  # idle time before a keep-alive probe (carriers: 30-60 s)
    response_timeout_s: float = 10.0  # a written PDU without an answer after this is UNCERTAIN
    reconnect_min_s: float = 0.2  # first delay after a lost or refused session, then doubled
    reconnect_max_s: float = 30.0
    partial_retry_limit: int = 5  # retries of a refused later part of an already started text
    # Not in every deployment's settings, but worth a knob:
    handler_concurrency: int = 64  # deliver_sm handled at once before the reader waits
    inbound_reassembly_timeout_s: float = 30.0  # parts of a long reply kept (unacked) this long

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.host:
            problems.append("host is empty")
        if not 0 < self.port < 65536:
            problems.append(f"port {self.port} is not a TCP port")
        if not self.system_id or len(self.system_id) > 15:
            problems.append("system_id must have 1 to 15 characters")
        if len(self.password) > 8:
            problems.append("password must have at most 8 characters (SMPP 3.4)")
        if len(self.system_type) > 12:
            problems.append("system_type must have at most 12 characters")
        if self.window_size < 1:
            problems.append("window_size must be at least 1")
        if self.handler_concurrency < 1:
            problems.append("handler_concurrency must be at least 1")
        if self.partial_retry_limit < 0:
            problems.append("partial_retry_limit must not be negative")
        for name in (
            "enquire_link_interval_s",
            "response_timeout_s",
            "reconnect_min_s",
            "inbound_reassembly_timeout_s",
        ):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive")
        if self.reconnect_max_s < self.reconnect_min_s:
            problems.append("reconnect_max_s must not be below reconnect_min_s")
        if problems:
            raise ValueError("invalid SMPP settings: " + "; ".join(problems))
