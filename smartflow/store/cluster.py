"""Forming a Redis Cluster out of running shards, and checking its health.

The fastest way measured (about 2 s for 3 shards, Redis's own floor): every shard takes an equal
range of the 16384 slots with ``CLUSTER ADDSLOTS`` (the 6.2 binary has no ADDSLOTSRANGE), gets a
distinct config epoch, and meets every other shard; then we wait until each one reports
``cluster_state:ok`` and knows the whole cluster. No fixed sleeps: the wait polls with backoff.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import anyio
import redis.asyncio as aioredis

from smartflow.errors import StoreStartError
from smartflow.store.shard_link import shard_link

SLOTS = 16384
#: Redis's default node timeout, kept once the cluster is formed (failure detection).
NODE_TIMEOUT_MS = 15000
FORMING_NODE_TIMEOUT_MS = 500
#: Socket timeouts of one forming command (seconds); the caller bounds the whole wait.
_COMMAND_TIMEOUT = 5.0


def slot_ranges(shards: int) -> list[range]:
    """Split the slots into ``shards`` contiguous, nearly equal ranges."""
    bounds = [SLOTS * i // shards for i in range(shards + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(shards)]


@asynccontextmanager
async def _connections(
    addresses: Sequence[tuple[str, int]], password: str
) -> AsyncIterator[list[aioredis.Redis]]:
    clients = [
        shard_link(f"{host}:{port}", password, _COMMAND_TIMEOUT, decode_responses=True)
        for host, port in addresses
    ]
    try:
        yield clients
    finally:
        with anyio.move_on_after(_COMMAND_TIMEOUT, shield=True):
            for client in clients:
                await client.aclose()


async def form_cluster(addresses: Sequence[tuple[str, int]], password: str) -> None:
    """Assign the slots, meet every shard, and wait until all agree the cluster is ok (the
    caller bounds the wait)."""
    try:
        async with _connections(addresses, password) as clients:
            # Slot ownership spreads by heartbeat, and a shard pings a peer it heard from
            # recently only every node-timeout / 2: a short timeout while forming makes eight
            # shards agree in ~2 s instead of ~15 s. The normal timeout is restored after.
            await _set_node_timeout(clients, FORMING_NODE_TIMEOUT_MS)
            await _assign_and_meet(clients, addresses)
            await _wait_until_ok(clients)
            await _set_node_timeout(clients, NODE_TIMEOUT_MS)
            # A shard that stalled past the short timeout may have been flagged failing just
            # now; with the normal timeout back, it must be seen ok again before we say ready.
            await _wait_until_ok(clients)
    except (aioredis.RedisError, OSError) as exc:
        raise StoreStartError(f"forming the cluster failed: {exc}") from exc


async def describe_states(addresses: Sequence[tuple[str, int]], password: str) -> str:
    """Each shard's ``cluster_state``, for an error message ("unreachable" if it does not say)."""
    states = []
    async with _connections(addresses, password) as clients:
        for (host, port), client in zip(addresses, clients, strict=True):
            try:
                state = (await cluster_info(client)).get("cluster_state", "?")
            except (aioredis.RedisError, OSError):
                state = "unreachable"
            states.append(f"{host}:{port} {state}")
    return ", ".join(states)


async def _set_node_timeout(clients: list[aioredis.Redis], milliseconds: int) -> None:
    for client in clients:
        await client.execute_command("CONFIG", "SET", "cluster-node-timeout", milliseconds)


async def _assign_and_meet(
    clients: list[aioredis.Redis], addresses: Sequence[tuple[str, int]]
) -> None:
    for epoch, (client, slots) in enumerate(
        zip(clients, slot_ranges(len(clients)), strict=True), 1
    ):
        await client.execute_command("CLUSTER", "ADDSLOTS", *slots)
        await client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", epoch)
    # Each pair meets once (i meets every j > i): nobody waits for gossip to spread, and no
    # pair meets from both sides at once, which leaves a stale handshake entry that only
    # expires after the node timeout (15 s by default).
    for i, client in enumerate(clients):
        for host, port in addresses[i + 1 :]:
            await client.execute_command("CLUSTER", "MEET", host, port)


async def _wait_until_ok(clients: list[aioredis.Redis]) -> None:
    delay = 0.01
    while True:
        infos = [await cluster_info(c) for c in clients]
        if all(_is_formed(info, len(clients)) for info in infos):
            return
        await anyio.sleep(delay)
        delay = min(delay * 2, 0.1)


def _is_formed(info: dict[str, str], shards: int) -> bool:
    return (
        info.get("cluster_state") == "ok"
        and info.get("cluster_slots_ok") == str(SLOTS)
        and info.get("cluster_known_nodes") == str(shards)
    )


async def cluster_info(client: aioredis.Redis) -> dict[str, str]:
    """``CLUSTER INFO`` as a dict of strings."""
    text = await client.execute_command("CLUSTER", "INFO")
    if isinstance(text, bytes):
        text = text.decode()
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key: value.strip() for key, value in pairs}
