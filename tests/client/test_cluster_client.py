"""Client(cluster=True) against a real 3-shard Redis Cluster: CRC16 routing, hash tags, bulk
calls split by shard, chunked tensors, MOVED after a slot moves, a killed shard."""

from __future__ import annotations

import os
import signal
import time

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from smartflow import (
    AuthenticationError,
    Client,
    ClientConfig,
    ClientError,
    CommandError,
    Experiment,
    KeyNotFoundError,
    Orchestrator,
    Status,
    SyncClient,
    TensorFormatError,
    UnsupportedTypeError,
)


async def _holder(cluster: Orchestrator, shards: list[aioredis.Redis], key: str) -> int:
    """Which shard stores ``key`` (checked: it is really there)."""
    index = await _owner_of(cluster, shards[0], key_slot(key.encode()))
    assert await shards[index].exists(key), f"{key} is not on shard {index}"
    return index


async def test_tensors_spread_over_every_shard_and_come_back(
    cluster: Orchestrator, shards: list[aioredis.Redis]
) -> None:
    tensors = {f"t{i}": np.arange(i, i + 10, dtype="f4") for i in range(30)}
    async with Client(address=cluster.get_address()[0], cluster=True) as client:
        for name, array in tensors.items():
            await client.put_tensor(name, array)
        for name, array in tensors.items():
            np.testing.assert_array_equal(await client.get_tensor(name), array)
        assert {await _holder(cluster, shards, name) for name in tensors} == {0, 1, 2}
        assert await client.tensor_exists("t3") and not await client.key_exists("nope")
        assert await client.poll_tensor("t4", 10, 2)
        # copy and rename between keys of different slots, and within one hash tag
        assert key_slot(b"t1") != key_slot(b"elsewhere")
        await client.copy_tensor("t1", "elsewhere")
        await client.rename_tensor("t2", "{t2}renamed")
        await client.rename_tensor("t3", "moved")
        np.testing.assert_array_equal(await client.get_tensor("elsewhere"), tensors["t1"])
        np.testing.assert_array_equal(await client.get_tensor("{t2}renamed"), tensors["t2"])
        np.testing.assert_array_equal(await client.get_tensor("moved"), tensors["t3"])
        assert not await client.key_exists("t2") and not await client.key_exists("t3")
        await client.delete_tensor("moved")
        assert not await client.key_exists("moved")


async def test_bulk_calls_split_by_shard_and_keep_order(cluster: Orchestrator) -> None:
    tensors = {f"bulk{i}": np.full(16, i, dtype="i8") for i in range(300)}
    async with Client(address=",".join(cluster.get_address()), cluster=True) as client:
        await client.put_tensors(tensors)
        names = list(reversed(tensors))
        result = await client.get_tensors(names)
        assert list(result) == names
        for name in names:
            np.testing.assert_array_equal(result[name], tensors[name])


async def test_chunked_tensor_lives_on_its_key_shard(
    cluster: Orchestrator, shards: list[aioredis.Redis]
) -> None:
    config = ClientConfig(max_value_bytes=100_000)
    original = np.random.default_rng(1).random(100_000)  # 800 kB: 8 chunks
    async with Client(address=cluster.get_address()[0], cluster=True, config=config) as client:
        await client.put_tensor("big", original)
        np.testing.assert_array_equal(await client.get_tensor("big"), original)
        holder = shards[await _holder(cluster, shards, "big")]
        assert await holder.keys("*") == [b"big"]  # one list: a manifest and its 8 chunks
        assert await holder.llen("big") == 9
        assert sum([await s.dbsize() for s in shards]) == 1  # nothing on another shard
        # A name whose slot has no tag of its own: its list is still built on its shard.
        await client.put_tensor("x}{y", original)
        np.testing.assert_array_equal(await client.get_tensor("x}{y"), original)
        await client.delete_tensor("x}{y")
        await client.delete_tensor("big")
        assert sum([await s.dbsize() for s in shards]) == 0


