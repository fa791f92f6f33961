"""Configuring stores: at runtime on every shard (CONFIG SET), and before launch."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from smartflow import (
    Experiment,
    ExperimentError,
    InvalidArgumentError,
    Orchestrator,
    StoreError,
)
from smartflow.store import admin
from smartflow.store.config import ShardConfig


async def _config(db: Orchestrator, key: str) -> list[str]:
    """``CONFIG GET key`` from every shard."""
    values = []
    for address in db.get_address():
        host, _, port = address.rpartition(":")
        shard = aioredis.Redis(host=host, port=int(port), password=db.password)
        try:
            values.append((await shard.config_get(key))[key])
        finally:
            await shard.aclose()
    return values


@pytest.fixture(params=[1, 3], ids=["one-shard", "three-shards"])
async def running(request: pytest.FixtureRequest, experiment: Experiment) -> Orchestrator:
    db = experiment.create_database(db_nodes=request.param)
    await experiment.start(db)
    return db


async def test_runtime_settings_reach_every_shard(running: Orchestrator) -> None:
    await running.set_max_memory("300mb")
    await running.set_eviction_strategy("allkeys-lru")
    await running.set_max_clients(1234)
    await running.set_max_message_size(2 * 1024**2)
    await running.enable_checkpoints(900)
    await running.set_db_conf("timeout", 42)
    shards = running.num_shards
    assert await _config(running, "maxmemory") == [str(300 * 1024**2)] * shards
    assert await _config(running, "maxmemory-policy") == ["allkeys-lru"] * shards
    assert await _config(running, "maxclients") == ["1234"] * shards
    assert await _config(running, "proto-max-bulk-len") == [str(2 * 1024**2)] * shards
    assert await _config(running, "save") == ["900 1"] * shards
    assert await _config(running, "timeout") == ["42"] * shards


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("set_db_conf", ("requirepass", "stolen")),
        ("set_db_conf", ("port", 1)),
        ("set_db_conf", ("cluster-node-timeout", 1)),
        ("set_db_conf", ("maxmemory", None)),
        ("set_db_conf", ("no-such-setting", "1")),
        ("set_db_conf", ("maxmemory", "lots")),
        ("set_eviction_strategy", ("most-recent",)),
        ("set_max_clients", (0,)),
        ("set_max_message_size", ("big",)),
        ("enable_checkpoints", (-5,)),
    ],
)
async def test_bad_settings_are_refused_and_change_nothing(
    store: Orchestrator, call: str, args: tuple
) -> None:
    before = {k: await _config(store, k) for k in ("maxmemory", "requirepass", "save")}
    with pytest.raises(InvalidArgumentError):
        await getattr(store, call)(*args)
    after = {k: await _config(store, k) for k in ("maxmemory", "requirepass", "save")}
    assert after == before
    assert await store.is_active()


async def test_a_refused_value_changes_no_shard_of_a_cluster(experiment: Experiment) -> None:
    db = experiment.create_database(db_nodes=3)
    await experiment.start(db)
    before = await _config(db, "maxmemory")
    with pytest.raises(InvalidArgumentError):
        await db.set_max_memory("lots")
    assert await _config(db, "maxmemory") == before


async def test_runtime_settings_need_a_running_store(tmp_path: Path) -> None:
    db = Experiment("cfg", exp_path=tmp_path).create_database()
    with pytest.raises(ExperimentError):
        await db.set_max_memory("1gb")


async def test_set_cpus_before_launch_gives_io_threads(experiment: Experiment) -> None:
    db = experiment.create_database()
    db.set_cpus(2)
    db.set_hosts(["localhost"])
    await experiment.start(db)
    assert await _config(db, "io-threads") == ["2"]
    with pytest.raises(ExperimentError):
        db.set_cpus(1)  # running: too late


def test_settings_the_local_launcher_cannot_honour_are_refused(tmp_path: Path) -> None:
    db = Experiment("cfg", exp_path=tmp_path).create_database()
    with pytest.raises(InvalidArgumentError):
        db.set_hosts(["node17", "localhost"])
    with pytest.raises(InvalidArgumentError):
        db.set_run_arg("exclusive")
    with pytest.raises(InvalidArgumentError):
        db.set_batch_arg("account", "x")
    with pytest.raises(InvalidArgumentError):
        db.set_cpus(0)
    assert db.startup_conf == {}


async def test_an_unreachable_shard_changes_no_shard(experiment: Experiment) -> None:
    db = experiment.create_database(db_nodes=3)
    await experiment.start(db)
    records = {r["name"]: r for r in experiment.summary(format="records")}
    os.kill(int(records[db.shard_names[2]]["job_id"]), signal.SIGKILL)
    with pytest.raises(StoreError):
        await db.set_max_memory("123mb")
    values = []
    for address in db.get_address()[:2]:
        host, _, port = address.rpartition(":")
        shard = aioredis.Redis(host=host, port=int(port), password=db.password)
        try:
            values.append((await shard.config_get("maxmemory"))["maxmemory"])
        finally:
            await shard.aclose()
    assert values == ["0", "0"]


def test_a_tcp_shard_also_serves_a_unix_socket_when_its_path_fits(tmp_path: Path) -> None:
    """For the processes beside it (its inference worker); a path too long for a unix socket
    (107 bytes) means TCP only, and a shard already on a unix socket gets no second one."""
    short = ShardConfig("db_0", "127.0.0.1", 6400, "secret", tmp_path)
    assert short.local_socket == tmp_path / "db_0.sock"
    assert f'unixsocket "{tmp_path / "db_0.sock"}"' in short.render()
    assert "unixsocketperm 700" in short.render()
    deep = tmp_path / ("d" * (107 - len(str(tmp_path)) - len("/db_0.sock") + 1))
    long = ShardConfig("db_0", "127.0.0.1", 6400, "secret", deep)
    assert long.local_socket is None and "unixsocket" not in long.render()
    colocated = ShardConfig("c", "", 0, "secret", tmp_path, unix_socket=tmp_path / "c.sock")
    assert colocated.local_socket is None
    assert colocated.render().count("unixsocket ") == 1


async def test_a_failed_rollback_names_the_shard_left_changed(
    experiment: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first shard takes the value, then both shards stall (SIGSTOP): the second cannot be
    set and the first cannot be put back, and the error says which shard differs."""
    db = experiment.create_database(db_nodes=2)
    await experiment.start(db)
    records = {r["name"]: r for r in experiment.summary(format="records")}
    pids = [int(records[name]["job_id"]) for name in db.shard_names]
    first = db.get_address()[0]
    real_link = admin.shard_link

    def stalling_link(address: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        link = real_link(address, *args, **kwargs)
        real_set = link.config_set

        async def config_set(key: str, value: str):  # type: ignore[no-untyped-def]
            done = await real_set(key, value)
            if address == first:
                for pid in pids:
                    os.kill(pid, signal.SIGSTOP)
            return done

        link.config_set = config_set
        return link

    monkeypatch.setattr(admin, "shard_link", stalling_link)
    monkeypatch.setattr(admin, "_TIMEOUT", 0.5)
    try:
        with pytest.raises(StoreError) as info:
            await db.set_max_memory("123mb")
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    message = str(info.value)
    assert f"could not configure the shard at {db.get_address()[1]}" in message
    assert f"restoring maxmemory failed on {first}" in message
    # (What the shards hold now is not asserted: commands that timed out were still queued
    # in the stalled shards, which run them once they continue.)
