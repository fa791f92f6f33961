"""Changing a running store's configuration on every shard (CONFIG SET), checked first.

A value Redis refuses is refused on the first shard, so no shard is left configured differently
from the others. Settings that would cut the store off from smartflow (its secret, where it
listens, its cluster wiring) are refused before anything is sent.
"""

from __future__ import annotations

import redis.asyncio as aioredis
import redis.exceptions as rex

from smartflow.errors import InvalidArgumentError, StoreError
from smartflow.store.shard_link import shard_link

#: Settings smartflow owns: changing them would lock every client out, split the cluster, or
#: take the process or its log (which reports a taken port) out of smartflow's hands.
PROTECTED = (
    "requirepass", "masterauth", "bind", "port", "unixsocket", "dir", "cluster-", "daemonize",
    "supervised", "logfile", "pidfile", "include", "loadmodule", "dbfilename", "rename-command",
)  # fmt: skip
_TIMEOUT = 5.0


def check_setting(key: object, value: object) -> tuple[str, str]:
    """The CONFIG SET pair as strings; refuses protected keys and non-scalar values."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidArgumentError(f"a store setting name must be a non-empty str, got {key!r}")
    name = key.strip().lower()
    if any(c.isspace() for c in name):
        raise InvalidArgumentError(f"store setting name {key!r} must be one word")
    if any(name == p or (p.endswith("-") and name.startswith(p)) for p in PROTECTED):
        raise InvalidArgumentError(
            f"store setting {key!r} is managed by smartflow and cannot be changed at runtime"
        )
    if any(ord(c) < 32 or c == '"' for c in f"{key}{value}"):
        raise InvalidArgumentError(
            f"store setting {key!r}: control characters and quotes are not allowed"
        )
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidArgumentError(
            f"store setting {key!r}: value {value!r} must be a str or number"
        )
    return name, str(value)


async def config_set(addresses: list[str], password: str, key: str, value: str) -> None:
    """``CONFIG SET key value`` on every shard. Every shard is read first (so an unreachable
    one fails before any changes); a shard that refuses or fails part-way has the shards
    already changed put back, so they never differ."""
    links = [shard_link(a, password, _TIMEOUT, decode_responses=True) for a in addresses]
    try:
        before = [await _read(link, a, key) for link, a in zip(links, addresses, strict=True)]
        for done, (link, address) in enumerate(zip(links, addresses, strict=True)):
            try:
                await link.config_set(key, value)
            except (rex.RedisError, OSError) as exc:
                await _restore(links[:done], key, before[:done])
                if isinstance(exc, rex.ResponseError):
                    raise InvalidArgumentError(f"the store refused {key}={value!r}: {exc}") from exc
                raise StoreError(f"could not configure the shard at {address}: {exc}") from exc
    finally:
        for link in links:
            await link.aclose()


async def _read(link: aioredis.Redis, address: str, key: str) -> str | None:
    try:
        return (await link.config_get(key)).get(key)
    except (rex.RedisError, OSError) as exc:
        raise StoreError(f"could not reach the shard at {address}: {exc}") from exc


async def _restore(links: list[aioredis.Redis], key: str, values: list[str | None]) -> None:
    for link, value in zip(links, values, strict=True):
        if value is not None:
            try:
                await link.config_set(key, value)
            except (rex.RedisError, OSError):
                pass  # best effort: the error being raised says what happened
