"""A single-shard store started through an Experiment: security, addressing, ports, lifecycle.

Every test runs a real redis-server and talks to it with raw redis-py or raw sockets.
"""

from __future__ import annotations

import os
import re
import socket
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import psutil
import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from smartflow import (
    Experiment,
    ExperimentError,
    InvalidArgumentError,
    LaunchError,
    Orchestrator,
    PortInUseError,
    Status,
    StoreStartError,
)
from smartflow.runtime.messages import Launch, Shutdown
from smartflow.runtime.supervisor import Supervisor
from smartflow.store.config import ShardConfig
from smartflow.store.network import pick_free_port
from smartflow.store.server import shard_actor_spec
from tests._support import (
    alive,
    descendants,
    free_port_in_range,
    host_port,
    is_store,
    raw_store,
    store_pid,
)

ADDRESS = re.compile(r"^127\.0\.0\.1:(\d+)$")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_PATH", raising=False)
    monkeypatch.delenv("REDIS_CONF", raising=False)


async def _wait_status(exp: Experiment, db: Orchestrator, want: Status, within: float = 5.0):
    with anyio.fail_after(within):
        while True:
            if (await exp.get_status(db))[0] is want:
                return
            await anyio.sleep(0.02)


# -- security -----------------------------------------------------------------------------------


async def test_authentication_is_required_by_default(experiment: Experiment) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    host, port = host_port(db)

    # The wire answer to an unauthenticated command, read with a plain socket.
    stream = await anyio.connect_tcp(host, port)
    async with stream:
        await stream.send(b"PING\r\n")
        with anyio.fail_after(5):
            answer = await stream.receive()
    assert answer.startswith(b"-NOAUTH"), answer

    # redis-py without a password (its default RESP3 handshake, too) is refused...
    for protocol in (2, 3):
        async with _anon(db, protocol) as anonymous:
            with pytest.raises(aioredis.AuthenticationError):
                await anonymous.ping()
    # ...a wrong one as well...
    async with raw_store(db, password="not-the-secret") as wrong:
        with pytest.raises(aioredis.AuthenticationError):
            await wrong.ping()
    # ...and the store's own secret works.
    async with raw_store(db) as r:
        assert await r.ping() is True
        await r.set("k", "v")
        assert await r.get("k") == "v"


@asynccontextmanager
async def _anon(db: Orchestrator, protocol: int) -> AsyncIterator[aioredis.Redis]:
    host, port = host_port(db)
    r = aioredis.Redis(
        host=host, port=port, protocol=protocol, retry=Retry(NoBackoff(), 0), socket_timeout=5
    )
    try:
        yield r
    finally:
        await r.aclose()


async def test_secret_is_long_and_unique_per_store(experiment: Experiment) -> None:
    a = experiment.create_database(db_identifier="a")
    b = experiment.create_database(db_identifier="b")
    assert a.password != b.password
    assert len(a.password) >= 32
    assert a.password not in repr(a)


async def test_secret_never_on_a_command_line(experiment: Experiment) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    pid = store_pid(experiment)
    procs = descendants()
    assert pid in {p.pid for p in procs}, "the redis-server should be a descendant of the test"
    for proc in [psutil.Process(os.getpid()), *procs]:
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.NoSuchProcess:
            continue
        assert db.password not in cmdline, f"secret visible in ps for pid {proc.pid}: {cmdline}"
    # Nor in the server's environment (readable by the same user through /proc).
    environ = psutil.Process(pid).environ()
    assert all(db.password not in value for value in environ.values())


async def test_secret_not_in_readable_files(experiment: Experiment) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    assert await db.is_active()
    files = [p for p in experiment.exp_path.rglob("*") if p.is_file()]
    assert files, "the store should write its log under exp_path"
    for path in files:
        if db.password.encode() in path.read_bytes():
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode & 0o077 == 0, f"{path} holds the secret with mode {oct(mode)}"


async def test_persistence_is_off(experiment: Experiment) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    async with raw_store(db) as r:
        assert await r.config_get("save") == {"save": ""}
        assert await r.config_get("appendonly") == {"appendonly": "no"}
        await r.set("x", "1")
    await experiment.stop(db)
    # Stopping (SIGTERM) must not have dumped the data set to disk either.
    assert not list(experiment.exp_path.rglob("*.rdb"))
    assert not list(experiment.exp_path.rglob("*.aof"))


