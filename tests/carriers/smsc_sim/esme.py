"""A minimal raw SMPP client for the simulator's tests, built on the simulator's own codec.

Deliberately not the production client: these tests check the server's bytes, so the client must
do nothing clever (no retries, no encoding choices) and let a test send anything, garbage included.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from proactive_sms.carriers.smsc_sim import pdu
from proactive_sms.carriers.smsc_sim.records import decode_text

TIMEOUT_S = 2.0


@dataclass
class Pdu:
    command_id: int
    status: int
    sequence: int
    body: bytes

    @property
    def name(self) -> str:
        return pdu.COMMAND_NAMES.get(self.command_id, hex(self.command_id))

    @property
    def message_id(self) -> str:
        """The C-string body of a submit_sm_resp."""
        return self.body.rstrip(b"\0").decode("ascii")

    @property
    def sm(self) -> pdu.SubmitSm:
        """The parsed body of a deliver_sm."""
        return pdu.parse_submit_sm(self.body)

    @property
    def text(self) -> str:
        sm = self.sm
        _, payload = pdu.concat_info(sm.esm_class, sm.short_message, sm.tlvs)
        return decode_text(sm.data_coding, payload)


@dataclass
class RawEsme:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    ack_status: int | None = 0  # deliver_sm_resp status to answer with; None: do not answer
    arrivals: list[Pdu] = field(default_factory=list)  # every PDU read, in order
    delivers: asyncio.Queue[Pdu] = field(default_factory=asyncio.Queue)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _pending: dict[int, asyncio.Future[Pdu]] = field(default_factory=dict)
    _sequences: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1", **options: Any) -> RawEsme:
        reader, writer = await asyncio.open_connection(host, port)
        esme = cls(reader, writer, **options)
        esme._task = asyncio.get_running_loop().create_task(esme._read_loop())
        return esme

    async def _read_loop(self) -> None:
        try:
            while True:
                header = await self.reader.readexactly(pdu.HEADER_LEN)
                length, command, status, sequence = pdu.HEADER.unpack(header)
                body = await self.reader.readexactly(length - pdu.HEADER_LEN)
                received = Pdu(command, status, sequence, body)
                self.arrivals.append(received)
                if command == pdu.DELIVER_SM:
                    self.delivers.put_nowait(received)
                    if self.ack_status is not None:
                        self.answer(received, self.ack_status)
                elif command & pdu.RESP_BIT:
                    future = self._pending.pop(sequence, None)
                    if future is not None and not future.done():
                        future.set_result(received)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("connection closed"))

    def answer(self, deliver: Pdu, status: int = 0) -> None:
        self.writer.write(pdu.pdu(pdu.DELIVER_SM | pdu.RESP_BIT, status, deliver.sequence, b"\0"))

    def send(self, command_id: int, body: bytes = b"") -> asyncio.Future[Pdu]:
        """Write a request; the future resolves with the PDU answering its sequence number."""
        sequence = next(self._sequences)
        future: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        self._pending[sequence] = future
        self.writer.write(pdu.pdu(command_id, 0, sequence, body))
        return future

    def send_raw(self, data: bytes, sequence: int) -> asyncio.Future[Pdu]:
        future: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        self._pending[sequence] = future
        self.writer.write(data)
        return future

    async def request(self, command_id: int, body: bytes = b"") -> Pdu:
        return await asyncio.wait_for(self.send(command_id, body), TIMEOUT_S)

    async def bind(
        self, system_id: str = "psms", password: str = "secret", command: int = pdu.BIND_TRANSCEIVER
    ) -> Pdu:
        return await self.request(command, pdu.bind_body(system_id, password))

    def submit_nowait(
        self,
        destination: str = "15551234567",
        text: str | bytes = "Hello",
        source: str = "12345",
        registered_delivery: int = 1,
        esm_class: int = 0,
        data_coding: int = 0,
        dest_ton: int = 1,
    ) -> asyncio.Future[Pdu]:
        short_message = text if isinstance(text, bytes) else text.encode("latin-1")
        body = pdu.build_sm_body(
            source, 3, 0, destination, dest_ton, 1, esm_class, data_coding, short_message,
            registered_delivery=registered_delivery,
        )  # fmt: skip
        return self.send(pdu.SUBMIT_SM, body)

    async def submit(self, destination: str = "15551234567", **fields: Any) -> Pdu:
        return await asyncio.wait_for(self.submit_nowait(destination, **fields), TIMEOUT_S)

    async def next_deliver(self, timeout_s: float = TIMEOUT_S) -> Pdu:
        return await asyncio.wait_for(self.delivers.get(), timeout_s)

    async def no_deliver_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.delivers.get(), seconds)
        except TimeoutError:
            return True
        return False

    async def close(self) -> None:
        self.writer.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def bound(port: int, command: int = pdu.BIND_TRANSCEIVER, **options: Any) -> RawEsme:
    """A connected client already bound as psms/secret (or as `system_id`/`password` given)."""
    system_id = str(options.pop("system_id", "psms"))
    password = str(options.pop("password", "secret"))
    esme = await RawEsme.connect(port, **options)
    resp = await esme.bind(system_id, password, command)
    assert resp.status == 0, f"bind refused: 0x{resp.status:02X}"
    return esme
