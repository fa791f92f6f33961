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
dropped before any of that; warnings and errors are always kept. A record's name is
``ClientConfig.logger_name`` if set, else the entity name (``SSKEYOUT``), else ``"default"``.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import socket

import anyio
import structlog

from smartflow._log import get_logger
from smartflow.client._core import ClientCore
from smartflow.client._resp import RespConnection, pack_command, raise_for_error, transaction
from smartflow.client.config import LogLevel
from smartflow.errors import ClientError, InvalidArgumentError, UnsupportedTypeError

__all__ = ["LOG_KEY", "MAX_RECORDS", "LogLevel", "LogOps"]

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


class LogOps(ClientCore):
    """Application logging (see the module docstring)."""

    async def log_data(self, level: LogLevel | str, message: str) -> None:
        """Log ``message`` at ``level`` (``LogLevel.INFO``/``DEBUG``/``DEVELOPER`` or its name);
        dropped when more verbose than the configured level."""
        record_level = LogLevel.parse(level)
        if record_level is LogLevel.QUIET:
            raise InvalidArgumentError(
                "QUIET is a threshold (SR_LOG_LEVEL), not a level to log at: "
                "use INFO, DEBUG or DEVELOPER"
            )
        _check_message(message)
        self._check_open()
        if record_level <= self._config.log_level:
            await self._emit(record_level.name.lower(), message)

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
        if isinstance(count, bool) or not isinstance(count, int):
            raise UnsupportedTypeError(f"count must be an int, got {type(count).__name__}")
        if count < 1:
            raise InvalidArgumentError(f"count must be >= 1, got {count}")
        entries = await self._fast("get_log_records", _KEY, lambda c: _lrange(c, count))
        return [_record(entry) for entry in entries]

    # -- internals ----------------------------------------------------------------------------

    @functools.cached_property
    def _log_name(self) -> str:
        return self._config.logger_name or self._prefixer.put_prefix or "default"

    @functools.cached_property
    def _app_logger(self) -> structlog.stdlib.BoundLogger:
        return get_logger("app", name=self._log_name)

    async def _emit(self, level: str, message: str) -> None:
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")
        getattr(self._app_logger, _METHODS[level])(message, log_level=level)
        path = self._config.log_file
        if path is not None:
            flat = message.replace("\r", "\\r").replace("\n", "\\n")
            line = f"{now} {level.upper()} {self._log_name}: {flat}\n".encode()
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
        await self._fast(f"log_{level}", _KEY, lambda c: _push(c, payload))


def _check_message(message: object) -> None:
    if not isinstance(message, str):
        raise UnsupportedTypeError(f"a log message is a str, got {type(message).__name__}")


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


async def _push(conn: RespConnection, payload: bytes) -> None:
    """RPUSH and LTRIM in one MULTI/EXEC."""
    commands = [
        pack_command(b"RPUSH", _KEY, payload),
        pack_command(b"LTRIM", _KEY, -MAX_RECORDS, -1),
    ]
    await transaction(conn, commands, f"log to {LOG_KEY!r}")


async def _lrange(conn: RespConnection, count: int) -> list:
    await conn.send(pack_command(b"LRANGE", _KEY, -count, -1))
    reply = await conn.read_reply()
    raise_for_error(reply, f"get_log_records from {LOG_KEY!r}")
    if not isinstance(reply, list):
        raise ClientError(f"get_log_records: unexpected reply {reply!r:.80}")
    return reply


def _record(entry: object) -> dict:
    text = entry.decode("utf-8", errors="replace") if isinstance(entry, bytes) else str(entry)
    try:
        record = json.loads(text)
    except ValueError:
        return {"message": text}
    return record if isinstance(record, dict) else {"message": text}
