"""Helpers shared by the client tests."""

from __future__ import annotations

import redis.asyncio as aioredis

from smartflow import Orchestrator


def host_port(store: Orchestrator) -> tuple[str, int]:
    host, _, port = store.get_address()[0].rpartition(":")
    return host, int(port)


async def snapshot(r: aioredis.Redis) -> dict[bytes, bytes]:
    """Every key of the store with its serialised value (DUMP), to prove nothing changed."""
    return {key: await r.dump(key) for key in await r.keys("*")}
