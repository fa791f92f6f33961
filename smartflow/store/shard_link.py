"""A short-lived redis-py connection to one shard, for control commands (not the data path).

One connection, RESP2, no retries (a retried control command could act twice) and a bounded
socket timeout; ``address`` is ``host:port`` or ``unix:///path``.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def shard_link(
    address: str, password: str | None, timeout: float, *, decode_responses: bool = False
) -> aioredis.Redis:
    if address.startswith("unix://"):
        where: dict[str, object] = {"unix_socket_path": address[len("unix://") :]}
    else:
        host, _, port = address.rpartition(":")
        where = {"host": host, "port": int(port)}
    return aioredis.Redis(
        **where,
        password=password,
        protocol=2,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        single_connection_client=True,
        decode_responses=decode_responses,
    )
