"""Helpers shared by the inference tests: the worker's pid, and what the store shows."""

from __future__ import annotations

import redis.asyncio as aioredis

from smartflow import Experiment
from smartflow.inference.worker import WORKER_CLIENT_NAME
from tests._support import pid_of


def worker_pid(experiment: Experiment, shard: str = "orchestrator_0") -> int:
    return pid_of(experiment, f"{shard}.worker")


async def worker_blocked(r: aioredis.Redis) -> bool:
    """The worker has a blocking take pending in the store (CLIENT LIST flag ``b``)."""
    clients = await r.client_list()
    return any(c["name"] == WORKER_CLIENT_NAME and "b" in c["flags"] for c in clients)


async def has_items(r: aioredis.Redis, key: bytes) -> bool:
    return await r.llen(key) > 0
