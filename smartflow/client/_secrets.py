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


def address_aliases(address: str) -> frozenset[str]:
    """``address`` and the other spellings of it: a loopback host is localhost or 127.0.0.1."""
    host, _, port = address.rpartition(":")
    if host in _LOOPBACK_NAMES:
        return frozenset(f"{name}:{port}" for name in _LOOPBACK_NAMES)
    return frozenset((address,))


def known_secret(address: str) -> str | None:
    """The secret of a store this process started at ``address``, if any."""
    if address in _SECRETS:
        return _SECRETS[address]
    for alias in sorted(address_aliases(address)):
        if alias in _SECRETS:
            return _SECRETS[alias]
    return None
