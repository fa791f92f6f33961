"""Starting an Orchestrator's shard through the supervisor: port choice, secret, retries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from smartflow.client._secrets import remember_secret
from smartflow.entities.orchestrator import Orchestrator
from smartflow.errors import LaunchError, PortInUseError, StoreStartError
from smartflow.runtime.messages import Launch
from smartflow.store.config import ShardConfig
from smartflow.store.network import pick_free_port, port_is_free
from smartflow.store.server import is_address_in_use, shard_actor_spec

#: Picking a free port races with every other process on the host: retry a few times.
_PORT_TRIES = 3


async def start_store(
    db: Orchestrator,
    workdir: Path,
    run_id: int,
    launch: Callable[[Launch], Awaitable[object]],
) -> None:
    """Launch ``db``'s shard; returns once it answers, with its address and secret recorded."""
    for _ in range(_PORT_TRIES):
        port = await _choose_port(db)
        shard = ShardConfig(db.shard_names[0], db.host, port, db.password, workdir)
        try:
            await launch(Launch((shard_actor_spec(shard, run_id=run_id),)))
        except LaunchError as exc:
            if not is_address_in_use(exc):
                raise StoreStartError(f"store {db.name!r} did not start: {exc}") from exc
            if db.port is not None:
                raise PortInUseError(f"port {port} on {db.host} is already in use") from exc
            continue  # someone took the free port we picked: pick another
        db._set_ports([port])
        remember_secret(shard.address, db.password)
        return
    raise StoreStartError(f"store {db.name!r}: every free port picked was taken before use")


async def _choose_port(db: Orchestrator) -> int:
    if db.port is None:
        return await anyio.to_thread.run_sync(pick_free_port, db.host)
    if not await anyio.to_thread.run_sync(port_is_free, db.host, db.port):
        raise PortInUseError(
            f"port {db.port} on {db.host} is already in use: choose another or port=None"
        )
    return db.port
