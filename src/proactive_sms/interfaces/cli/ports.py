"""Whether a local port is taken: to say "port 2775 is in use" instead of a bind error's errno."""

from __future__ import annotations


def in_use(host: str, port: int) -> bool:
    """Whether something listens on host:port (port 0, any free port, is never in use)."""
    import socket

    if not port:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def busy_message(host: str, ports: dict[str, int], hint: str) -> str:
    """'SMPP port 2775 on 127.0.0.1 is in use (...): hint', naming the ports that are taken."""
    busy = [f"{what} port {number}" for what, number in ports.items() if in_use(host, number)]
    where = " and ".join(busy) or "port " + " or ".join(str(n) for n in ports.values())
    return f"{where} on {host} is in use: {hint}"
