"""Client settings: one place for every timeout and limit, defaulting from the environment."""

from __future__ import annotations

import os

import attrs

from smartflow.errors import InvalidArgumentError

#: Redis refuses a single bulk value over 512 MiB (proto-max-bulk-len); larger tensors are chunked.
REDIS_MAX_VALUE_BYTES = 512 * 1024 * 1024


def _positive(_: object, attribute: attrs.Attribute, value: float) -> None:
    if not value > 0:
        raise InvalidArgumentError(f"{attribute.name} must be > 0, got {value!r}")


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise InvalidArgumentError(f"{name}={raw!r} is not a number of seconds") from exc


@attrs.frozen
class ClientConfig:
    """Timeouts (seconds) and limits applied at the client's I/O edge."""

    connect_timeout: float = attrs.field(default=5.0, validator=_positive)
    command_timeout: float = attrs.field(default=60.0, validator=_positive)
    max_connections: int = attrs.field(default=64, validator=_positive)
    #: Tensors whose stored value would exceed this are split into chunks of this many bytes.
    max_value_bytes: int = attrs.field(default=REDIS_MAX_VALUE_BYTES, validator=_positive)

    @classmethod
    def from_env(cls) -> ClientConfig:
        """``SMARTFLOW_CONNECT_TIMEOUT`` and ``SMARTFLOW_COMMAND_TIMEOUT`` (seconds) override."""
        return cls(
            connect_timeout=_env_float("SMARTFLOW_CONNECT_TIMEOUT", 5.0),
            command_timeout=_env_float("SMARTFLOW_COMMAND_TIMEOUT", 60.0),
        )
