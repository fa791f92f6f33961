"""Logging from applications, SmartRedis style, kept centrally in the store.

A record goes to three places, in this order:

1. structlog, through the standard library logger ``smartflow.app`` with the client's name
   bound, so the host's ``logging`` setup shows it (smartflow never configures logging);
2. the file named by ``ClientConfig.log_file`` (``SR_LOG_FILE``), if any: one line per record,
   ``<UTC time> <LEVEL> <name>: <message>`` (newlines in the message escaped), appended from a
   worker thread so the event loop never waits on the disk;
3. the store: a JSON object ``{time, level, name, message, host, pid}`` pushed onto the list
   :data:`LOG_KEY`, trimmed to the last :data:`MAX_RECORDS` in the same transaction, so a
   driver reads every application's log with :meth:`LogOps.get_log_records`.

``log_data`` records more verbose than ``ClientConfig.log_level`` (``SR_LOG_LEVEL``) are
dropped before any of that; warnings and errors are always kept. A record *at* ``QUIET`` is
accepted and logs nothing (SmartRedis's ``LLQuiet``: no logging at all). A record's name is
``ClientConfig.logger_name`` if set, else the entity name (``SSKEYOUT``), else ``"default"``.

Without a client, the module-level :func:`log_data`, :func:`log_warning` and
:func:`log_error` (SmartRedis's, with their ``context`` as the record's name) do the first two,
with the same filtering, reading ``SR_LOG_FILE`` and ``SR_LOG_LEVEL`` at each call.
"""

from __future__ import annotations

import datetime
import json
import os
import socket

import anyio
import structlog

from smartflow._checks import checked_text, integer
from smartflow._log import get_logger
from smartflow.client._core import Seam
from smartflow.client.config import LogLevel, log_settings_from_env
from smartflow.errors import ClientError, UnsupportedTypeError

__all__ = ["LOG_KEY", "MAX_RECORDS", "LogLevel", "LogOps", "log_data", "log_error", "log_warning"]

#: The list every client's records are pushed onto (never ensemble-prefixed).
LOG_KEY = "smartflow.log"
#: Records kept in the store; older ones are trimmed away as new ones arrive.
MAX_RECORDS = 10_000

_KEY = LOG_KEY.encode()
_HOST = socket.gethostname()
#: Our level -> the structlog (standard library) method that emits it.
_METHODS = {
    "info": "info",
    "debug": "debug",
    "developer": "debug",
    "warning": "warning",
    "error": "error",
}


class LogOps(Seam):
    """Application logging (see the module docstring)."""

    async def log_data(self, level: LogLevel | str, message: str) -> None:
        """Log ``message`` at ``level`` (``LogLevel.INFO``/``DEBUG``/``DEVELOPER`` or its name);
        dropped when more verbose than the configured level. ``QUIET`` logs nothing."""
        record_level = LogLevel.parse(level)
        _check_message(message)
        self._check_open()
        if _kept("data", record_level, self._config.log_level):
            await self._emit(_level_name("data", record_level), message)

    async def log_warning(self, message: str) -> None:
        """Log ``message`` as a warning; always kept, whatever the configured level."""
        _check_message(message)
        self._check_open()
        await self._emit("warning", message)

    async def log_error(self, message: str) -> None:
        """Log ``message`` as an error; always kept, whatever the configured level."""
        _check_message(message)
        self._check_open()
        await self._emit("error", message)

    async def get_log_records(self, count: int = 100) -> list[dict]:
        """The newest ``count`` records in the store, oldest first, from every client.

        An entry some other writer pushed that is not a JSON object comes back as
        ``{"message": <its text>}``.
        """
        integer(count, "count", at_least=1)
        entries = await self._command("get_log_records", _KEY, b"LRANGE", _KEY, -count, -1)
        if not isinstance(entries, list):
            raise ClientError(f"get_log_records: unexpected reply {entries!r:.80}")
        return [_record(entry) for entry in entries]

    # -- internals ----------------------------------------------------------------------------

    async def _emit(self, level: str, message: str) -> None:
        now, line = _log_locally(self._app_logger, level, self._log_name, message)
        path = self._config.log_file
        if path is not None:
            await anyio.to_thread.run_sync(_append, path, line)
        record = {
            "time": now,
            "level": level,
            "name": self._log_name,
            "message": message,
            "host": _HOST,
            "pid": os.getpid(),
        }
        payload = json.dumps(record, ensure_ascii=False).encode()
        # RPUSH and LTRIM in one MULTI/EXEC: the list never holds more than MAX_RECORDS.
        push = [(b"RPUSH", _KEY, payload), (b"LTRIM", _KEY, -MAX_RECORDS, -1)]
        await self._transaction(f"log to {LOG_KEY!r}", push, key=_KEY)


