"""Starting an Orchestrator's shard through the supervisor: port choice, secret, retries."""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from smartflow.client import remember_secret
from smartflow.entities.colocated import ColocatedDB
from smartflow.entities.model import Model
from smartflow.entities.orchestrator import Orchestrator
from smartflow.errors import LaunchError, PortInUseError, StoreStartError
from smartflow.inference.runners import inference_threads
from smartflow.inference.spec import worker_actor_spec, worker_name
from smartflow.runtime.messages import ActorSpec, Launch
from smartflow.store.cluster import describe_states, form_cluster
from smartflow.store.config import ShardConfig
from smartflow.store.network import (
    CLUSTER_BUS_OFFSET,
    pick_free_port,
    pick_free_ports,
    port_is_free,
)
from smartflow.store.server import is_address_in_use, shard_actor_spec

#: How a store start asks the supervisor to launch actors, and to stop them.
LaunchFn = Callable[[Launch], Awaitable[object]]
StopFn = Callable[[list[str]], Awaitable[None]]
#: Picking a free port races with every other process on the host: retry a few times.
_PORT_TRIES = 3
#: How long a new cluster may take to agree it is ok (Redis's own floor is about 2 s).
CLUSTER_TIMEOUT = 30.0


async def start_store(
    db: Orchestrator,
    workdir: Path,
    run_id: int,
    launch: LaunchFn,
    stop: StopFn,
) -> None:
    """Launch ``db``'s shards (and form their cluster); returns once the store serves, with its
    addresses and secret recorded. On failure nothing it started is left running."""
    inference_threads(os.environ)  # refused before anything starts (each worker checks it too)
    for _ in range(_PORT_TRIES):
        ports = await _choose_ports(db)
        shards = [
            ShardConfig(
                name,
                db.host,
                port,
                db.password,
                workdir,
                extra=tuple(db.startup_conf.items()),
                cluster=db.is_clustered,
            )
            for name, port in zip(db.shard_names, ports, strict=True)
        ]
        await anyio.to_thread.run_sync(_remove_stale_nodes_files, shards)
        if not await _launch_shards(f"store {db.name!r}", shards, db.port is None, run_id, launch):
            continue  # someone took a free port we picked: pick others
        if db.is_clustered:
            await form(db, shards, stop)
        seeds = [s.address for s in shards] if db.is_clustered else None
        await start_workers(f"store {db.name!r}", shards, seeds, run_id, launch, stop)
        db._set_ports(ports)
        remember(shards, db.password)
        return
    raise StoreStartError(f"store {db.name!r}: every free port picked was taken before use")


async def _launch_shards(
    label: str,
    shards: list[ShardConfig],
    picked: bool,
    run_id: int,
    launch: LaunchFn,
) -> bool:
    """Launch ``shards``; False when a port smartflow ``picked`` was taken meanwhile (pick
    again), a typed error for anything else (a port the user chose included)."""
    try:
        specs = tuple(
            shard_actor_spec(s, run_id=run_id, companions=(worker_name(s.name),)) for s in shards
        )
        await launch(Launch(specs))
    except LaunchError as exc:
        if not is_address_in_use(exc):
            raise StoreStartError(f"{label} did not start: {exc}") from exc
        if not picked:
            where = ", ".join(s.address for s in shards)
            raise PortInUseError(f"{label}: {where} already in use") from exc
        return False
    return True


async def start_workers(
    label: str,
    shards: list[ShardConfig],
    seeds: list[str] | None,
    run_id: int,
    launch: LaunchFn,
    stop: StopFn,
    wrap: Callable[[ActorSpec], ActorSpec] | None = None,
) -> None:
    """An inference worker beside each shard (each a companion of its shard: it ends with it),
    started once it serves (``wrap`` makes each spec a step of the launcher's); if they cannot
    start, the shards are stopped too."""
    specs = _worker_specs(shards, seeds, run_id)
    try:
        await launch(Launch(tuple(map(wrap, specs)) if wrap is not None else specs))
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await stop([s.name for s in shards])
        if isinstance(exc, LaunchError):
            raise StoreStartError(f"{label}: its inference workers did not start: {exc}") from exc
        raise


