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

_TIMEOUT = 5.0


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
                unrestored = await _restore(links[:done], addresses[:done], key, before[:done])
                note = f"; and restoring {key} failed on {unrestored}" if unrestored else ""
                if isinstance(exc, rex.ResponseError):
                    raise InvalidArgumentError(
                        f"the store refused {key}={value!r}: {exc}{note}"
                    ) from exc
                raise StoreError(
                    f"could not configure the shard at {address}: {exc}{note}"
                ) from exc
    finally:
        for link in links:
            await link.aclose()


async def _read(link: aioredis.Redis, address: str, key: str) -> str | None:
    try:
        return (await link.config_get(key)).get(key)
    except (rex.RedisError, OSError) as exc:
        raise StoreError(f"could not reach the shard at {address}: {exc}") from exc


async def _restore(
    links: list[aioredis.Redis], addresses: list[str], key: str, values: list[str | None]
) -> str:
    """Put ``key`` back on the shards already changed; the shards where that failed, with why
    (empty when all were restored), for the error being raised to say."""
    failed = []
    for link, address, value in zip(links, addresses, values, strict=True):
        if value is not None:
            try:
                await link.config_set(key, value)
            except (rex.RedisError, OSError) as exc:
                failed.append(f"{address} ({exc})")
    return ", ".join(failed)
