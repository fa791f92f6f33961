"""Interfaces and ports for store shards."""

from __future__ import annotations

import fcntl
import ipaddress
import random
import socket
import struct

from smartflow.errors import InvalidArgumentError, StoreStartError

# Redis cluster nodes listen on port + 10000 for their bus and refuse ports above 55535, and
# Linux hands out ephemeral ports from 32768: choose from a range where both ports are usable.
PORT_RANGE = (20000, 45535)
CLUSTER_BUS_OFFSET = 10000
_SIOCGIFADDR = 0x8915


def interface_address(interface: str) -> str:
    """The IPv4 address to bind for a network interface name (``"lo"``) or an IP literal."""
    try:
        return str(ipaddress.ip_address(interface))
    except ValueError:
        pass
    if interface == "lo":
        return "127.0.0.1"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            packed = struct.pack("256s", interface.encode()[:15])
            answer = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, packed)
    except OSError as exc:
        names = ", ".join(name for _, name in socket.if_nameindex())
        raise InvalidArgumentError(
            f"network interface {interface!r} has no IPv4 address here (interfaces: {names})"
        ) from exc
    return socket.inet_ntoa(answer[20:24])


def port_is_free(host: str, port: int) -> bool:
    """True when ``port`` can be bound on ``host`` (with SO_REUSEADDR, as redis-server does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pick_free_port(host: str, *, tries: int = 200) -> int:
    """A free port whose cluster-bus partner (port + 10000) is free too."""
    low, high = PORT_RANGE
    for _ in range(tries):
        port = random.randint(low, high)
        if port_is_free(host, port) and port_is_free(host, port + CLUSTER_BUS_OFFSET):
            return port
    raise StoreStartError(f"no free port pair found in {low}-{high} on {host}")


def pick_free_ports(host: str, count: int) -> list[int]:
    """``count`` distinct free ports, each with its cluster-bus partner free too."""
    ports: list[int] = []
    while len(ports) < count:
        port = pick_free_port(host)
        taken = {p for q in ports for p in (q, q + CLUSTER_BUS_OFFSET)}
        if port not in taken and port + CLUSTER_BUS_OFFSET not in taken:
            ports.append(port)
    return ports
