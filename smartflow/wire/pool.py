"""A pool of :class:`~smartflow.wire.resp.RespConnection` s to one shard: the shard's handle."""

from __future__ import annotations

from collections import deque

import anyio
import attrs

from smartflow.errors import ClientError, ClientTimeoutError
from smartflow.wire.endpoint import Endpoint
from smartflow.wire.resp import RespConnection


@attrs.frozen
class Limits:
    """How many connections a shard's pool may open, and how long connecting and a command may
    take (a caller's settings, e.g. a :class:`~smartflow.client.ClientConfig`'s)."""

    max_connections: int = 64
    connect_timeout: float = 5.0
    command_timeout: float = 60.0
    #: How the connections show in ``CLIENT LIST`` (none: unnamed).
    client_name: str | None = None


class ConnectionPool:
    """Idle connections to one store, at most ``limit`` open at once."""

    def __init__(
        self,
        endpoint: Endpoint,
        password: str | None,
        limit: int,
        connect_timeout: float,
        name: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._name = name
        self._connect_timeout = connect_timeout
        self._password = password
        self._limit = limit
        self._idle: list[RespConnection] = []
        self._open = 0
        self._waiters: deque[anyio.Event] = deque()
        self._closed = False

    async def acquire(self) -> RespConnection:
        while not self._idle and self._open >= self._limit:
            waiter = anyio.Event()
            self._waiters.append(waiter)
            try:
                await waiter.wait()
            except BaseException:
                self._wake_next() if waiter.is_set() else self._waiters.remove(waiter)
                raise
        if self._closed:
            self._wake_next()
            raise ClientError("the client was closed while this command waited for a connection")
        while self._idle:
            conn = self._idle.pop()
            if conn.is_alive():
                return conn
            self.discard(conn)
        self._open += 1
        try:
            with anyio.fail_after(self._connect_timeout):
                return await RespConnection.open(self.endpoint, self._password, self._name)
        except TimeoutError as exc:
            self._open -= 1
            self._wake_next()
            raise ClientTimeoutError(
                f"could not connect to {self.endpoint} within {self._connect_timeout} s"
            ) from exc
        except BaseException:
            self._open -= 1
            self._wake_next()
            raise

    async def open_dedicated(self) -> RespConnection:
        """A new connection to this pool's store, outside the pool (a subscriber, say); the
        caller bounds the time and closes it."""
        return await RespConnection.open(self.endpoint, self._password, self._name)

    def release(self, conn: RespConnection) -> None:
        """Return ``conn``; one with unread replies (an interrupted command) is closed instead."""
        if conn.pending or self._closed:
            self.discard(conn)
            return
        self._idle.append(conn)
        self._wake_next()

    def discard(self, conn: RespConnection) -> None:
        conn.close()
        self._open -= 1
        self._wake_next()

    def _wake_next(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()

    def close(self) -> None:
        self._closed = True
        while self._idle:
            self.discard(self._idle.pop())
        self._wake_next()  # waiters see the pool closed and pass the wake-up on