def _worker_specs(
    shards: list[ShardConfig], seeds: list[str] | None, run_id: int
) -> tuple[ActorSpec, ...]:
    return tuple(
        worker_actor_spec(
            s.name,
            s.address,
            s.password,
            s.workdir,
            seeds=seeds,
            local_socket=s.local_socket,
            run_id=run_id,
        )
        for s in shards
    )


def remember(shards: list[ShardConfig], password: str) -> None:
    """The driver knows each shard's secret: its clients need no password argument."""
    for shard in shards:
        remember_secret(shard.address, password)


async def form(db: Orchestrator, shards: list[ShardConfig], stop: StopFn) -> None:
    """Form ``db``'s cluster from its running shards; on failure they are stopped."""
    addresses = [(s.host, s.port) for s in shards]
    try:
        with anyio.move_on_after(CLUSTER_TIMEOUT) as waiting:
            await form_cluster(addresses, db.password)
        if waiting.cancelled_caught:
            states = await describe_states(addresses, db.password)
            raise StoreStartError(f"the cluster was not ok within {CLUSTER_TIMEOUT:g} s: {states}")
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await stop(db.shard_names)
        if isinstance(exc, StoreStartError):
            raise StoreStartError(f"store {db.name!r}: {exc}") from exc
        raise


def _remove_stale_nodes_files(shards: list[ShardConfig]) -> None:
    for shard in shards:
        shard.nodes_file.unlink(missing_ok=True)


async def _choose_ports(db: Orchestrator) -> list[int]:
    if db.port is None:
        return await anyio.to_thread.run_sync(pick_free_ports, db.host, db.db_nodes)
    ports = [db.port + i for i in range(db.db_nodes)]
    needed = ports + [p + CLUSTER_BUS_OFFSET for p in ports if db.is_clustered]
    busy = [p for p in needed if not await anyio.to_thread.run_sync(port_is_free, db.host, p)]
    if busy:
        raise PortInUseError(
            f"port(s) {', '.join(map(str, busy))} on {db.host} already in use: "
            "choose another port or port=None"
        )
    return ports


async def start_colocated(
    model: Model,
    name: str,
    run_id: int,
    launch: LaunchFn,
    stop: StopFn,
) -> None:
    """Launch ``model``'s co-located store as actor ``name`` in the model's directory."""
    colo = model.colocated_db
    assert colo is not None and model.path is not None
    inference_threads(os.environ)
    for _ in range(_PORT_TRIES):
        shard = colocated_shard(model, name, await _colocated_port(colo))
        port = shard.port
        picked = colo.port is None and colo.unix_socket is None
        label = f"{model.name}: its co-located store"
        if await _launch_shards(label, [shard], picked, run_id, launch):
            await start_workers(label, [shard], None, run_id, launch, stop)
            colo._set_port(port)
            remember([shard], colo.password)
            return
    raise StoreStartError(f"{model.name}: every free port picked was taken before use")


def colocated_shard(model: Model, name: str, port: int) -> ShardConfig:
    """The configuration of ``model``'s co-located store, run as actor ``name``."""
    colo = model.colocated_db
    assert colo is not None and model.path is not None
    return ShardConfig(
        name,
        colo.host,
        port,
        colo.password,
        Path(model.path),
        extra=tuple(colo.redis_conf.items()),
        unix_socket=colo.unix_socket,
        socket_permissions=colo.socket_permissions,
        cpus=colo.custom_pinning,
        debug=colo.debug,
    )


async def _colocated_port(colo: ColocatedDB) -> int:
    """The TCP port to use (0 for a unix socket, after checking nobody serves on it: Redis
    would silently take a live socket path over)."""
    if colo.unix_socket is not None:
        if await anyio.to_thread.run_sync(_socket_is_served, colo.unix_socket):
            raise PortInUseError(f"unix socket {colo.unix_socket} is already served")
        return 0
    if colo.port is None:
        return await anyio.to_thread.run_sync(pick_free_port, colo.host)
    if not await anyio.to_thread.run_sync(port_is_free, colo.host, colo.port):
        raise PortInUseError(f"port {colo.port} on {colo.host} is already in use")
    return colo.port


def _socket_is_served(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True