async def test_the_environment_contract_selects_the_cluster(
    cluster: Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSDB", ",".join(cluster.get_address()))
    monkeypatch.setenv("SR_DB_TYPE", "Clustered")
    monkeypatch.setenv("SSDB_PASSWORD", cluster.password)
    async with Client() as client:
        await client.put_tensors({f"e{i}": np.arange(3) for i in range(20)})

    def sync_reads() -> list[int]:
        with SyncClient() as sync:
            return [int(sync.get_tensor(f"e{i}").sum()) for i in range(20)]

    assert await anyio.to_thread.run_sync(sync_reads) == [3] * 20


async def _owner_of(cluster: Orchestrator, shard: aioredis.Redis, slot: int) -> int:
    """The index (in get_address order) of the shard that serves ``slot``."""
    for start, end, (host, port, *_), *_ in await shard.execute_command("CLUSTER", "SLOTS"):
        if start <= slot <= end:
            return cluster.get_address().index(f"{host.decode()}:{port}")
    raise AssertionError(f"nobody serves slot {slot}")


async def test_a_moved_slot_is_followed(
    cluster: Orchestrator, shards: list[aioredis.Redis]
) -> None:
    """Move an (empty) slot to another shard behind the client's back: MOVED, a fresh map,
    and the put lands on the new owner."""
    key = "wanderer"
    slot = key_slot(key.encode())
    async with Client(address=cluster.get_address()[0], cluster=True) as client:
        await client.put_tensor("warmup", np.arange(2))  # the map is loaded
        owner = await _owner_of(cluster, shards[0], slot)
        target = (owner + 1) % 3
        target_id = (await shards[target].execute_command("CLUSTER", "MYID")).decode()
        for shard in (shards[target], shards[owner], *shards):
            await shard.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
        await client.put_tensor(key, np.arange(5))
        assert await _holder(cluster, shards, key) == target
        np.testing.assert_array_equal(await client.get_tensor(key), np.arange(5))


async def test_a_killed_shard_gives_a_typed_error_in_time(
    experiment: Experiment, cluster: Orchestrator, shards: list[aioredis.Redis]
) -> None:
    config = ClientConfig(connect_timeout=1.0, command_timeout=2.0)
    async with Client(address=cluster.get_address()[0], cluster=True, config=config) as client:
        await client.put_tensors({f"k{i}": np.arange(2) for i in range(30)})
        victim = 1
        on_victim = [
            f"k{i}" for i in range(30) if await _holder(cluster, shards, f"k{i}") == victim
        ]
        records = {r["name"]: r for r in experiment.summary(format="records")}
        os.kill(int(records[cluster.shard_names[victim]]["job_id"]), signal.SIGKILL)
        start = time.monotonic()
        with pytest.raises(ClientError):
            await client.get_tensor(on_victim[0])
        assert time.monotonic() - start < 5
    with anyio.fail_after(5):
        while (await experiment.get_status(cluster))[victim] is not Status.FAILED:  # noqa: ASYNC110
            await anyio.sleep(0.02)


async def test_cluster_true_against_a_single_store_is_refused(store: Orchestrator) -> None:
    with pytest.raises(CommandError) as info:
        async with Client(address=store.get_address()[0], cluster=True):
            pass
    assert "cluster" in str(info.value).lower()


async def test_bad_input_on_a_cluster_is_typed_and_changes_nothing(
    cluster: Orchestrator, shards: list[aioredis.Redis]
) -> None:
    address = cluster.get_address()[0]
    with pytest.raises(AuthenticationError):
        async with Client(address=address, cluster=True, password="wrong"):
            pass
    async with Client(address=address, cluster=True) as client:
        await client.put_tensor("kept", np.arange(3))
        owner = shards[await _holder(cluster, shards, "kept")]
        await shards[await _owner_of(cluster, shards[0], key_slot(b"plain"))].set("plain", b"x")
        with pytest.raises(KeyNotFoundError):
            await client.get_tensor("missing")
        with pytest.raises(TensorFormatError):
            await client.get_tensor("plain")
        with pytest.raises(UnsupportedTypeError):
            await client.put_tensor("obj", np.array(["a"], dtype=object))
        with pytest.raises(KeyNotFoundError):
            await client.copy_tensor("missing", "elsewhere")
        with pytest.raises(UnsupportedTypeError):
            await client.put_tensors({"ok": np.arange(2), "bad": [1, 2]})
        assert await client.poll_key("missing", 1, 2) is False
        assert not await client.key_exists("ok") and not await client.key_exists("elsewhere")
        np.testing.assert_array_equal(await client.get_tensor("kept"), np.arange(3))
        assert await owner.exists("kept")


async def test_bulk_errors_are_not_exception_groups(
    cluster: Orchestrator, shards: list[aioredis.Redis]
) -> None:
    """A missing key on one shard fails the whole bulk call with the plain typed error."""
    async with Client(address=cluster.get_address()[0], cluster=True) as client:
        present = {f"p{i}": np.arange(2) for i in range(20)}
        await client.put_tensors(present)
        owners = {await _holder(cluster, shards, name) for name in present}
        assert len(owners) == 3
        with pytest.raises(KeyNotFoundError) as info:
            await client.get_tensors([*present, "missing"])
        assert not isinstance(info.value, BaseExceptionGroup)


async def test_a_moved_slot_inside_a_bulk_call_is_followed(
    cluster: Orchestrator, shards: list[aioredis.Redis]
) -> None:
    """The moved key is not the first of its shard's part: the part is split again."""
    async with Client(address=cluster.get_address()[0], cluster=True) as client:
        await client.put_tensor("warmup", np.arange(2))
        names = [f"b{i}" for i in range(60)]
        moving = names[-1]
        slot = key_slot(moving.encode())
        owner = await _owner_of(cluster, shards[0], slot)
        same_shard = [
            n
            for n in names[:-1]
            if await _owner_of(cluster, shards[0], key_slot(n.encode())) == owner
        ]
        assert same_shard and key_slot(same_shard[0].encode()) != slot
        target = (owner + 1) % 3
        target_id = (await shards[target].execute_command("CLUSTER", "MYID")).decode()
        for shard in (shards[target], shards[owner], *shards):
            await shard.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
        await client.put_tensors({n: np.full(3, i) for i, n in enumerate(names)})
        assert await _holder(cluster, shards, moving) == target
        result = await client.get_tensors(names)
        assert [int(result[n][0]) for n in names] == list(range(60))


async def test_a_migrating_slot_is_followed_with_asking(
    cluster: Orchestrator, shards: list[aioredis.Redis]
) -> None:
    """Mid-migration the old owner answers ASK for keys it no longer has; the client must send
    ASKING and the command to the new owner, for single and bulk calls."""
    key = "migrant"
    slot = key_slot(key.encode())
    async with Client(address=cluster.get_address()[0], cluster=True) as client:
        await client.put_tensor("warmup", np.arange(2))
        source = await _owner_of(cluster, shards[0], slot)
        target = (source + 1) % 3
        source_id = (await shards[source].execute_command("CLUSTER", "MYID")).decode()
        target_id = (await shards[target].execute_command("CLUSTER", "MYID")).decode()
        await shards[target].execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        await shards[source].execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        await client.put_tensor(key, np.arange(4))
        assert await shards[target].execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 1
        np.testing.assert_array_equal(await client.get_tensor(key), np.arange(4))
        others = {f"o{i}": np.full(2, i) for i in range(20)}
        await client.put_tensors({**others, key: np.arange(5)})
        result = await client.get_tensors([*others, key])
        np.testing.assert_array_equal(result[key], np.arange(5))
        assert all(int(result[name][0]) == i for i, name in enumerate(others))
