"""Experiment: the factory for entities and the async facade over their supervisor.

The supervisor runs in a task the experiment owns (not in a task group of the caller's), so an
experiment works the same from ``async with``, from notebook cells that each run in their own task,
and from inside a long-running asyncio service. Leaving ``async with`` (or ``await exp.aclose()``)
stops everything the experiment started, also when the driver was cancelled or raised.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Literal

import anyio

from smartflow._log import get_logger
from smartflow.client._secrets import forget_secret, remember_secret
from smartflow.entities.orchestrator import DEFAULT_DB_IDENTIFIER, Orchestrator
from smartflow.errors import (
    ExperimentError,
    InvalidArgumentError,
    LaunchError,
    PortInUseError,
    StoreStartError,
)
from smartflow.runtime.messages import Launch, Shutdown, Stop, SupervisorMessage
from smartflow.runtime.supervisor import StatusRecord, Supervisor
from smartflow.status import Status
from smartflow.store.config import ShardConfig
from smartflow.store.network import pick_free_port, port_is_free
from smartflow.store.server import is_address_in_use, shard_actor_spec

LAUNCHERS = ("local", "auto")
_PORT_TRIES = 3
Entity = Orchestrator


class Experiment:
    """A set of entities launched and supervised together.

    Use it as ``async with Experiment("name") as exp:``, or call ``await exp.aclose()`` yourself
    (notebooks). ``exp_path`` defaults to ``./<name>``; every entity writes its output under it.
    """

    def __init__(
        self, name: str, exp_path: str | os.PathLike[str] | None = None, launcher: str = "local"
    ) -> None:
        if not isinstance(name, str) or not name or os.sep in name:
            raise InvalidArgumentError(f"experiment name {name!r} must be a non-empty file name")
        if launcher not in LAUNCHERS:
            raise InvalidArgumentError(
                f"launcher {launcher!r} is not available; this version supports "
                f"{', '.join(LAUNCHERS)} (slurm, pbs, lsf and cobalt are not implemented yet)"
            )
        self.name = name
        self.launcher = "local"
        self.exp_path = Path(exp_path) if exp_path is not None else Path.cwd() / name
        self._databases: dict[str, Orchestrator] = {}
        self._supervisor: Supervisor | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._log = get_logger("experiment", experiment=name)

    # -- factories (no I/O) -------------------------------------------------------------------

    def create_database(
        self,
        db_nodes: int = 1,
        port: int | None = None,
        interface: str = "lo",
        db_identifier: str = DEFAULT_DB_IDENTIFIER,
    ) -> Orchestrator:
        """A Redis-backed store; ``port=None`` picks a free one at start."""
        if db_identifier in self._databases:
            raise InvalidArgumentError(
                f"db_identifier {db_identifier!r} is already used in experiment {self.name!r}"
            )
        db = Orchestrator(db_identifier, db_nodes=db_nodes, port=port, interface=interface)
        self._databases[db_identifier] = db
        return db

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, *entities: Entity, block: bool = True, summary: bool = False) -> None:
        """Start entities; for a store this returns once every shard answers."""
        for entity in entities:
            self._check_owned(entity)
        for entity in entities:
            await self._start_store(entity)
        if summary:
            self._log.info("summary", table="\n" + self.summary())

    async def stop(self, *entities: Entity) -> None:
        """Stop entities with the termination ladder; they end as CANCELLED."""
        for entity in entities:
            self._check_owned(entity)
            names = entity.shard_names
            if not any(name in self._table() for name in names):
                raise ExperimentError(f"{entity.name!r} was never started, so it cannot be stopped")
            await self._request(Stop(tuple(names)))
            for address in entity.get_address():
                forget_secret(address)

    async def get_status(self, *entities: Entity) -> list[Status]:
        """One status per process, in order (a store's shards expanded)."""
        statuses = []
        for entity in entities:
            self._check_owned(entity)
            statuses.extend(self._record_status(name) for name in entity.shard_names)
        return statuses

    async def finished(self, entity: Entity) -> bool:
        """True when every process of ``entity`` has ended."""
        return all(status.is_terminal for status in await self.get_status(entity))

    def summary(self, format: Literal["table", "records"] = "table") -> str | list[dict]:
        """What ran, as a printable table or as a list of dicts; needs no I/O."""
        records = [_as_record(r) for r in self._table().values()]
        if format == "records":
            return records
        if format != "table":
            raise InvalidArgumentError(f"format {format!r} must be 'table' or 'records'")
        return _render_table(records)

    async def aclose(self) -> None:
        """Stop everything this experiment started and close it; safe to call twice."""
        self._closed = True
        task, supervisor = self._task, self._supervisor
        if task is None or supervisor is None:
            return
        with anyio.CancelScope(shield=True):
            if not task.done():
                try:
                    await supervisor.request(Shutdown())
                except ExperimentError:
                    pass  # already shut down
            await asyncio.wait([task])
        for db in self._databases.values():
            if db.is_launched:
                for address in db.get_address():
                    forget_secret(address)

    async def __aenter__(self) -> Experiment:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- internals ----------------------------------------------------------------------------

    async def _start_store(self, db: Orchestrator) -> None:
        if any(
            not self._record_status(n).is_terminal for n in db.shard_names if n in self._table()
        ):
            raise ExperimentError(f"store {db.name!r} is already running")
        workdir = self.exp_path / db.db_identifier
        for _ in range(_PORT_TRIES):
            port = await self._choose_port(db)
            shard = ShardConfig(db.shard_names[0], db.host, port, db.password, workdir)
            try:
                await self._launch(Launch((shard_actor_spec(shard),)))
            except LaunchError as exc:
                if not is_address_in_use(exc):
                    raise StoreStartError(f"store {db.name!r} did not start: {exc}") from exc
                if db.port is not None:
                    raise PortInUseError(f"port {port} on {db.host} is already in use") from exc
                continue  # someone took the free port we picked: pick another
            db._set_ports([port])
            remember_secret(shard.address, db.password)
            self._log.info("store started", entity=db.name, address=shard.address)
            return
        raise StoreStartError(f"store {db.name!r}: every free port picked was taken before use")

    async def _choose_port(self, db: Orchestrator) -> int:
        if db.port is None:
            return await anyio.to_thread.run_sync(pick_free_port, db.host)
        if not await anyio.to_thread.run_sync(port_is_free, db.host, db.port):
            raise PortInUseError(
                f"port {db.port} on {db.host} is already in use: choose another or port=None"
            )
        return db.port

    async def _launch(self, message: Launch) -> object:
        """Launch; if the caller is cancelled meanwhile, stop what the launch started."""
        try:
            return await self._request(message)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                try:
                    await message.reply.wait()  # bounded by the readiness timeout
                except Exception:
                    pass  # it failed: nothing to stop
                else:
                    await self._request(Stop(tuple(spec.name for spec in message.specs)))
            raise

    async def _request(self, message: SupervisorMessage) -> object:
        if self._closed:
            raise ExperimentError(f"experiment {self.name!r} is closed")
        if self._task is None:
            self._supervisor = Supervisor(self.name)
            self._task = asyncio.get_running_loop().create_task(
                self._supervisor.run(), name=f"smartflow-supervisor-{self.name}"
            )
        assert self._supervisor is not None
        return await self._supervisor.request(message)

    def _table(self) -> dict[str, StatusRecord]:
        return self._supervisor.table if self._supervisor is not None else {}

    def _record_status(self, name: str) -> Status:
        record = self._table().get(name)
        return record.status if record is not None else Status.NEW

    def _check_owned(self, entity: object) -> None:
        if not isinstance(entity, Orchestrator):
            raise InvalidArgumentError(f"{entity!r} is not an entity this version can launch")
        if self._databases.get(entity.db_identifier) is not entity:
            raise ExperimentError(
                f"{entity.name!r} was not created by experiment {self.name!r}; "
                "create it with this experiment's create_* methods"
            )


def _as_record(record: StatusRecord) -> dict:
    end = record.ended_at or time.time()
    elapsed = end - record.started_at if record.started_at else 0.0
    return {
        "name": record.name,
        "entity_type": record.kind,
        "job_id": record.job_id,
        "status": str(record.status),
        "returncode": record.returncode,
        "time": round(elapsed, 3),
    }


def _render_table(records: list[dict]) -> str:
    headers = ["name", "entity_type", "job_id", "time", "status", "returncode"]
    rows = [[str(r[h]) if r[h] is not None else "-" for h in headers] for r in records]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)
