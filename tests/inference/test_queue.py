"""The worker's side of the run protocol against a real store: what a round writes and answers."""

from __future__ import annotations

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import Client, CommandError, RunTimeoutError
from smartflow.wire import codec
from smartflow.wire import protocol as runs
from smartflow.wire import tensors as tio
from smartflow.wire.queue import ShardQueue
from tests._support import until
from tests.inference._helpers import has_items

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
    taken = await queue.finish([out], [("id1", runs.ok_outputs(1))], take=5)
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
            await queue.finish([out], [("id1", runs.ok_outputs(1))], take=5)
    finally:
        await raw.config_set("maxmemory", 0)
    assert not await raw.exists("out", runs.reply_key(TAG, "id1"))
    assert await raw.lrange(runs.busy_key(TAG), 0, -1) == [b"request"]
    assert await raw.lrange(runs.queue_key(TAG), 0, -1) == [b"next"]
    assert await queue.finish([out], [("id1", runs.ok_outputs(1))], take=5) == [
        b"next"
    ]  # the same round goes through once there is room


async def _queued(raw: aioredis.Redis) -> list[runs.Entry]:
    return [runs.decode_entry(e) for e in await raw.lrange(runs.queue_key(TAG), 0, -1)]


async def test_a_submitted_run_carries_the_version_and_its_inputs(
    client: Client, raw: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The submit script reads the model's version and each input in the store, atomically with
    the push: the worker needs no round trip to read them. What it cannot carry it says why."""
    monkeypatch.setattr(runs, "INLINE_LIMIT", 1024)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    await client.put_tensors({"x": x, "big": np.zeros(1024, np.uint8)})
    await raw.rpush("a-list", b"not a tensor")
    await raw.set(runs.version_key(TAG, "m"), b"v7")
    request = runs.Request("run", "m", ("x", "gone", "a-list", "big"), ("y",))
    queue = _queue(client)

    async def submit(timeout_s: float) -> None:
        keys = [b"x", b"gone", b"a-list", b"big"]
        version = runs.version_key(TAG, "m")
        await queue.submit("run", request, timeout_s, version_key=version, inline_keys=keys)

    with pytest.raises(RunTimeoutError):  # nobody serves TAG: the request is withdrawn
        await submit(0.2)
    assert await _queued(raw) == [], "a timed-out request is taken back off the queue"
    async with anyio.create_task_group() as tg:  # again, and look at what the entry carries
        tg.start_soon(submit, 5)
        await until(lambda: has_items(raw, runs.queue_key(TAG)))
        (entry,) = await _queued(raw)
        tg.cancel_scope.cancel()
    assert entry.request == request and entry.version == b"v7"
    carried, gone, listed, big = entry.values
    np.testing.assert_array_equal(codec.decode(carried, "x"), x)
    assert (gone, listed, big) == (runs.MISSING, runs.NOT_A_STRING, runs.NOT_SENT)


async def test_an_entry_of_a_missing_model_carries_no_version(
    client: Client, raw: aioredis.Redis
) -> None:
    await client.put_tensor("x", np.ones(2, np.float32))
    request = runs.Request("run", "nothing", ("x",), ("y",))
    with pytest.raises(RunTimeoutError):
        await _queue(client).submit(
            "run", request, 0.1, version_key=runs.version_key(TAG, "nothing"), inline_keys=[b"x"]
        )
    raw_entry = runs.inline_head(request) + b"-00000000001" + runs.field(b"abc") + b"abc"
    entry = runs.decode_entry(raw_entry)
    assert entry.version is None and bytes(entry.values[0]) == b"abc"


@pytest.mark.parametrize(
    "entry",
    [
        b"SFQ1" + b"000000000099" + b"{}",  # a field longer than the entry
        b"SFQ1",  # no request
        b"SFQ1" + b"-00000000001",  # a request field without a value
        runs.inline_head(runs.Request("run", "m", ("a", "b"))) + b"-00000000001" + b"000000000000",
    ],
)
def test_malformed_inline_entries_are_refused(entry: bytes) -> None:
    with pytest.raises((ValueError, TypeError, KeyError)):
        runs.decode_entry(entry)


def test_plain_json_entries_still_decode() -> None:
    """Other clients (the C library, any Redis client) push plain JSON requests."""
    request = runs.Request("run", "m", ("x",), ("y",))
    entry = runs.decode_entry(request.encode())
    assert entry.request == request and entry.values is None


def test_replies_carry_outputs() -> None:
    values = [b"one", b"", b"three"]
    reply = b"".join(runs.outputs_reply(values))
    assert runs.raise_for_reply(reply, "infer") == 3
    assert [bytes(v) for v in runs.reply_values(reply)] == values
    assert runs.is_ok(reply)


async def test_answers_trim_the_busy_list_they_took(client: Client, raw: aioredis.Redis) -> None:
    """A round answers what it took, the busy list's head, in order; a malformed request gets
    no reply but leaves the busy list too."""
    queue = _queue(client)
    await raw.rpush(runs.busy_key(TAG), b"first", b"garbage", b"third", b"next round")
    await queue.answer([("id1", runs.ok_reply()), (None, b""), ("id3", runs.ok_reply())])
    assert await raw.lrange(runs.busy_key(TAG), 0, -1) == [b"next round"]
    assert await raw.exists(runs.reply_key(TAG, "id1"), runs.reply_key(TAG, "id3")) == 2