# -- addressing ---------------------------------------------------------------------------------


async def test_bound_to_requested_interface(experiment: Experiment) -> None:
    db = experiment.create_database(interface="lo")
    await experiment.start(db)
    address = db.get_address()
    assert isinstance(address, list)
    assert len(address) == 1
    match = ADDRESS.match(address[0])
    assert match, address
    async with raw_store(db) as r:
        assert await r.config_get("bind") == {"bind": "127.0.0.1"}
        assert await r.config_get("port") == {"port": match.group(1)}
    # Listening on loopback only: the server's sockets say so.
    listening = [
        c.laddr
        for c in psutil.Process(store_pid(experiment)).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening
    assert {laddr.ip for laddr in listening} == {"127.0.0.1"}


async def test_interface_given_as_ip_literal(experiment: Experiment) -> None:
    db = experiment.create_database(interface="127.0.0.1")
    await experiment.start(db)
    assert ADDRESS.match(db.get_address()[0])
    assert await db.is_active()


async def test_explicit_free_port_is_honoured(experiment: Experiment) -> None:
    port = free_port_in_range()
    db = experiment.create_database(port=port)
    assert db.get_address() == [f"127.0.0.1:{port}"]  # known before start when given
    await experiment.start(db)
    assert db.get_address() == [f"127.0.0.1:{port}"]
    async with raw_store(db) as r:
        assert await r.config_get("port") == {"port": str(port)}


async def test_port_in_use_is_refused_and_experiment_unchanged(experiment: Experiment) -> None:
    port = free_port_in_range()
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        db = experiment.create_database(port=port)
        with pytest.raises(PortInUseError) as info:
            await experiment.start(db)
        assert not isinstance(info.value, BaseExceptionGroup)
        assert str(port) in str(info.value)
        assert experiment.summary(format="records") == []
        assert (await experiment.get_status(db)) == [Status.NEW] * 2  # the shard, its worker
        assert not await db.is_active()
        # Another store still starts in the same experiment.
        other = experiment.create_database(db_identifier="other")
        await experiment.start(other)
        assert await other.is_active()
    finally:
        blocker.close()
    # And the refused one starts once its port is released.
    await experiment.start(db)
    assert db.get_address() == [f"127.0.0.1:{port}"]
    assert await db.is_active()


async def test_port_in_use_on_wildcard_address_is_refused(experiment: Experiment) -> None:
    port = free_port_in_range()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("0.0.0.0", port))
        blocker.listen()
        db = experiment.create_database(port=port)
        with pytest.raises(PortInUseError):
            await experiment.start(db)
    assert [p for p in descendants() if alive(p.pid) and is_store(p)] == []


def test_bad_interface_refused_at_create_database(tmp_path: Path) -> None:
    exp = Experiment("srv", exp_path=tmp_path)
    with pytest.raises(InvalidArgumentError) as info:
        exp.create_database(interface="no-such-if0")
    assert "no-such-if0" in str(info.value)
    # Nothing was registered: the identifier is still free.
    db = exp.create_database(interface="lo")
    assert db.db_identifier == "orchestrator"


@pytest.mark.parametrize("port", [0, -1, 65536, "6379"])
def test_bad_port_refused_at_create_database(tmp_path: Path, port) -> None:
    exp = Experiment("srv", exp_path=tmp_path)
    with pytest.raises(InvalidArgumentError):
        exp.create_database(port=port)
    exp.create_database()  # the identifier was not taken by the refused call


def test_duplicate_identifier_refused(tmp_path: Path) -> None:
    exp = Experiment("srv", exp_path=tmp_path)
    first = exp.create_database(db_identifier="cache")
    with pytest.raises(InvalidArgumentError) as info:
        exp.create_database(db_identifier="cache")
    assert "cache" in str(info.value)
    assert exp.create_database(db_identifier="other") is not first


def test_get_address_before_start_without_port(tmp_path: Path) -> None:
    exp = Experiment("srv", exp_path=tmp_path)
    db = exp.create_database()
    with pytest.raises(ExperimentError):
        db.get_address()


