"""Starting and probing redis-server shards as supervised actors."""

from __future__ import annotations

import os
import shutil

import anyio
import redis.asyncio as aioredis

from smartflow.errors import StoreStartError
from smartflow.runtime.job import JobHandle
from smartflow.runtime.messages import ActorSpec
from smartflow.runtime.process import ProcessSpec
from smartflow.store.binary import find_redis_conf, find_redis_server
from smartflow.store.config import ShardConfig
from smartflow.store.shard_link import shard_link

ADDRESS_IN_USE = "Address already in use"
#: How long a shard (and the inference worker beside it) may take to serve after its start.
STARTUP_TIMEOUT_S = 30.0
#: Socket timeouts of one probe (seconds); the caller bounds the whole wait.
_PROBE_TIMEOUT = 1.0


def shard_actor_spec(
    shard: ShardConfig,
    *,
    run_id: int = 0,
    startup_timeout: float | None = None,
    companions: tuple[str, ...] = (),
) -> ActorSpec:
    """The actor that runs one shard and reports it started once it answers an AUTHed PING
    (within ``startup_timeout`` seconds, :data:`STARTUP_TIMEOUT_S` by default)."""
    startup_timeout = STARTUP_TIMEOUT_S if startup_timeout is None else startup_timeout
    argv = [str(find_redis_server())]
    if shard.cpus:
        argv = [_taskset(), "-c", ",".join(map(str, shard.cpus)), *argv]
    conf = find_redis_conf()
    if conf is not None:
        argv.append(str(conf))
    argv.append("-")  # read (the rest of) the configuration, secret included, from stdin
    process = ProcessSpec(
        argv=tuple(argv),
        cwd=shard.workdir,
        env=dict(os.environ),
        stdout_path=shard.logfile,
        stderr_path=shard.logfile,
        stdin_data=shard.render().encode(),
    )

    async def ready(_: JobHandle) -> None:
        with anyio.move_on_after(startup_timeout):
            await wait_until_answering(shard.address, shard.password)
            return
        raise StoreStartError(
            f"{shard.name}: redis-server did not answer on {shard.address} within "
            f"{startup_timeout:g} s; its log is {shard.logfile}"
        )

    return ActorSpec(
        name=shard.name,
        kind="Orchestrator",
        process=process,
        ready=ready,
        run_id=run_id,
        companions=companions,
    )


async def ping(address: str, password: str | None) -> bool:
    """One authenticated PING of ``host:port`` or ``unix:///path``; False when nothing (or
    something else) answers in time."""
    client = shard_link(address, password, _PROBE_TIMEOUT)
    try:
        return bool(await client.ping())
    except (aioredis.RedisError, OSError):
        return False
    finally:
        await client.aclose()


async def wait_until_answering(address: str, password: str) -> None:
    """Poll until the shard answers; backs off from 2 ms to 50 ms (redis starts in ~10 ms)."""
    delay = 0.002
    while not await ping(address, password):
        await anyio.sleep(delay)
        delay = min(delay * 2, 0.05)


def _taskset() -> str:
    path = shutil.which("taskset")
    if path is None:
        raise StoreStartError("CPU pinning needs `taskset` (util-linux), which is not on PATH")
    return path


def is_address_in_use(error: BaseException) -> bool:
    """True when a shard failed because its port was taken (read from its log tail)."""
    return ADDRESS_IN_USE in str(error)
