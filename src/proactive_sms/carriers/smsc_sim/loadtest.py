"""A raw pipelined SMPP load client: the floor any real client is measured against.

It does the least an ESME can: bind, keep `window` submit_sm in flight, answer each receipt. No
library, no store, so its rate is what the simulator (and the machine) can do, not the client.

    python -m proactive_sms.carriers.smsc_sim.loadtest --count 50000 --window 50
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

from . import pdu
from .config import SimulatorConfig
from .server import SmscSimulator


@dataclass(frozen=True)
class LoadResult:
    count: int
    window: int
    submit_s: float  # first submit written -> last submit_sm_resp read
    receipts_s: float  # first submit written -> last receipt read (0 without receipts)
    refused: int

    @property
    def submits_per_s(self) -> float:
        return self.count / self.submit_s if self.submit_s else 0.0

    @property
    def receipts_per_s(self) -> float:
        return self.count / self.receipts_s if self.receipts_s else 0.0


class _LoadProtocol(asyncio.Protocol):
    def __init__(self, count: int, window: int, receipts: bool, bind_body: bytes) -> None:
        self._count, self._window, self._receipts = count, window, receipts
        self._bind_body = bind_body
        self._buf = bytearray()
        self._sent = self._answered = self._receipts_seen = self.refused = 0
        self._transport: asyncio.Transport | None = None
        self.started = self.submits_done = self.receipts_done = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._submits = [
            pdu.build_sm_body(
                "12345", 3, 0, f"1555{i % 10_000_000:07d}", 1, 1, 0, 0,
                f"Load test message {i}".encode("ascii"), registered_delivery=int(receipts),
            )
            for i in range(min(count, 1000))
        ]  # fmt: skip

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(pdu.pdu(pdu.BIND_TRANSCEIVER, 0, 1, self._bind_body))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError("simulator closed the connection"))

    def _next_submits(self, n: int) -> list[bytes]:
        out = []
        for _ in range(min(n, self._count - self._sent)):
            self._sent += 1
            body = self._submits[self._sent % len(self._submits)]
            out.append(pdu.pdu(pdu.SUBMIT_SM, 0, self._sent + 1, body))
        return out

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        pos, out = 0, []
        while len(buf) - pos >= pdu.HEADER_LEN:
            length, command, status, sequence = pdu.HEADER.unpack_from(buf, pos)
            if len(buf) - pos < length:
                break
            pos += length
            if command == pdu.SUBMIT_SM | pdu.RESP_BIT or command == pdu.GENERIC_NACK:
                self._answered += 1
                self.refused += status != 0
                out += self._next_submits(1)
            elif command == pdu.DELIVER_SM:
                self._receipts_seen += 1
                out.append(pdu.pdu(pdu.DELIVER_SM | pdu.RESP_BIT, 0, sequence, b"\0"))
            elif command == pdu.BIND_TRANSCEIVER | pdu.RESP_BIT:
                if status:
                    self.done.set_exception(ConnectionError(f"bind refused: 0x{status:02X}"))
                    return
                self.started = time.perf_counter()
                out += self._next_submits(self._window)
        del buf[:pos]
        if out:
            assert self._transport is not None
            self._transport.write(b"".join(out))
        now = time.perf_counter()
        if self._answered >= self._count and not self.submits_done:
            self.submits_done = now
        want_receipts = self._count - self.refused if self._receipts else 0
        if self.submits_done and self._receipts_seen >= want_receipts and not self.done.done():
            self.receipts_done = now if self._receipts else 0.0
            self.done.set_result(None)


async def run_load(
    host: str,
    port: int,
    count: int = 50_000,
    window: int = 50,
    receipts: bool = True,
    system_id: str = "psms",
    password: str = "secret",
) -> LoadResult:
    """Push `count` submit_sm with `window` in flight; waits for every resp (and receipt)."""
    loop = asyncio.get_running_loop()
    bind_body = pdu.bind_body(system_id, password)
    transport, protocol = await loop.create_connection(
        lambda: _LoadProtocol(count, window, receipts, bind_body), host, port
    )
    try:
        await protocol.done
    finally:
        transport.close()
    return LoadResult(
        count=count,
        window=window,
        submit_s=protocol.submits_done - protocol.started,
        receipts_s=(protocol.receipts_done - protocol.started) if receipts else 0.0,
        refused=protocol.refused,
    )


async def _main(args: argparse.Namespace) -> None:
    if args.port:
        result = await run_load(args.host, args.port, args.count, args.window, not args.no_receipts)
    else:
        config = SimulatorConfig(receipt_delay_s=args.receipt_delay)
        async with SmscSimulator(config) as sim:
            result = await run_load(
                sim.host, sim.port, args.count, args.window, not args.no_receipts
            )
    print(
        f"{result.count} submit_sm, window {result.window}: {result.submits_per_s:,.0f}/s "
        f"({result.submit_s:.2f} s); receipts all in after {result.receipts_s:.2f} s; "
        f"refused {result.refused}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: run a simulator in-process")
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--receipt-delay", type=float, default=0.05)
    parser.add_argument("--no-receipts", action="store_true")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