async def test_is_active_follows_the_lifecycle(experiment: Experiment) -> None:
    db = experiment.create_database()
    assert await db.is_active() is False
    await experiment.start(db)
    assert await db.is_active() is True
    await experiment.stop(db)
    assert await db.is_active() is False


async def test_picked_ports_leave_room_for_the_cluster_bus(experiment: Experiment) -> None:
    dbs = [experiment.create_database(db_identifier=f"db{i}") for i in range(3)]
    await experiment.start(*dbs)
    ports = [host_port(db)[1] for db in dbs]
    assert len(set(ports)) == 3
    for port in ports:
        assert 20000 <= port <= 55535
        assert 20000 <= port + 10000 <= 55535


async def test_stop_ends_cancelled(experiment: Experiment) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    pid = store_pid(experiment)
    assert await experiment.get_status(db) == [Status.RUNNING] * 2
    assert not await experiment.finished(db)
    await experiment.stop(db)
    assert await experiment.get_status(db) == [Status.CANCELLED] * 2
    assert await experiment.finished(db)
    assert not alive(pid)


async def test_externally_killed_store_is_failed(experiment: Experiment) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    pid = store_pid(experiment)
    assert "redis" in psutil.Process(pid).name()
    psutil.Process(pid).kill()
    await _wait_status(experiment, db, Status.FAILED)
    (record,) = [r for r in experiment.summary(format="records") if r["name"] == db.name + "_0"]
    assert record["status"] == "Failed"
    assert record["returncode"] == -9
    with anyio.fail_after(10):  # a shard's worker is stopped when the shard dies
        while True:
            if experiment.summary(format="records")[1]["status"] == "Cancelled":
                break
            await anyio.sleep(0.02)
    assert not await db.is_active()
    # A failed store may be started again.
    await experiment.start(db)
    assert await db.is_active()
    assert await experiment.get_status(db) == [Status.RUNNING] * 2


async def test_binary_that_exits_immediately(tmp_path: Path, monkeypatch) -> None:
    script = tmp_path / "bin" / "fake-redis"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho 'fake-redis: refusing to serve today' >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("REDIS_PATH", str(script))
    before = {p.pid for p in descendants()}
    async with Experiment("srv", exp_path=tmp_path / "exp") as exp:
        db = exp.create_database()
        with anyio.fail_after(10):  # must fail fast, not wait for a startup timeout
            with pytest.raises(LaunchError) as info:
                await exp.start(db)
        assert isinstance(info.value, StoreStartError)
        assert not isinstance(info.value, BaseExceptionGroup)
        assert "refusing to serve today" in str(info.value)
        assert [p for p in descendants() if alive(p.pid) and is_store(p)] == []
        assert await exp.get_status(db) == [Status.FAILED, Status.NEW]  # no worker started
        assert not await db.is_active()
        # Fixing the binary makes the same store start in the same experiment.
        monkeypatch.delenv("REDIS_PATH")
        await exp.start(db)
        assert await db.is_active()
    assert [p for p in descendants() if p.pid not in before and alive(p.pid)] == []


async def test_a_store_that_never_answers_fails_with_a_clear_timeout(
    tmp_path: Path, monkeypatch
) -> None:
    """A binary that runs but never serves: the launch fails after the startup timeout, naming
    the address and the log, and the process is gone."""
    script = tmp_path / "bin" / "hung-redis"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\ncat > /dev/null\nexec sleep 60\n")
    script.chmod(0o755)
    monkeypatch.setenv("REDIS_PATH", str(script))
    port = pick_free_port("127.0.0.1")
    shard = ShardConfig("hung", "127.0.0.1", port, "secret", tmp_path)
    supervisor = Supervisor("hung")
    async with anyio.create_task_group() as tg:
        tg.start_soon(supervisor.run)
        try:
            with anyio.fail_after(10), pytest.raises(StoreStartError) as info:
                await supervisor.request(Launch((shard_actor_spec(shard, startup_timeout=0.3),)))
        finally:
            await supervisor.request(Shutdown())
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "0.3 s" in message and "hung.log" in message
    assert supervisor.table["hung"].status is Status.FAILED
    # The status says what went wrong, not "unhandled errors in a TaskGroup".
    assert supervisor.table["hung"].error_tail == message
    assert [p for p in descendants() if alive(p.pid) and "sleep" in p.name()] == []
