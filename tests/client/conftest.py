"""Client-test fixtures: a raw redis-py connection to look behind the client's back."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from smartflow import Experiment, Orchestrator
from tests.client._helpers import host_port


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
