"""The worker's side of the run protocol against a real store: what a round writes and answers."""

from __future__ import annotations

import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import Client, CommandError
from smartflow.wire import protocol as runs
from smartflow.wire import tensors as tio
from smartflow.wire.queue import ShardQueue

#: The store's own worker serves tag "0": these tests use keys no worker takes from.
TAG = "test"


def _queue(client: Client) -> ShardQueue:
    return ShardQueue(client._wire, client._wire.shards()[0], tag=TAG)


async def test_outputs_and_answers_go_out_together_with_the_next_take(
    client: Client, raw: aioredis.Redis
) -> None:
    queue = _queue(client)
    await raw.rpush(runs.queue_key(TAG), b"next-1", b"next-2")
    await raw.rpush(runs.busy_key(TAG), b"request")
    out = tio.EncodedTensor.of("out", b"out", np.arange(4, dtype=np.float32))
    taken = await queue.finish([out], [(b"request", "id1", runs.ok_outputs(1))], take=5)
    assert taken == [b"next-1", b"next-2"]
    assert (await client.get_tensor("out")).tolist() == [0, 1, 2, 3]
    assert await raw.lrange(runs.reply_key(TAG, "id1"), 0, -1) == [runs.ok_outputs(1)]
    assert await raw.lrange(runs.busy_key(TAG), 0, -1) == [b"next-1", b"next-2"]


async def test_outputs_a_full_store_refuses_are_neither_written_nor_answered(
    client: Client, raw: aioredis.Redis
) -> None:
    """No answer may say "ok" for an output that was not written: under ``maxmemory`` the
    whole transaction is refused, and nothing is taken either."""
    queue = _queue(client)
    await raw.rpush(runs.queue_key(TAG), b"next")
    await raw.rpush(runs.busy_key(TAG), b"request")
    out = tio.EncodedTensor.of("out", b"out", np.ones(4, np.float32))
    await raw.config_set("maxmemory", 1)  # anything that adds memory is refused (noeviction)
    try:
        with pytest.raises(CommandError, match="OOM"):
            await queue.finish([out], [(b"request", "id1", runs.ok_outputs(1))], take=5)
    finally:
        await raw.config_set("maxmemory", 0)
    assert not await raw.exists("out", runs.reply_key(TAG, "id1"))
    assert await raw.lrange(runs.busy_key(TAG), 0, -1) == [b"request"]
    assert await raw.lrange(runs.queue_key(TAG), 0, -1) == [b"next"]
    assert await queue.finish([out], [(b"request", "id1", runs.ok_outputs(1))], take=5) == [
        b"next"
    ]  # the same round goes through once there is room
