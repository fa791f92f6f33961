"""The admin API (get_db_node_info, get_db_cluster_info, flush_db, config_get/config_set, save)
against real stores: a single shard, and one 3-shard cluster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import (
    Client,
    ClientError,
    CommandError,
    Experiment,
    InvalidArgumentError,
    Orchestrator,
    UnsupportedTypeError,
)
from tests.client._helpers import host_port, snapshot


async def test_node_info_is_parsed_into_sections_with_numbers(
    client: Client, store: Orchestrator, raw: aioredis.Redis
) -> None:
    address = store.get_address()[0]
    await client.put_tensor("t", np.arange(3))
    (info,) = await client.get_db_node_info([address])
    assert {"Server", "Clients", "Memory", "Persistence", "Stats", "Keyspace"} <= set(info)
    assert info["Server"]["tcp_port"] == host_port(store)[1]
    assert info["Server"]["redis_version"] == (await raw.info("server"))["redis_version"]
    assert info["Server"]["redis_mode"] == "standalone"
    assert isinstance(info["Memory"]["used_memory"], int)
    assert isinstance(info["Memory"]["mem_fragmentation_ratio"], float)
    assert info["Keyspace"]["db0"]["keys"] == 1  # "db0:keys=1,expires=0,..." -> a dict
    assert info["Commandstats"]["cmdstat_set"]["calls"] >= 1  # INFO everything
    # one reply per address, in order, duplicates included
    twice = await client.get_db_node_info((address, address))
    assert [i["Server"]["tcp_port"] for i in twice] == [host_port(store)[1]] * 2
    assert await client.get_db_node_info([]) == []


async def test_flush_db_deletes_every_key(
    client: Client, store: Orchestrator, raw: aioredis.Redis
) -> None:
    await client.put_tensors({f"t{i}": np.ones(4) for i in range(5)})
    await raw.set("other", b"x")
    assert await raw.dbsize() == 6
    await client.flush_db([store.get_address()[0]])
    assert await raw.dbsize() == 0
    assert not await client.key_exists("t0")


async def test_config_get_and_set(client: Client, store: Orchestrator, raw: aioredis.Redis) -> None:
    address = store.get_address()[0]
    assert await client.config_get("maxmemory", address) == {"maxmemory": "0"}
    await client.config_set("maxmemory", "100mb", address)
    assert await client.config_get("maxmemory", address) == {"maxmemory": "104857600"}
    assert await raw.config_get("maxmemory") == {"maxmemory": "104857600"}
    await client.config_set("MAXMEMORY-POLICY", "allkeys-lru", address)
    several = await client.config_get("maxmemory*", address)
    assert several["maxmemory-policy"] == "allkeys-lru" and "maxmemory-samples" in several
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in several.items())
    assert await client.config_get("no-such-setting", address) == {}


async def test_save_writes_the_rdb_file(
    client: Client, store: Orchestrator, raw: aioredis.Redis
) -> None:
    address = store.get_address()[0]
    await client.put_tensor("kept", np.arange(10))
    assert (await raw.info("persistence"))["rdb_changes_since_last_save"] > 0
    settings = await client.config_get("d*", address)
    rdb = Path(settings["dir"]) / settings["dbfilename"]
    rdb.unlink(missing_ok=True)
    await client.save([address])
    assert (await raw.info("persistence"))["rdb_changes_since_last_save"] == 0
    assert rdb.stat().st_size > 0
    assert b"kept" in rdb.read_bytes()


async def test_cluster_info_on_a_single_store_says_it_is_not_a_cluster(
    client: Client, store: Orchestrator
) -> None:
    with pytest.raises(CommandError, match="not a Redis Cluster"):
        await client.get_db_cluster_info([store.get_address()[0]])


async def test_bad_addresses_are_refused_before_anything_is_sent(
    client: Client, store: Orchestrator, raw: aioredis.Redis, free_port: int
) -> None:
    address = store.get_address()[0]
    await client.put_tensor("t", np.arange(3))
    await raw.set("other", b"x")
    before = await snapshot(raw)
    stranger = f"127.0.0.1:{free_port}"
    # a known address followed by an unknown one: the first is not flushed either
    with pytest.raises(InvalidArgumentError, match=f"{stranger}.*{address}"):
        await client.flush_db([address, stranger])
    with pytest.raises(InvalidArgumentError, match="not a node"):
        await client.save([f"localhost:{host_port(store)[1]}"])  # same port, another name
    with pytest.raises(InvalidArgumentError, match="host:port"):
        await client.flush_db([address, "no-port"])
    with pytest.raises(UnsupportedTypeError, match=r"\[address\]"):
        await client.flush_db(address)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedTypeError):
        await client.flush_db([address, 6379])  # type: ignore[list-item]
    with pytest.raises(UnsupportedTypeError):
        await client.get_db_node_info(None)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedTypeError):
        await client.config_set("maxmemory", "1mb", [address])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        await client.config_set("maxmemory", "1mb", stranger)
    assert await snapshot(raw) == before
    assert await raw.config_get("maxmemory") == {"maxmemory": "0"}


async def test_bad_settings_are_refused_and_change_nothing(
    client: Client, store: Orchestrator, raw: aioredis.Redis
) -> None:
    address = store.get_address()[0]
    before = await raw.config_get("*")
    for protected in ("requirepass", "REQUIREPASS", "port", "dir", "dbfilename", "bind"):
        with pytest.raises(InvalidArgumentError, match="managed by smartflow"):
            await client.config_set(protected, "x", address)
    with pytest.raises(UnsupportedTypeError):
        await client.config_set("maxmemory", 1000, address)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedTypeError):
        await client.config_set(None, "1", address)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        await client.config_set("", "1", address)
    with pytest.raises(InvalidArgumentError):
        await client.config_set("maxmemory", "1mb\r\nFLUSHALL", address)
    with pytest.raises(UnsupportedTypeError):
        await client.config_get(b"maxmemory", address)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        await client.config_get("", address)
    # the store's own refusals are typed too
    with pytest.raises(CommandError, match="no-such-setting"):
        await client.config_set("no-such-setting", "1", address)
    with pytest.raises(CommandError, match="maxmemory"):
        await client.config_set("maxmemory", "lots", address)
    assert await raw.config_get("*") == before
    assert await raw.ping()  # still reachable with the old secret


async def test_a_closed_client_refuses_admin_calls(store: Orchestrator) -> None:
    address = store.get_address()[0]
    client = Client(address=address, cluster=False)
    with pytest.raises(ClientError, match="unopened"):
        await client.get_db_node_info([address])
    async with client:
        pass
    with pytest.raises(ClientError, match="closed"):
        await client.flush_db([address])


async def test_admin_on_every_shard_of_a_cluster(experiment: Experiment) -> None:
    cluster = experiment.create_database(db_nodes=3)
    await experiment.start(cluster)
    addresses = cluster.get_address()
    async with Client(address=addresses[0], cluster=True) as client:
        await client.put_tensors({f"t{i}": np.ones(2) for i in range(30)})
        infos = await client.get_db_node_info(addresses)
        assert [i["Server"]["tcp_port"] for i in infos] == [int(a.split(":")[1]) for a in addresses]
        assert all(i["Cluster"]["cluster_enabled"] == 1 for i in infos)
        assert sum(i["Keyspace"]["db0"]["keys"] for i in infos) == 30

        cluster_infos = await client.get_db_cluster_info(addresses)
        for ci in cluster_infos:
            assert ci["cluster_state"] == "ok"
            assert ci["cluster_slots_assigned"] == 16384
            assert ci["cluster_known_nodes"] == 3
        assert {ci["cluster_size"] for ci in cluster_infos} == {3}

        await client.config_set("maxmemory-policy", "allkeys-lfu", addresses[1])
        policies = [(await client.config_get("maxmemory-policy", a)) for a in addresses]
        assert [p["maxmemory-policy"] for p in policies] == [
            "noeviction",
            "allkeys-lfu",
            "noeviction",
        ]

        with pytest.raises(InvalidArgumentError, match="not a node"):
            await client.flush_db([*addresses, "127.0.0.1:1"])
        assert await client.key_exists("t0")

        await client.flush_db(addresses[:2])  # only those two shards
        after = await client.get_db_node_info(addresses)
        left = [i["Keyspace"].get("db0", {"keys": 0})["keys"] for i in after]
        assert left[:2] == [0, 0] and left[2] == infos[2]["Keyspace"]["db0"]["keys"] > 0
        await client.flush_db(addresses)
        assert not any("db0" in i["Keyspace"] for i in await client.get_db_node_info(addresses))
