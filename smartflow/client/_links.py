"""The client's two links to a store, and the translation of their errors.

Tensor payloads travel over the narrow fast path (:mod:`smartflow.client._resp`); every other
command goes through redis-py, configured explicitly: RESP2, no retries (a retried write would
duplicate it), the client's own timeouts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import redis.asyncio as aioredis
import redis.exceptions as rex
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from smartflow.client._env import Endpoint
from smartflow.client._resp import ConnectionPool, RespConnection
from smartflow.client.config import ClientConfig
from smartflow.errors import (
    AuthenticationError,
    ClientError,
    ClientTimeoutError,
    CommandError,
    ConnectionFailedError,
    TensorFormatError,
)

T = TypeVar("T")


def make_redis(endpoint: Endpoint, password: str | None, config: ClientConfig) -> aioredis.Redis:
    """A redis-py client whose protocol, retries and timeouts are set, not defaulted."""
    common = {
        "password": password,
        "protocol": 2,
        "socket_connect_timeout": config.connect_timeout,
        "socket_timeout": config.command_timeout,
        "retry": Retry(NoBackoff(), 0),
        "max_connections": config.max_connections,
        "timeout": config.command_timeout,
        "client_name": config.client_name or None,
    }
    if endpoint.unix_path:
        pool = aioredis.BlockingConnectionPool(
            connection_class=aioredis.UnixDomainSocketConnection, path=endpoint.unix_path, **common
        )
    else:
        pool = aioredis.BlockingConnectionPool(host=endpoint.host, port=endpoint.port, **common)
    return aioredis.Redis(connection_pool=pool)


def make_redis_cluster(
    seeds: list[Endpoint], password: str | None, config: ClientConfig
) -> RedisCluster:
    """redis-py's cluster client, set up like :func:`make_redis` (no retries: MOVED/ASK are
    still followed, since a redirected command was not executed)."""
    return RedisCluster(
        startup_nodes=[ClusterNode(seed.host, seed.port) for seed in seeds],
        password=password,
        protocol=2,
        socket_connect_timeout=config.connect_timeout,
        socket_timeout=config.command_timeout,
        retry=Retry(NoBackoff(), 0),
        max_connections=config.max_connections,
        require_full_coverage=True,
        client_name=config.client_name or None,
    )


async def close_redis(client: aioredis.Redis | RedisCluster) -> None:
    await client.aclose()
    if isinstance(client, aioredis.Redis):
        await client.connection_pool.aclose()


@contextmanager
def translated(endpoint: object, what: str) -> Iterator[None]:
    """Re-raise redis-py and OS errors as smartflow's own, chained."""
    try:
        yield
    except ClientError:
        raise
    except rex.AuthenticationError as exc:
        raise AuthenticationError(f"{what}: store at {endpoint} refused the secret") from exc
    except rex.ResponseError as exc:
        if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
            raise AuthenticationError(f"{what}: store at {endpoint} needs its secret") from exc
        if str(exc).startswith("WRONGTYPE"):
            raise TensorFormatError(f"{what}: the key holds a list/hash/set, not a tensor") from exc
        raise CommandError(f"{what}: {exc}") from exc
    except (rex.TimeoutError, TimeoutError) as exc:
        raise ClientTimeoutError(f"{what}: no answer from {endpoint} in time") from exc
    except (rex.ConnectionError, OSError) as exc:
        raise ConnectionFailedError(f"{what}: cannot reach the store at {endpoint}: {exc}") from exc
    except rex.RedisError as exc:
        raise CommandError(f"{what}: {exc}") from exc
    except rex.RedisClusterException as exc:  # not a RedisError: no shard could be reached
        raise ConnectionFailedError(f"{what}: cluster at {endpoint}: {exc}") from exc


async def on_fast_path(
    pool: ConnectionPool,
    config: ClientConfig,
    what: str,
    operation: Callable[[RespConnection], Awaitable[T]],
    limit_s: float | None = None,
) -> T:
    """Run ``operation`` on a pooled connection within the command timeout.

    A connection whose replies were not all read (an error or a cancellation mid-command) is
    closed rather than reused, so no later command can read a stale reply. The timeout uses
    ``asyncio.timeout``: on this hot path it costs a third of an anyio cancel scope. ``limit_s``
    replaces the command timeout for operations that wait on purpose (a model run).
    """
    limit = config.command_timeout if limit_s is None else limit_s
    try:
        async with asyncio.timeout(limit):
            conn = await pool.acquire()
            try:
                return await operation(conn)
            finally:
                pool.release(conn)
    except ClientError:
        raise
    except TimeoutError as exc:
        raise ClientTimeoutError(
            f"{what}: no answer from {pool.endpoint} within {limit} s"
        ) from exc
    except OSError as exc:
        raise ConnectionFailedError(
            f"{what}: cannot reach the store at {pool.endpoint}: {exc}"
        ) from exc
