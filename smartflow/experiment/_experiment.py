"""Experiment: the factory for entities and the async facade over their supervisor.

The supervisor runs in a task the experiment owns (not in a task group of the caller's), so an
experiment works the same from ``async with``, from notebook cells that each run in their own task,
and from inside a long-running asyncio service. Leaving ``async with`` (or ``await exp.aclose()``)
stops everything the experiment started, also when the driver was cancelled or raised.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import anyio

from smartflow import launchers
from smartflow._log import get_logger
from smartflow.client import forget_secret
from smartflow.entities import params_scalars
from smartflow.entities.ensemble import Ensemble
from smartflow.entities.model import Model, TaskManager, check_entity_name
from smartflow.entities.orchestrator import DEFAULT_DB_IDENTIFIER, Orchestrator
from smartflow.errors import ExperimentError, InvalidArgumentError, UnsupportedTypeError
from smartflow.experiment import _launch_specs, _store_steps, _summary, generation
from smartflow.experiment._launching import Batch, Launching
from smartflow.experiment._registry import (
    Entity,
    EntityRegistry,
    colocated_names,
    colocated_of,
    process_names,
    unique_members,
)
from smartflow.inference.spec import WORKER_KIND
from smartflow.runtime.messages import Shutdown, StatusEvent, Stop, SupervisorMessage
from smartflow.runtime.supervisor import StatusRecord, Supervisor, fail_requests_when_done
from smartflow.settings import batch_settings_class, run_settings_class
from smartflow.settings.run import BatchSettings, RunSettings
from smartflow.status import Status

if TYPE_CHECKING:
    from smartflow.batch import Dispatcher


class Experiment:
    """A set of entities launched and supervised together.

    Use it as ``async with Experiment("name") as exp:``, or call ``await exp.aclose()`` yourself
    (notebooks). ``exp_path`` defaults to ``./<name>``; every entity writes its output under it.
    ``launcher`` is ``local``, ``slurm``, ``pbs``, ``lsf``, ``cobalt``, or ``auto`` (the one this
    host has; ``exp.launcher`` then names what was found).
    """

    def __init__(
        self, name: str, exp_path: str | os.PathLike[str] | None = None, launcher: str = "local"
    ) -> None:
        if not isinstance(name, str) or not name or os.sep in name:
            raise InvalidArgumentError(f"experiment name {name!r} must be a non-empty file name")
        if not isinstance(launcher, str):
            raise UnsupportedTypeError(f"launcher must be a str, not {type(launcher).__name__}")
        self.name = name
        #: The launcher in use, by name (for "auto", the one found).
        self.launcher: str = launchers.resolve(launcher)
        self._launcher = launchers.get(self.launcher)
        self.exp_path = Path(exp_path if exp_path is not None else Path.cwd() / name).absolute()
        self._registry = EntityRegistry(self.name, self.exp_path)
        self._supervisor: Supervisor | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._log = get_logger("experiment", experiment=name)
        #: Called, in order, when the experiment closes (dispatchers end their jobs first).
        self._on_close: list[Callable[[], Awaitable[None]]] = []
        self._launching = Launching(
            self.exp_path,
            self._launcher,
            self._request,
            lambda: self._supervisor,
            self._running_stores,
            self._log,
        )

    # -- factories (no I/O) -------------------------------------------------------------------

    def create_run_settings(
        self,
        exe: str,
        exe_args: list[str] | str | None = None,
        run_command: str = "auto",
        run_args: dict[str, str] | None = None,
        env_vars: dict[str, str] | None = None,
    ) -> RunSettings:
        """How to run an executable, as the experiment's launcher runs it (``run_command="auto"``:
        the launcher's own, e.g. ``srun`` on Slurm; or ``mpirun``, ``mpiexec``, ...): a
        :class:`~smartflow.settings.SrunSettings` and its kin. ``exe`` is resolved on PATH now
        (a clear error if missing)."""
        cls = run_settings_class(self.launcher, run_command)
        if cls is RunSettings:
            return RunSettings(exe, exe_args, run_command, run_args, env_vars, launcher="local")
        explicit = run_command if run_command not in (None, "", "auto") else None
        return cls(
            exe,
            exe_args,
            run_args=run_args,
            env_vars=env_vars,
            run_command=explicit,
            launcher=self.launcher,
        )

    def create_batch_settings(
        self, nodes: int = 1, time: str = "", queue: str = "", account: str = "", batch_args=None
    ) -> BatchSettings:
        """Batch-job settings of the experiment's launcher (``SbatchSettings`` on Slurm, ...);
        refused by the local launcher, which runs no batch jobs."""
        cls = batch_settings_class(self.launcher)
        return cls(nodes=nodes, time=time, queue=queue, account=account, batch_args=batch_args)

    def create_database(
        self,
        db_nodes: int = 1,
        port: int | None = None,
        interface: str = "lo",
        db_identifier: str = DEFAULT_DB_IDENTIFIER,
        batch: bool = False,
        batch_settings: BatchSettings | None = None,
    ) -> Orchestrator:
        """A Redis-backed store; ``port=None`` picks a free one at start. Under a workload
        manager each shard is a step, or, with ``batch=True``, a member of one batch job
        (``batch_settings``, by default the launcher's defaults)."""
        if db_identifier in self._registry.entities:
            raise InvalidArgumentError(
                f"db_identifier {db_identifier!r} is already used in experiment {self.name!r}"
            )
        if not isinstance(batch, bool):
            raise UnsupportedTypeError(f"batch must be a bool, not {type(batch).__name__}")
        if batch_settings is not None and not batch:
            raise InvalidArgumentError("batch_settings are for batch=True")
        if batch:
            self._check_batch(batch_settings)
            batch_settings = batch_settings or self.create_batch_settings()
        db = Orchestrator(
            db_identifier,
            db_nodes=db_nodes,
            port=port,
            interface=interface,
            launcher=self.launcher,
            batch_settings=batch_settings,
        )
        self._registry.claim(db, [db.name, *db.shard_names])
        return db

    def create_model(
        self,
        name: str,
        run_settings: RunSettings,
        params: dict | None = None,
        path: str | os.PathLike[str] | None = None,
        enable_key_prefixing: bool = False,
        params_as_args: list[str] | None = None,
        batch_settings: BatchSettings | None = None,
    ) -> Model:
        """A model that runs in ``path`` (default ``<exp_path>/<name>``)."""
        self._check_batch(batch_settings)
        check_entity_name(name)
        scalars = {k: v[0] for k, v in params_scalars(params).items()}
        model = Model(
            name,
            run_settings,
            params=scalars,
            path=Path(path).absolute() if path is not None else self.exp_path / name,
            params_as_args=list(params_as_args or []),
            key_prefixing=enable_key_prefixing,
            batch_settings=batch_settings,
        )
        self._registry.claim(model, [name])
        return model

    def create_ensemble(
        self,
        name: str,
        params: dict | None = None,
        run_settings: RunSettings | None = None,
        replicas: int | None = None,
        perm_strategy="all_perm",
        n_models: int | None = None,
        params_as_args: list[str] | None = None,
        batch_settings: BatchSettings | None = None,
    ) -> Ensemble:
        """Members ``<name>_<i>`` from ``params`` (expanded by ``perm_strategy``) or replicas."""
        self._check_batch(batch_settings)
        check_entity_name(name)
        ensemble = Ensemble.build(
            name, params, run_settings, replicas, perm_strategy, n_models, params_as_args
        )
        if not ensemble.models:
            raise InvalidArgumentError(
                f"ensemble {name!r} would be empty: give params or replicas (with run_settings)"
            )
        ensemble.batch_settings = batch_settings
        for member in ensemble.models:
            member.path = self.exp_path / name / member.name
        self._registry.claim(ensemble, [name, *(m.name for m in ensemble.models)])
        return ensemble

    def create_dispatcher(
        self,
        db: Orchestrator,
        max_job_managers: int = 1,
        max_task_managers: int = 8,
        policy: str | Callable = "default",
        run_args: dict[str, str] | None = None,
    ) -> Dispatcher:
        """A :class:`~smartflow.batch.Dispatcher` that runs batch inference jobs on ``db``
        (a store of this experiment) with task managers this experiment launches: at most
        ``max_job_managers`` jobs and ``max_task_managers`` task managers at once, split by
        ``policy`` (``"default"``, ``"fixed"``, ``"bounded"``, ``"size_table"`` or a function).
        ``run_args`` go to each task manager's run command (``srun`` options on Slurm)."""
        from smartflow.batch import Dispatcher  # batch/ builds on the experiment

        if not isinstance(db, Orchestrator):
            raise UnsupportedTypeError(f"db must be an Orchestrator, not {type(db).__name__}")
        self._registry.check_owned(db)
        dispatcher = Dispatcher(self, db, max_job_managers, max_task_managers, policy, run_args)
        self._on_close.append(dispatcher.aclose)
        return dispatcher

    def create_task_manager(self, name: str, job: str, run_settings: RunSettings) -> TaskManager:
        """A task manager of batch job ``job`` (the Dispatcher creates them; its directory is
        ``<exp_path>/<job>/<name>``)."""
        tm = TaskManager(name, run_settings, path=self.exp_path / job / name, job=job)
        self._registry.claim(tm, [name])
        return tm

    def preview(self, *entities: Entity) -> str:
        """The exact commands, directories and environment that ``start`` would use."""
        store_vars = _launch_specs.stores_env(self._running_stores())
        lines = []
        for entity in entities:
            self._registry.check_owned(entity)
            if isinstance(entity, Orchestrator) and entity.launcher != "local":
                lines.append(_store_steps.preview(entity))
            elif isinstance(entity, Orchestrator):
                lines.append(f"{entity.name}: redis-server x{entity.num_shards} on {entity.host}")
            elif entity.batch_settings is not None:
                (batch,) = self._batches([entity])
                lines.append(
                    _launch_specs.preview_batch(
                        self._launcher,
                        batch.job_name,
                        batch.settings,
                        batch.models,
                        store_vars,
                        batch.workdir,
                    )
                )
            else:
                lines += [_launch_specs.preview(m, store_vars) for m in entity.models]
        return "\n".join(lines)

    def summary(self, format: Literal["table", "records"] = "table") -> str | list[dict]:
        """What ran, as a printable table or as a list of dicts; needs no I/O."""
        records = [_summary.as_record(r) for r in self._table().values()]
        if format == "records":
            return records
        if format != "table":
            raise InvalidArgumentError(f"format {format!r} must be 'table' or 'records'")
        return _summary.render_table(records)

    # -- lifecycle ----------------------------------------------------------------------------

    async def generate(self, *entities: Entity, tag: str = ";", overwrite: bool = False) -> None:
        """Create the entities' directories with their attached and configured files."""
        members, tops = [], []
        for entity in entities:
            self._registry.check_owned(entity)
            if not isinstance(entity, Orchestrator):
                members += entity.models
                tops += generation.entity_directories(entity)
        await generation.generate(members, tops, tag, overwrite)

    async def start(self, *entities: Entity, block: bool = True, summary: bool = False) -> None:
        """Start entities: stores first (each ready when it answers), then models.

        With ``block=True`` it returns when every model it started has ended, failed or not (a
        failure is a status, see ``get_status``/``summary``). If this call is cancelled while
        it waits, the models it started are stopped.
        """
        for entity in entities:
            self._registry.check_owned(entity)
            self._refuse_running(entity)
        stores = list({id(e): e for e in entities if isinstance(e, Orchestrator)}.values())
        members = unique_members([e for e in entities if not isinstance(e, Orchestrator)])
        running = self._running_stores()
        for model in members:  # an SSDB clash is refused before any store starts
            future = running + [db for db in stores if db not in running]
            _launch_specs.check_env_names([*future, *colocated_of(model)])
        for db in stores:
            await self._launching.start_store(db)
        if members:
            names = await self._launching.start_models(members, self._batches(entities))
            if block:
                await self._launching.wait_or_stop(names)
        if summary:
            self._log.info("summary", table="\n" + _summary.render_table(self.summary("records")))

    async def stop(self, *entities: Entity) -> None:
        """Stop entities with the termination ladder; running ones end as CANCELLED."""
        for entity in entities:
            self._registry.check_owned(entity)
            if not any(name in self._table() for name in process_names(entity)):
                raise ExperimentError(f"{entity.name!r} was never started, so it cannot be stopped")
        for entity in entities:
            await self._request(Stop(tuple(process_names(entity) + colocated_names(entity))))
            addresses = self._registry.colocated_addresses([entity])
            if isinstance(entity, Orchestrator):
                addresses = entity.get_address()
            for address in addresses:
                forget_secret(address)

    async def get_status(self, *entities: Entity) -> list[Status]:
        """One status per process, in order: ensembles and stores expanded into their members."""
        statuses = []
        for entity in entities:
            self._registry.check_owned(entity)
            statuses.extend(self._record_status(name) for name in process_names(entity))
        return statuses

    async def finished(self, entity: Entity) -> bool:
        """True when every process of ``entity`` has ended."""
        return all(status.is_terminal for status in await self.get_status(entity))

    async def poll(self, interval: float = 10.0, verbose: bool = True) -> None:
        """Wait until every model started so far has ended, logging progress each interval
        (stores and their inference workers serve until stopped: they are not waited for)."""
        services = (Orchestrator.kind, WORKER_KIND)
        names = [r.name for r in self._table().values() if r.kind not in services]
        await self._launching.wait(names, interval, verbose)

    async def wait(self, *entities: Entity, timeout: float | None = None) -> bool:  # noqa: ASYNC109 (a bounded wait users ask for, like wait_for_key)
        """Wait until every process of ``entities`` has ended (stores' shards included);
        False if ``timeout`` seconds passed first. Entities never started count as ended."""
        names: list[str] = []
        for entity in entities:
            self._registry.check_owned(entity)
            names += [n for n in process_names(entity) if n in self._table()]
        if not names:
            return True
        assert self._supervisor is not None
        with anyio.move_on_after(timeout):
            await self._supervisor.wait_ended(names)
            return True
        return False

    async def watch(self) -> AsyncIterator[StatusEvent]:
        """Every status change from now on, as it happens; ends when the experiment closes."""
        self._ensure_supervisor()
        assert self._supervisor is not None
        async with self._supervisor.subscribe() as events:
            async for event in events:
                yield event

    async def aclose(self) -> None:
        """Stop everything this experiment started and close it; safe to call twice."""
        closers, self._on_close = self._on_close, []
        with anyio.CancelScope(shield=True):
            for close in closers:
                await close()
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
        for db in self._registry.stores():
            if db.is_launched:
                for address in db.get_address():
                    forget_secret(address)
        for address in self._registry.colocated_addresses():
            forget_secret(address)

    async def __aenter__(self) -> Experiment:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- internals: the supervisor -------------------------------------------------------------

    async def _request(self, message: SupervisorMessage) -> object:
        self._ensure_supervisor()
        assert self._supervisor is not None
        return await self._supervisor.request(message)

    def _ensure_supervisor(self) -> None:
        if self._closed:
            raise ExperimentError(f"experiment {self.name!r} is closed")
        if self._task is None:
            self._supervisor = Supervisor(self.name)
            self._task = asyncio.get_running_loop().create_task(
                self._supervisor.run(), name=f"smartflow-supervisor-{self.name}"
            )
            self._task.add_done_callback(fail_requests_when_done(self._supervisor))

    # -- internals: bookkeeping ---------------------------------------------------------------

    def _table(self) -> dict[str, StatusRecord]:
        return self._supervisor.table if self._supervisor is not None else {}

    def _record_status(self, name: str) -> Status:
        record = self._table().get(name)
        return record.status if record is not None else Status.NEW

    def _running_stores(self) -> list[Orchestrator]:
        return [
            db
            for db in self._registry.stores()
            if db.is_launched
            and all(self._record_status(n) is Status.RUNNING for n in db.shard_names)
        ]

    def _refuse_running(self, entity: Entity) -> None:
        if isinstance(entity, Ensemble) and not entity.models:
            raise InvalidArgumentError(f"ensemble {entity.name!r} has no members to start")
        running = [n for n in process_names(entity) if self._record_status(n) is Status.RUNNING]
        if running:
            raise ExperimentError(f"{', '.join(running)} already running; stop it first")

    def _batches(self, entities: tuple[Entity, ...] | list[Entity]) -> list[Batch]:
        """The entities to run as batch jobs, one each."""
        return [
            Batch(e.name, e.batch_settings, list(e.models), self.exp_path / e.name)
            for e in entities
            if not isinstance(e, Orchestrator) and e.batch_settings is not None
        ]

    def _check_batch(self, batch_settings: BatchSettings | None) -> None:
        if batch_settings is None:
            return
        expected = batch_settings_class(self.launcher)  # the local launcher refuses here
        if not isinstance(batch_settings, expected):
            raise UnsupportedTypeError(
                f"batch_settings must be {expected.__name__} for the {self.launcher} launcher "
                f"(exp.create_batch_settings), not {type(batch_settings).__name__}"
            )
