"""The one translation of transport failures into smartflow's errors, at the I/O edge.

Every operation on a shard runs inside :func:`map_errors` (httpcore's ``map_exceptions`` is the
model): a timeout becomes :class:`~smartflow.errors.ClientTimeoutError`, an ``OSError``
:class:`~smartflow.errors.ConnectionFailedError`, both naming the operation and the shard, and
smartflow's own errors (an error reply turned typed by
:func:`~smartflow.wire.resp.raise_for_error`) pass through unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from smartflow.errors import ClientError, ClientTimeoutError, ConnectionFailedError
from smartflow.wire.pool import ConnectionPool
from smartflow.wire.resp import RespConnection

T = TypeVar("T")


@contextmanager
def map_errors(endpoint: object, what: str, limit_s: float | None = None) -> Iterator[None]:
    """Re-raise timeouts and OS errors met talking to ``endpoint`` as smartflow's own."""
    try:
        yield
    except ClientError:
        raise
    except TimeoutError as exc:
        within = f" within {limit_s:g} s" if limit_s is not None else " in time"
        raise ClientTimeoutError(f"{what}: no answer from {endpoint}{within}") from exc
    except OSError as exc:
        raise ConnectionFailedError(f"{what}: cannot reach the store at {endpoint}: {exc}") from exc


async def on_pool(
    pool: ConnectionPool,
    what: str,
    operation: Callable[[RespConnection], Awaitable[T]],
    limit_s: float,
) -> T:
    """Run ``operation`` on a pooled connection of ``pool`` within ``limit_s`` seconds.

    A connection whose replies were not all read (an error or a cancellation mid-command) is
    closed rather than reused, so no later command can read a stale reply. The limit uses
    ``asyncio.timeout``, which costs less than an anyio cancel scope on this hot path.
    """
    with map_errors(pool.endpoint, what, limit_s):
        async with asyncio.timeout(limit_s):
            conn = await pool.acquire()
            try:
                return await operation(conn)
            finally:
                pool.release(conn)
