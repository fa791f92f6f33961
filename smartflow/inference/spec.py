"""The inference worker as a supervised actor, started beside a shard or a co-located store."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from smartflow.runtime.messages import ActorSpec
from smartflow.runtime.process import ProcessSpec

WORKER_KIND = "InferenceWorker"
#: Crashes after which the supervisor gives up restarting a worker.
WORKER_RESTARTS = 10
#: Variables a worker must not inherit: it reads and writes keys exactly as requests name them.
_NOT_INHERITED = ("SSKEYIN", "SSKEYOUT")


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
    The secret travels in the environment, never on the command line."""
    argv = [sys.executable, "-m", "smartflow.inference.worker", "--shard", shard_address]
    if seeds:
        argv += ["--cluster", ",".join(seeds)]
    if local_socket is not None:
        argv += ["--local", str(local_socket)]
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env["SSDB_PASSWORD"] = password
    log = workdir / f"{worker_name(shard_name)}.log"
    process = ProcessSpec(argv=tuple(argv), cwd=workdir, env=env, stdout_path=log, stderr_path=log)
    return ActorSpec(
        name=worker_name(shard_name),
        kind=WORKER_KIND,
        process=process,
        grace=2.0,
        run_id=run_id,
        restarts=WORKER_RESTARTS,
    )
