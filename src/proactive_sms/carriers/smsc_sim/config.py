"""The knobs of the SMSC simulator: one frozen dataclass, validated once, replaced whole live.

Replacing the whole object (rather than mutating fields) lets the event loop read the current config
without a lock while the control interface or another thread installs a new one.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTCOMES = ("delivered", "undeliverable", "expired")
ID_FORMATS = ("hex", "decimal")
RECEIPT_ID_FORMATS = ("same", "hex", "decimal")
# What `malformed_kind` writes in place of a submit_sm_resp (docs/smsc_simulator.md):
MALFORMED_KINDS = (
    "short_length",  # command_length 8: below the 16-octet header
    "huge_length",  # command_length 0x7FFFFFFF: no PDU is that long
    "long_length",  # command_length 4 more than the octets that follow: swallows the next PDU
    "unknown_command",  # a request with command_id 0x000001FF, then the real submit_sm_resp
    "truncated_deliver_sm",  # a deliver_sm whose body stops inside its fields, then the resp
    "random_bytes",  # 64 random octets instead of the resp
)


class ConfigError(ValueError):
    """A knob has an unknown name or a value it cannot take; the message names the knob."""


@dataclass(frozen=True)
class SimulatorConfig:
    """Every behaviour of the simulator that a test, the demo or a benchmark may want to change.

    Ratios are probabilities in [0, 1] drawn per submit_sm from one `random.Random(seed)`.
    Destination patterns are full-match regexes applied to the destination in E.164 form: a "+"
    is prefixed when the ESME sent an international (TON 1) number without one.
    """

    # {system_id: password}; a wrong password gets ESME_RINVPASWD, an unknown id ESME_RINVSYSID.
    credentials: dict[str, str] = field(default_factory=lambda: {"psms": "secret"})
    message_id_format: str = "decimal"  # "hex" (upper case) or "decimal" in submit_sm_resp
    receipt_id_format: str = "same"  # "same", "hex" or "decimal": the id's spelling in receipts
    # None: start from a clock-derived number so ids stay unique across simulator restarts too.
    message_id_start: int | None = None

    receipt_delay_s: float = 0.05
    receipt_outcomes: dict[str, float] = field(default_factory=lambda: {"delivered": 1.0})
    # {destination regex: outcome}, first match wins, checked before the ratio mix.
    receipt_outcome_by_destination: dict[str, str] = field(default_factory=dict)
    duplicate_receipts: float = 0.0  # ratio of receipts sent twice
    receipt_before_resp: float = 0.0  # ratio of receipts written before their submit_sm_resp
    # A deliver_sm answered with an error other than 0x65/0x66 (permanent, rejected) is sent
    # again after this delay, as SMSCs do; None: never.
    redelivery_delay_s: float | None = 0.5

    throttle_above_per_s: int | None = None  # per system_id, per 1-second window: 0x58 above it
    queue_full_ratio: float = 0.0  # ESME_RMSGQFUL 0x14
    invalid_destination_pattern: str | None = None  # ESME_RINVDSTADR 0x0B
    drop_connection_after: int | None = None  # close a connection after N accepted submits on it
    drop_connection_repeat: bool = False  # False: only the first connection that reaches N
    no_response_ratio: float = 0.0  # accepted and recorded, never answered
    no_response_pattern: str | None = None  # same, for matching destinations
    generic_nack_ratio: float = 0.0  # answer submit_sm with generic_nack ESME_RSYSERR
    response_delay_s: float = 0.0  # added before every submit_sm_resp

    # The misbehaviour catalogue (docs/smsc_simulator.md): what real SMSCs do on a bad day.
    black_hole: bool = False  # connections are accepted, everything read is dropped, nothing sent
    bind_refusal_status: int | None = None  # every bind refused with it (0x0D: bind failed)
    malformed_ratio: float = 0.0  # ratio of accepted submits answered with a malformed frame
    malformed_kind: str = "short_length"  # which frame: one of MALFORMED_KINDS
    split_writes_octets: int | None = None  # every write leaves in pieces this long, 1 ms apart
    deliver_before_bind_resp: bool = False  # held deliver_sm are written before the bind_resp
    unknown_receipt_ratio: float = 0.0  # ratio of submits also followed by an unknown id's receipt
    drop_mid_pdu: bool = False  # drop_connection_after cuts the connection inside its last resp
    seed: int | None = None

    log_path: str | None = None  # JSON line per accepted submit, flushed at least every 50 ms

    def __post_init__(self) -> None:
        _validate(self)

    def with_knobs(self, **knobs: Any) -> SimulatorConfig:
        """A validated copy with `knobs` changed; unknown names raise ConfigError naming them."""
        unknown = sorted(set(knobs) - KNOBS)
        if unknown:
            raise ConfigError(f"unknown knob(s): {', '.join(unknown)}; known: {sorted(KNOBS)}")
        return dataclasses.replace(self, **knobs)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; passwords are masked because /stats is readable by anyone."""
        values = dataclasses.asdict(self)
        values["credentials"] = {system_id: "***" for system_id in self.credentials}
        return values

    @classmethod
    def from_json_file(cls, path: str | Path) -> SimulatorConfig:
        """Read knobs from a JSON object file (the CLI's --config-json)."""
        try:
            knobs = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        if not isinstance(knobs, dict):
            raise ConfigError(f"{path}: expected a JSON object of knobs")
        return cls().with_knobs(**knobs)