# -- without a client ---------------------------------------------------------------------------


def log_data(context: str, level: LogLevel | str, data: str) -> None:
    """Log ``data`` under the name ``context`` at ``level``, without a client (SmartRedis's
    ``log_data``): to structlog and to ``SR_LOG_FILE``, if set; dropped when more verbose than
    ``SR_LOG_LEVEL``, and at ``QUIET``. Nothing goes to a store.

    Synchronous, as in SmartRedis: the file is appended to in the calling thread, so in async
    code prefer a client's ``await client.log_data(...)``, or call this through
    ``anyio.to_thread.run_sync``.
    """
    _log_without_client("data", context, level, data)


def log_warning(context: str, level: LogLevel | str, data: str) -> None:
    """Log ``data`` as a warning under ``context``, without a client (SmartRedis's
    ``log_warning``). Like a client's warnings, kept whatever ``SR_LOG_LEVEL`` says; ``level``
    is checked, and ``QUIET`` logs nothing. Synchronous (see :func:`log_data`)."""
    _log_without_client("warning", context, level, data)


def log_error(context: str, level: LogLevel | str, data: str) -> None:
    """Log ``data`` as an error under ``context``, without a client (SmartRedis's
    ``log_error``); kept as :func:`log_warning` keeps warnings. Synchronous (see
    :func:`log_data`)."""
    _log_without_client("error", context, level, data)


def _log_without_client(kind: str, context: object, level: object, data: object) -> None:
    """Check every argument in order, then log to structlog and the file (no store)."""
    name = checked_text(context, "context")
    record_level = LogLevel.parse(level)
    message = _check_message(data)
    log_file, threshold = log_settings_from_env()
    if not _kept(kind, record_level, threshold):
        return
    logger = get_logger("app", name=name)
    _, line = _log_locally(logger, _level_name(kind, record_level), name, message)
    if log_file is not None:
        _append(log_file, line)


# -- shared by both -----------------------------------------------------------------------------


def _kept(kind: str, level: LogLevel, threshold: LogLevel) -> bool:
    """Whether a record is logged: never at QUIET; data up to the threshold's verbosity;
    warnings and errors always."""
    if level is LogLevel.QUIET:
        return False
    return kind != "data" or level <= threshold


def _level_name(kind: str, level: LogLevel) -> str:
    """The level a record is logged at: its own for data, else "warning" or "error"."""
    return level.name.lower() if kind == "data" else kind


def _log_locally(
    logger: structlog.stdlib.BoundLogger, level: str, name: str, message: str
) -> tuple[str, bytes]:
    """Emit the structlog event; returns the record's time and its line for the log file."""
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")
    getattr(logger, _METHODS[level])(message, log_level=level)
    flat = message.replace("\r", "\\r").replace("\n", "\\n")
    return now, f"{now} {level.upper()} {name}: {flat}\n".encode()


def _check_message(message: object) -> str:
    if not isinstance(message, str):
        raise UnsupportedTypeError(f"a log message is a str, got {type(message).__name__}")
    return message


def _append(path: str, line: bytes) -> None:
    """Append ``line`` with one ``O_APPEND`` write, so concurrent writers never interleave."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    except OSError as exc:
        raise ClientError(f"cannot append to the log file {path!r}: {exc}") from exc


def _record(entry: object) -> dict:
    text = entry.decode("utf-8", errors="replace") if isinstance(entry, bytes) else str(entry)
    try:
        record = json.loads(text)
    except ValueError:
        return {"message": text}
    return record if isinstance(record, dict) else {"message": text}
