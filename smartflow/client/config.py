"""Client settings: one place for every timeout and limit, defaulting from the environment.

:meth:`ClientConfig.from_env` reads, for every setting it finds set (an empty value counts as
unset), and refuses a bad value with an :class:`~smartflow.errors.InvalidArgumentError` that names
the variable:

* ``SMARTFLOW_CONNECT_TIMEOUT`` / ``SMARTFLOW_COMMAND_TIMEOUT``: seconds (default 5 and 60).
* ``SR_CONN_TIMEOUT`` / ``SR_CMD_TIMEOUT``: SmartRedis's names for the same two timeouts, also in
  seconds; used when the ``SMARTFLOW_`` variable is not set.
* ``SMARTFLOW_RUN_TIMEOUT``: seconds a model or script run may take, queueing included (60).
* ``SR_LOG_FILE``: a file each :meth:`~smartflow.client.client.Client.log_data` record (and
  each module-level :func:`smartflow.log_data` one) is appended to; ``SR_LOG_LEVEL``: ``QUIET``,
  ``INFO`` (default), ``DEBUG`` or ``DEVELOPER``.

SmartRedis's ``SR_CONN_INTERVAL`` and ``SR_CMD_INTERVAL`` (milliseconds between retries) are
ignored: smartflow does not retry a command (a retried write could act twice); it fails with a
typed error once the timeout has passed.
"""

from __future__ import annotations

import enum
import math
import numbers
import os

import attrs

from smartflow._checks import checked_text, count
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError
from smartflow.wire import Limits

#: Redis refuses a single bulk value over 512 MiB (proto-max-bulk-len); larger tensors are chunked.
REDIS_MAX_VALUE_BYTES = 512 * 1024 * 1024


class LogLevel(enum.IntEnum):
    """SmartRedis's logging levels (``SR_LOG_LEVEL``), least to most verbose.

    As a threshold, ``QUIET`` keeps only warnings and errors; a record is kept when its level is
    at most the threshold (``DEBUG`` keeps ``INFO`` and ``DEBUG`` records).
    """

    QUIET = 1
    INFO = 2
    DEBUG = 3
    DEVELOPER = 4

    @classmethod
    def parse(cls, value: object, what: str = "log level") -> LogLevel:
        """A member, or its name in any case (``"info"``); anything else is refused: another
        type (a plain int included) as a type error, an unknown name as a bad value."""
        if isinstance(value, LogLevel):
            return value
        choices = ", ".join(m.name for m in cls)
        if not isinstance(value, str):
            raise UnsupportedTypeError(
                f"{what} {value!r} must be a LogLevel or one of the names {choices}"
            )
        member = cls.__members__.get(value.strip().upper())
        if member is None:
            raise InvalidArgumentError(f"{what} {value!r} is not one of {choices} (or a LogLevel)")
        return member


def _positive(_: object, attribute: attrs.Attribute, value: object) -> None:
    """A number of seconds > 0 (a bool is not one); NaN is refused, ``inf`` is no limit."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise UnsupportedTypeError(
            f"{attribute.name} must be a number > 0, got {type(value).__name__} {value!r}"
        )
    if not value > 0:
        raise InvalidArgumentError(f"{attribute.name} must be > 0, got {value!r}")


def _positive_int(_: object, attribute: attrs.Attribute, value: object) -> None:
    count(value, attribute.name)


def _optional_path(_: object, attribute: attrs.Attribute, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise UnsupportedTypeError(
            f"{attribute.name} must be a non-empty str or None, got {type(value).__name__}"
        )
    if value == "":
        raise InvalidArgumentError(f"{attribute.name} must be a non-empty str or None")


def _name(_: object, attribute: attrs.Attribute, value: object) -> None:
    checked_text(value, attribute.name)


def _connection_name(_: object, attribute: attrs.Attribute, value: object) -> None:
    checked_text(value, attribute.name)
    if any(c.isspace() for c in value):  # type: ignore[union-attr]
        raise InvalidArgumentError(f"{attribute.name} must be a str without spaces, got {value!r}")


def _env(name: str) -> str | None:
    raw = os.environ.get(name, "").strip()
    return raw or None


def _env_seconds(names: tuple[str, ...], default: float) -> float:
    """The first of ``names`` that is set, as a positive, finite number of seconds."""
    for name in names:
        raw = _env(name)
        if raw is None:
            continue
        try:
            value = math.nan if "_" in raw else float(raw)  # float() would take "1_0"
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise InvalidArgumentError(f"{name}={raw!r} is not a positive number of seconds")
        return value
    return default


@attrs.frozen
class ClientConfig:
    """Timeouts (seconds), limits and logging applied at the client's I/O edge."""

    connect_timeout: float = attrs.field(default=5.0, validator=_positive)
    command_timeout: float = attrs.field(default=60.0, validator=_positive)
    max_connections: int = attrs.field(default=64, validator=_positive_int)
    #: Tensors whose stored value would exceed this are split into chunks of this many bytes.
    max_value_bytes: int = attrs.field(default=REDIS_MAX_VALUE_BYTES, validator=_positive_int)
    #: How long ``run_model``/``run_script`` wait for the inference worker's answer.
    run_timeout: float = attrs.field(default=60.0, validator=_positive)
    #: A file every log record is appended to (one line each); None: no file.
    log_file: str | None = attrs.field(default=None, validator=_optional_path)
    #: The most verbose ``log_data`` records kept (warnings and errors always are).
    log_level: LogLevel = attrs.field(default=LogLevel.INFO, converter=LogLevel.parse)
    #: The name this client's connections show in the store's CLIENT LIST (empty: none).
    client_name: str = attrs.field(default="", validator=_connection_name)
    #: The name log records carry; empty: the entity name (``SSKEYOUT``), else ``"default"``.
    logger_name: str = attrs.field(default="", validator=_name)

    @classmethod
    def from_env(cls) -> ClientConfig:
        """The settings from the environment (see the module docstring for the variables)."""
        log_file, log_level = log_settings_from_env()
        return cls(
            connect_timeout=_env_seconds(("SMARTFLOW_CONNECT_TIMEOUT", "SR_CONN_TIMEOUT"), 5.0),
            command_timeout=_env_seconds(("SMARTFLOW_COMMAND_TIMEOUT", "SR_CMD_TIMEOUT"), 60.0),
            run_timeout=_env_seconds(("SMARTFLOW_RUN_TIMEOUT",), 60.0),
            log_file=log_file,
            log_level=log_level,
        )

    def wire_limits(self) -> Limits:
        """The connection limits and timeouts of these settings, as the transport takes them."""
        return Limits(
            max_connections=self.max_connections,
            connect_timeout=self.connect_timeout,
            command_timeout=self.command_timeout,
            client_name=self.client_name or None,
        )


def log_settings_from_env() -> tuple[str | None, LogLevel]:
    """``SR_LOG_FILE`` (None when unset) and ``SR_LOG_LEVEL`` (INFO when unset), as the
    client and the module-level ``log_data`` read them."""
    raw_level = _env("SR_LOG_LEVEL")
    level = LogLevel.INFO if raw_level is None else LogLevel.parse(raw_level, "SR_LOG_LEVEL")
    return _env("SR_LOG_FILE"), level