KNOBS = frozenset(f.name for f in dataclasses.fields(SimulatorConfig))

_RATIOS = (
    "duplicate_receipts",
    "receipt_before_resp",
    "queue_full_ratio",
    "no_response_ratio",
    "generic_nack_ratio",
    "malformed_ratio",
    "unknown_receipt_ratio",
)
_FLAGS = ("black_hole", "deliver_before_bind_resp", "drop_mid_pdu", "drop_connection_repeat")
_PATTERNS = ("invalid_destination_pattern", "no_response_pattern")


def _validate(config: SimulatorConfig) -> None:
    if not isinstance(config.credentials, dict) or not config.credentials:
        raise ConfigError("credentials: expected a non-empty {system_id: password} object")
    for system_id, password in config.credentials.items():
        if not isinstance(system_id, str) or not isinstance(password, str):
            raise ConfigError("credentials: system ids and passwords must be strings")
    if config.message_id_format not in ID_FORMATS:
        raise ConfigError(f"message_id_format: expected one of {ID_FORMATS}")
    if config.receipt_id_format not in RECEIPT_ID_FORMATS:
        raise ConfigError(f"receipt_id_format: expected one of {RECEIPT_ID_FORMATS}")
    _check_int(config, "message_id_start", minimum=0)
    _check_int(config, "throttle_above_per_s", minimum=0)
    _check_int(config, "drop_connection_after", minimum=1)
    _check_int(config, "seed", minimum=None)
    _check_int(config, "bind_refusal_status", minimum=1)
    _check_int(config, "split_writes_octets", minimum=1)
    if config.malformed_kind not in MALFORMED_KINDS:
        raise ConfigError(f"malformed_kind: expected one of {MALFORMED_KINDS}")
    for name in _FLAGS:
        if not isinstance(getattr(config, name), bool):
            raise ConfigError(f"{name}: expected true or false, got {getattr(config, name)!r}")
    for name in ("receipt_delay_s", "response_delay_s", "redelivery_delay_s"):
        value = getattr(config, name)
        if value is None and name == "redelivery_delay_s":
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{name}: expected a number of seconds >= 0, got {value!r}")
    for name in _RATIOS:
        value = getattr(config, name)
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            raise ConfigError(f"{name}: expected a ratio between 0 and 1, got {value!r}")
    if not isinstance(config.receipt_outcomes, dict) or not config.receipt_outcomes:
        raise ConfigError("receipt_outcomes: expected a non-empty {outcome: ratio} object")
    for outcome, weight in config.receipt_outcomes.items():
        if outcome not in OUTCOMES:
            raise ConfigError(f"receipt_outcomes: unknown outcome {outcome!r}; known: {OUTCOMES}")
        if not isinstance(weight, int | float) or weight < 0:
            raise ConfigError(f"receipt_outcomes: {outcome} needs a ratio >= 0, got {weight!r}")
    if sum(config.receipt_outcomes.values()) <= 0:
        raise ConfigError("receipt_outcomes: at least one outcome needs a ratio above 0")
    if not isinstance(config.receipt_outcome_by_destination, dict):
        raise ConfigError("receipt_outcome_by_destination: expected a {regex: outcome} object")
    for pattern, outcome in config.receipt_outcome_by_destination.items():
        if outcome not in OUTCOMES:
            raise ConfigError(
                f"receipt_outcome_by_destination: unknown outcome {outcome!r} for {pattern!r}"
            )
        _check_regex("receipt_outcome_by_destination", pattern)
    for name in _PATTERNS:
        pattern = getattr(config, name)
        if pattern is not None:
            _check_regex(name, pattern)
    if config.log_path is not None and not isinstance(config.log_path, str):
        raise ConfigError("log_path: expected a file path string or null")


def _check_int(config: SimulatorConfig, name: str, minimum: int | None) -> None:
    value = getattr(config, name)
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{name}: expected an integer or null, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}: expected an integer >= {minimum}, got {value}")


def _check_regex(name: str, pattern: object) -> None:
    if not isinstance(pattern, str):
        raise ConfigError(f"{name}: expected a regex string, got {pattern!r}")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{name}: invalid regex {pattern!r}: {exc}") from exc
