"""The inference worker as a supervised actor, started beside a shard or a co-located store.

It counts as started once it serves (its readiness probe, :mod:`smartflow.inference.health`); a
crash is followed by a restart unless it crashes too often (a rate: :data:`WORKER_RESTARTS`);
when the supervisor gives up, the shard's queue is marked so that clients fail at once.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from smartflow.errors import SmartflowError, StoreStartError
from smartflow.inference.health import mark_unavailable, wait_until_serving
from smartflow.runtime.job import JobHandle
from smartflow.runtime.messages import ActorSpec, RestartPolicy
from smartflow.runtime.process import ProcessSpec
from smartflow.store import server

WORKER_KIND = "InferenceWorker"
#: A worker that crashes this often is not restarted again (a worker that stays up earns its
#: budget back).
WORKER_RESTARTS = RestartPolicy(limit=5, window_s=60.0)
#: Variables a worker must not inherit: it reads and writes keys exactly as requests name them.
_NOT_INHERITED = ("SSKEYIN", "SSKEYOUT")
#: The variable naming the worker's readiness key.
READY_TOKEN_VAR = "SMARTFLOW_WORKER_TOKEN"


def worker_name(shard_name: str) -> str:
    return f"{shard_name}.worker"


def worker_actor_spec(
    shard_name: str,
    shard_address: str,
    password: str,
    workdir: Path,
    *,
    seeds: list[str] | None = None,
    local_socket: Path | None = None,
    run_id: int = 0,
) -> ActorSpec:
    """The worker of one shard (``seeds``: every shard of its cluster, for a clustered store;
    ``local_socket``: the unix socket the shard also serves on, tried before its address).
    The secret travels in the environment, never on the command line. It counts as started
    once it serves, within the store's startup timeout."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    argv = [sys.executable, "-m", "smartflow.inference.worker", "--shard", shard_address]
    if seeds:
        argv += ["--cluster", ",".join(seeds)]
    if local_socket is not None:
        argv += ["--local", str(local_socket)]
    env["SSDB_PASSWORD"] = password
    # How the worker names its readiness key: not its pid, which a launcher may not know.
    token = env[READY_TOKEN_VAR] = secrets.token_hex(8)
    name = worker_name(shard_name)
    log = workdir / f"{name}.log"
    process = ProcessSpec(argv=tuple(argv), cwd=workdir, env=env, stdout_path=log, stderr_path=log)

    async def ready(_: JobHandle) -> None:
        try:
            timeout = server.STARTUP_TIMEOUT_S
            await wait_until_serving(shard_address, seeds, password, token, timeout)
        except SmartflowError as exc:
            raise StoreStartError(f"{name} is not serving: {exc}; its log is {log}") from exc

    async def given_up(error: str) -> None:
        last = error.strip().splitlines()[-1] if error.strip() else "it crashed"
        why = f"the inference worker {name} has stopped ({last}); its log is {log}"
        await mark_unavailable(shard_address, seeds, password, why)

    return ActorSpec(
        name=name,
        kind=WORKER_KIND,
        process=process,
        ready=ready,
        grace=2.0,
        run_id=run_id,
        restart=WORKER_RESTARTS,
        on_failed=given_up,
    )
