"""The webhook sender's HTTP transport: it resolves a host, checks every address it got
(domain.destinations), and connects to one of those checked addresses.

Checking a name when the URL is saved is not enough: what a name resolves to can change between
the check and the connection (DNS rebinding). So the check happens here, at each new connection,
on the addresses the connection is then made to. TLS still verifies the URL's own host name
(httpcore starts TLS with the origin's host as server_hostname, so SNI and the certificate
check are unchanged) and the Host header is the URL's, since only the socket's address differs.
No proxy from the environment is used: a proxy would connect where we did not check.

`PSMS_WEBHOOK_ALLOW_INTERNAL` (comma-separated host names, addresses or networks) lets a private
deployment send to destinations of its own that are not public.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from proactive_sms.domain.destinations import Allowance, IPAddress, resolved_problem

ALLOW_ENV = "PSMS_WEBHOOK_ALLOW_INTERNAL"

# host, port -> the addresses it resolves to (a seam: tests stand in for DNS with it)
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


def allowance_from_env() -> Allowance:
    """The deployment's allowance, read at each call (cheap; a changed setting needs no
    restart of the code that reads it). A bad entry is an error naming the setting."""
    try:
        return Allowance.parse(os.environ.get(ALLOW_ENV))
    except ValueError as exc:
        raise ValueError(f"{ALLOW_ENV}: {exc}") from exc


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The addresses of `host` from the system's resolver (in its order of preference)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


class DestinationRefused(httpcore.ConnectError):
    """The host resolves to an address webhooks may not reach (httpx reports a ConnectError)."""


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, then connects to a checked address with the default backend."""

    def __init__(self, allowance: Callable[[], Allowance], resolver: Resolver) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allowance = allowance
        self._resolver = resolver

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(self._resolver(host, port), timeout)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        problem = resolved_problem(host, addresses, self._allowance())
        if problem:
            raise DestinationRefused(f"refused: {problem} (see {ALLOW_ENV})")
        last: Exception | None = None
        for address in addresses:  # each one was checked above
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, *args, **kwargs):  # never a webhook's destination
        raise httpcore.ConnectError("webhooks are not sent to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, its connections made by `_CheckedBackend`."""

    def __init__(self, allowance: Callable[[], Allowance] = allowance_from_env,
                 resolver: Resolver = system_resolver,
                 limits: httpx.Limits = httpx.Limits(max_connections=100,
                                                     max_keepalive_connections=20)) -> None:
        super().__init__(trust_env=False, limits=limits)
        # httpx offers no argument for a network backend; its pool takes one. The pool is
        # replaced by one of the same settings (tests/services/test_webhook_destinations.py
        # proves a rebinding name is refused, so a change in httpx would be seen).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_CheckedBackend(allowance, resolver))
