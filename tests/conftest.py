"""Shared fixtures: real stores (single and clustered), a raw redis-py view of them, and a guard
that fails any test leaving a process behind."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psutil
import pytest
import redis.asyncio as aioredis

from smartflow import Experiment, Orchestrator
from smartflow.errors import StoreBinaryNotFoundError, StoreStartError
from smartflow.store.binary import find_redis_server, server_version
from tests.client._helpers import host_port


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Name the redis-server this run tests against (the bundled 6.2, a system 7.x, or
    REDIS_PATH's): a server feature is only tested on the server that ran."""
    try:
        server = find_redis_server()
    except StoreBinaryNotFoundError as exc:
        return [f"redis-server: none found ({exc})"]
    try:
        version = server_version(server)
    except StoreStartError as exc:
        version = str(exc)
    return [f"redis-server: {server}", f"  {version}"]


def _descendants() -> list[psutil.Process]:
    try:
        return psutil.Process(os.getpid()).children(recursive=True)
    except psutil.Error:
        return []


@pytest.fixture(autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """Every test must end every process it (or smartflow) started."""
    before = {p.pid for p in _descendants()}
    yield
    deadline = time.monotonic() + 2.0
    while True:
        alive = [p for p in _descendants() if p.pid not in before and _is_alive(p)]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for proc in alive:
        proc.kill()
    assert not alive, f"test left processes behind: {[(p.pid, _cmdline(p)) for p in alive]}"


def _is_alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return "?"


@pytest.fixture
async def experiment(tmp_path: Path) -> AsyncIterator[Experiment]:
    async with Experiment("test-exp", exp_path=tmp_path / "exp") as exp:
        yield exp


@pytest.fixture
async def store(experiment: Experiment) -> Orchestrator:
    """A real, running single-shard store (redis-server), stopped when the test ends."""
    db = experiment.create_database()
    await experiment.start(db)
    return db


@pytest.fixture
async def client(store: Orchestrator) -> AsyncIterator:
    from smartflow import Client

    async with Client(address=store.get_address()[0], cluster=False) as c:
        yield c


@pytest.fixture
async def raw(store: Orchestrator) -> AsyncIterator[aioredis.Redis]:
    """A plain redis-py client of the test's store, authenticated with the store's secret."""
    host, port = host_port(store)
    r = aioredis.Redis(host=host, port=port, password=store.password)
    try:
        yield r
    finally:
        await r.aclose()


@pytest.fixture
def free_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def cluster(experiment: Experiment) -> Orchestrator:
    """A real 3-shard Redis Cluster."""
    db = experiment.create_database(db_nodes=3)
    await experiment.start(db)
    return db


@pytest.fixture
async def shards(cluster: Orchestrator) -> AsyncIterator[list[aioredis.Redis]]:
    """A plain connection to each shard, to look behind the client's back."""
    clients = []
    for address in cluster.get_address():
        host, _, port = address.rpartition(":")
        clients.append(aioredis.Redis(host=host, port=int(port), password=cluster.password))
    yield clients
    for c in clients:
        await c.aclose()
