"""Where a webhook may be sent: public addresses only, unless a deployment allows named ones.

A webhook URL is typed by a business unit's user, and our sender posts to it from inside the
deployment's network: left open, it is a way to reach (and, through the delivery log, to read or
port-scan) what that network hides — 127.0.0.1, [::1], the cloud metadata service at
169.254.169.254, private ranges. So a destination is refused when its address is not a public
one, in whatever spelling the address is written: `inet_aton` accepts 2130706433, 0x7f000001,
0177.0.0.1 and 127.1 as 127.0.0.1, and IPv6 can carry an IPv4 address (::ffff:127.0.0.1, 6to4,
NAT64). This is checked twice: when the URL is saved (a literal address or a local name), and
when the sender connects, on the addresses DNS gave (a name may change what it resolves to).

A private deployment may allow destinations of its own (`Allowance`): named hosts (the URL's
host name as written), or addresses and networks (the address connected to).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


@dataclass(frozen=True)
class Allowance:
    """Destinations a deployment allows although they are not public."""

    names: frozenset[str] = frozenset()  # host names, lower case, without a trailing dot
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())

    @classmethod
    def parse(cls, text: str | None) -> Allowance:
        """From a comma-separated list of host names, addresses and networks (CIDR), as in
        "hooks.corp.example, 10.20.0.0/16, 127.0.0.1". Raises ValueError naming a bad entry."""
        names: set[str] = set()
        networks = []
        for entry in (text or "").split(","):
            entry = entry.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if any(ch.isspace() or ch in "/@:[]" for ch in entry):
                raise ValueError(f"'{entry}' is neither a host name, an address nor a network")
            names.add(entry)
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host: str) -> bool:
        return _plain_name(host) in self.names

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks
                   if network.version == address.version)


def literal_address(host: str) -> IPAddress | None:
    """The address `host` spells, in any form a resolver would read as one, else None (a name).

    IPv4 as inet_aton reads it: one to four parts, each decimal, hexadecimal (0x) or octal
    (a leading 0), the last one filling the bytes left (127.1 is 127.0.0.1). IPv6 with or without
    its brackets and zone."""
    host = host.strip().strip("[]").rstrip(".")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    return _inet_aton(host)


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            elif part.isdigit() and part.isascii():
                numbers.append(int(part))
            else:
                return None
        except ValueError:
            return None
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for n in leading:
        value = value * 256 + n
    value = value * 256 ** (5 - len(numbers)) + last
    return ipaddress.IPv4Address(value)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo client, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or address in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(address))
    return None


def address_problem(address: IPAddress) -> str | None:
    """Why `address` is not a public one (None when it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            problem = address_problem(inner)
            return f"{problem} (inside the IPv6 address {address})" if problem else None
    if address.is_loopback:
        return f"{address} is a loopback address"
    if address.is_unspecified:
        return f"{address} is the unspecified address"
    if address.is_link_local:
        return f"{address} is a link-local address (where cloud metadata services answer)"
    if address.is_multicast:
        return f"{address} is a multicast address"
    if address.is_private:
        return f"{address} is a private address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def _plain_name(host: str) -> str:
    return host.strip().strip("[]").lower().rstrip(".")


def host_problem(host: str, allowance: Allowance) -> str | None:
    """Why a URL's host may not be saved as a destination (None when it may, for now: a name is
    checked again, on its addresses, at every connection)."""
    if allowance.allows_name(host):
        return None
    address = literal_address(host)
    if address is not None:
        if allowance.allows_address(address):
            return None
        return address_problem(address)
    name = _plain_name(host)
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return f"{name} names this machine"
    return None


def resolved_problem(host: str, addresses: Iterable[IPAddress],
                     allowance: Allowance) -> str | None:
    """Why a connection to `host`, which resolved to `addresses`, must not be made (None when
    every address is public or allowed). Every address is checked, not only the first: the
    one connected to must be one of those checked."""
    if allowance.allows_name(host):
        return None
    for address in addresses:
        if allowance.allows_address(address):
            continue
        problem = address_problem(address)
        if problem:
            if literal_address(host) is not None:
                return problem
            return f"{_plain_name(host)} resolves to an internal address: {problem}"
    return None
