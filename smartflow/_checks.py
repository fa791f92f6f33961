"""Argument checks shared across layers: each returns the value or raises a typed error."""

from __future__ import annotations

from smartflow.errors import InvalidArgumentError


def count(value: object, what: str) -> int:
    """An int >= 1 (a bool is not a count)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgumentError(f"{what} must be an int >= 1, got {value!r}")
    return value


def port(value: object) -> int | None:
    """A TCP port in 1-65535, or None (one is picked at start)."""
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535
    ):
        raise InvalidArgumentError(f"port {value!r} must be an int in 1-65535 or None (pick one)")
    return value
