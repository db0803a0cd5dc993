"""What the simulator saw: accepted submits (in memory and as JSON lines) and their reassembly."""

from __future__ import annotations

import asyncio
import json
import threading
from json.encoder import encode_basestring as _json_string
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from . import gsm7

FLUSH_INTERVAL_S = 0.05


class AcceptedSubmit(NamedTuple):
    """One submit_sm PDU the simulator accepted (one part of a long message), as received.

    A NamedTuple, not a frozen dataclass: one is built per submit on the hot path, and a frozen
    dataclass's __init__ costs about seven times as much.
    """

    time_s: float  # time.time() at arrival
    monotonic_s: float  # time.monotonic() at arrival, for rate checks within this process
    system_id: str
    source_addr: str
    source_ton: int
    source_npi: int
    destination_addr: str
    destination_ton: int
    destination_npi: int
    esm_class: int
    data_coding: int
    registered_delivery: int
    validity_period: str
    short_message: bytes  # as sent, UDH included (or the message_payload TLV when sm_length 0)
    udh: tuple[int, int, int] | None  # (ref, total, seq) of a concatenated part
    payload: bytes  # short_message without the UDH
    message_id: str  # as given in submit_sm_resp
    answered: bool  # False when a no-response fault swallowed the submit_sm_resp

    @property
    def text(self) -> str:
        """The part's text; decoded on demand because most runs never read it."""
        return decode_text(self.data_coding, self.payload)

    def json_line(self) -> str:
        """The JSONL log line (no newline). Written by hand because json.dumps of a dict costs
        ~8 us a record, enough to halve the simulator's rate with the log on."""
        s = _json_string
        udh = "null" if self.udh is None else "[{}, {}, {}]".format(*self.udh)
        return (
            f'{{"time_s": {self.time_s!r}, "monotonic_s": {self.monotonic_s!r}, '
            f'"system_id": {s(self.system_id)}, "source_addr": {s(self.source_addr)}, '
            f'"source_ton": {self.source_ton}, "source_npi": {self.source_npi}, '
            f'"destination_addr": {s(self.destination_addr)}, '
            f'"destination_ton": {self.destination_ton}, '
            f'"destination_npi": {self.destination_npi}, "esm_class": {self.esm_class}, '
            f'"data_coding": {self.data_coding}, '
            f'"registered_delivery": {self.registered_delivery}, '
            f'"validity_period": {s(self.validity_period)}, '
            f'"short_message_hex": "{self.short_message.hex()}", "udh": {udh}, '
            f'"text": {s(self.text)}, "message_id": {s(self.message_id)}, '
            f'"answered": {"true" if self.answered else "false"}}}'
        )

    def to_json(self) -> dict[str, Any]:
        """The same object as the log line (one definition of the format, the log's)."""
        return dict(json.loads(self.json_line()))


def decode_text(data_coding: int, payload: bytes) -> str:
    """Text of a part by data_coding: 0 GSM-7 unpacked, 8 UCS-2, 1 ASCII, otherwise Latin-1."""
    if data_coding == 0:
        return gsm7.decode(payload)
    if data_coding == 8:
        return payload.decode("utf-16-be", "replace")
    if data_coding == 1:
        return payload.decode("ascii", "replace")
    return payload.decode("latin-1")


def reassemble(records: list[AcceptedSubmit]) -> list[tuple[str, str]]:
    """(destination, full text) per message, in order of first part, joining parts by
    (source, destination, ref). A part whose seq is already in the open group starts a new group:
    that is a re-sent message, and it must show up as a second text. Missing parts are left out."""
    messages: list[tuple[str, dict[int, str]]] = []
    open_groups: dict[tuple[str, str, int], dict[int, str]] = {}
    for record in records:
        if record.udh is None:
            messages.append((record.destination_addr, {1: record.text}))
            continue
        ref, total, seq = record.udh
        key = (record.source_addr, record.destination_addr, ref)
        group = open_groups.get(key)
        if group is None or seq in group:
            group = {}
            open_groups[key] = group
            messages.append((record.destination_addr, group))
        group[seq] = record.text
        if len(group) >= total:
            del open_groups[key]  # complete: the 8-bit ref may be reused by a later message
    return [(dest, "".join(parts[seq] for seq in sorted(parts))) for dest, parts in messages]


class RecordBook:
    """Accepted submits and counters, written by the event loop and read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: list[AcceptedSubmit] = []
        # Plain dicts: copying one is a single C call under the GIL, so readers need no lock.
        self.received: dict[int, int] = {}  # command_id -> PDUs received
        self.refused: dict[int, int] = {}  # command_status -> submit_sm refused with it
        self.counters: dict[str, int] = {}
        self.log: JsonlLog | None = None

    def add(self, record: AcceptedSubmit) -> None:
        with self._lock:
            self._accepted.append(record)
        if self.log is not None:
            self.log.append(record)

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def accepted(self, since: int = 0) -> list[AcceptedSubmit]:
        with self._lock:
            return self._accepted[since:]

    def accepted_count(self) -> int:
        return len(self._accepted)

    def clear(self) -> None:
        with self._lock:
            self._accepted = []
        self.received = {}
        self.refused = {}
        self.counters = {}


class JsonlLog:
    """Appends one JSON line per accepted submit, flushed every FLUSH_INTERVAL_S and on close.

    Lines are serialized in the flush task, not per submit, so a burst costs one write. No fsync:
    the point is surviving the death of the client process, not of the machine.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = self.path.open("a", encoding="utf-8")
        self._pending: list[AcceptedSubmit] = []
        self._task: asyncio.Task[None] | None = None

    def append(self, record: AcceptedSubmit) -> None:
        self._pending.append(record)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self._file.write("".join(r.json_line() + "\n" for r in pending))
        self._file.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            self.flush()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.flush()
        self._file.close()
