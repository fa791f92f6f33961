"""Datasets, aggregation lists and prefixing on a real 3-shard cluster, async and sync, and the
SyncClient's parity with the Client."""

from __future__ import annotations

import inspect

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from smartflow import Client, DataSet, Orchestrator, SyncClient
from smartflow.client._datasets import dataset_key
from smartflow.client._lists import list_key
from smartflow.errors import KeyNotFoundError


def _dataset(i: int) -> DataSet:
    ds = DataSet(f"ds{i}")
    ds.add_tensor("x", np.full(4, i, dtype=np.int16))
    ds.add_meta_scalar("i", i)
    return ds


async def _shard_key_counts(cluster: Orchestrator) -> list[int]:
    counts = []
    for address in cluster.get_address():
        host, _, port = address.rpartition(":")
        async with aioredis.Redis(host=host, port=int(port), password=cluster.password) as r:
            counts.append(await r.dbsize())
    return counts


async def test_datasets_and_lists_across_shards(cluster: Orchestrator) -> None:
    async with Client(address=",".join(cluster.get_address()), cluster=True) as client:
        datasets = [_dataset(i) for i in range(40)]
        for ds in datasets:
            await client.put_dataset(ds)
            await client.append_to_list("all", ds)
        assert all(count > 1 for count in await _shard_key_counts(cluster)), "spread over shards"
        fetched = await client.get_datasets_from_list("all")
        assert [int(d.get_meta_scalars("i")[0]) for d in fetched] == list(range(40))
        assert [d.name for d in await client.get_dataset_list_range("all", -3, -2)] == [
            "ds37",
            "ds38",
        ]
        # copy and rename across slots fall back to a read and a write
        src, dest = "ds1", next(f"c{i}" for i in range(99) if _slots_differ("ds1", f"c{i}"))
        await client.copy_dataset(src, dest)
        await client.rename_dataset(dest, "renamed")
        assert (await client.get_dataset("renamed")).name == "renamed"
        assert not await client.dataset_exists(dest)
        other = next(f"l{i}" for i in range(99) if _list_slots_differ("all", f"l{i}"))
        await client.copy_list("all", other)
        await client.rename_list(other, "moved")
        assert await client.get_list_length("moved") == 40
        await client.delete_dataset("ds5")
        with pytest.raises(KeyNotFoundError, match="'ds5'"):
            await client.get_datasets_from_list("moved")


def _slots_differ(a: str, b: str) -> bool:
    return key_slot(dataset_key(a)) != key_slot(dataset_key(b))


def _list_slots_differ(a: str, b: str) -> bool:
    return key_slot(list_key(a)) != key_slot(list_key(b))


async def test_sync_client_on_a_cluster_with_prefixing(
    cluster: Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSDB", ",".join(cluster.get_address()))
    monkeypatch.setenv("SR_DB_TYPE", "Clustered")
    monkeypatch.setenv("SSDB_PASSWORD", cluster.password)
    monkeypatch.setenv("SSKEYOUT", "member")

    def work() -> tuple[list[str], int, list[int]]:
        with SyncClient() as sc:
            for i in range(6):
                sc.put_dataset(_dataset(i))
                sc.append_to_list("out", _dataset(i))
            names = [d.name for d in sc.get_datasets_from_list("out")]
            sc.use_list_ensemble_prefix(False)
            return names, sc.get_list_length("out"), [sc.get_list_length("member.out")]

    with anyio.fail_after(60):
        names, unprefixed, prefixed = await anyio.to_thread.run_sync(work)
    assert names == [f"member.ds{i}" for i in range(6)]
    assert unprefixed == 0 and prefixed == [6]


def test_sync_client_mirrors_every_public_client_method() -> None:
    public = {n for n in dir(Client) if not n.startswith("_") and callable(getattr(Client, n))}
    missing = public - {"connect", "aclose"} - set(dir(SyncClient))
    assert not missing
    for name in ("put_dataset", "get_datasets_from_list", "poll_list_length_gte"):
        assert inspect.signature(getattr(SyncClient, name)) == inspect.signature(
            getattr(Client, name)
        )
        assert not inspect.iscoroutinefunction(getattr(SyncClient, name))
