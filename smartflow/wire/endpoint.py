"""Where a store listens: a parsed ``host:port`` or ``unix:///path`` address."""

from __future__ import annotations

import attrs

from smartflow.errors import InvalidArgumentError, UnsupportedTypeError


@attrs.frozen
class Endpoint:
    """A parsed store address: TCP ``host:port`` or a unix socket path."""

    host: str | None
    port: int | None
    unix_path: str | None = None

    def __str__(self) -> str:
        return f"unix://{self.unix_path}" if self.unix_path else f"{self.host}:{self.port}"


def parse_address(address: str) -> Endpoint:
    """``"host:port"``, ``"[v6]:port"`` or ``"unix:///path"``; refused with a clear error."""
    if not isinstance(address, str):
        raise UnsupportedTypeError(
            f"store address {address!r} must be a str, 'host:port' or 'unix:///path'"
        )
    if not address:
        raise InvalidArgumentError(
            f"store address {address!r} must be 'host:port' or 'unix:///path'"
        )
    if address.startswith("unix://"):
        path = address[len("unix://") :]
        if not path.startswith("/"):
            raise InvalidArgumentError(
                f"store address {address!r}: a unix socket address is 'unix:///absolute/path'"
            )
        return Endpoint(None, None, path)
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgumentError(
            f"store address {address!r} must be 'host:port' or 'unix:///path'"
        )
    return Endpoint(host.strip("[]"), int(port))
