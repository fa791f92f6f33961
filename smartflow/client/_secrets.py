"""Secrets of the stores this process started, so a driver's ``Client`` needs no password.

Only the experiment writes here; the client only reads. Keys are ``host:port`` addresses.
"""

from __future__ import annotations

_SECRETS: dict[str, str] = {}
_LOOPBACK_NAMES = ("localhost", "127.0.0.1")


def remember_secret(address: str, password: str) -> None:
    _SECRETS[address] = password


def forget_secret(address: str) -> None:
    _SECRETS.pop(address, None)


def known_secret(address: str) -> str | None:
    """The secret of a store this process started at ``address``, if any."""
    if address in _SECRETS:
        return _SECRETS[address]
    host, _, port = address.rpartition(":")
    if host in _LOOPBACK_NAMES:
        for name in _LOOPBACK_NAMES:
            if f"{name}:{port}" in _SECRETS:
                return _SECRETS[f"{name}:{port}"]
    return None
