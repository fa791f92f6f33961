"""How an experiment starts entities through its supervisor, and waits for them.

Stores first (each ready when it answers); then, for models, their co-located stores, then the
models and scripts they declare (loaded into their stores), then the models themselves, all or
nothing: a failure or a cancel leaves nothing it started running.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import attrs

from smartflow.entities.model import Model
from smartflow.entities.orchestrator import Orchestrator
from smartflow.errors import InvalidArgumentError
from smartflow.experiment import _launch_specs
from smartflow.experiment._db_objects_load import check_stores, load_db_objects
from smartflow.experiment._registry import colocated_of
from smartflow.experiment._store_start import start_colocated, start_store
from smartflow.experiment._store_steps import start_colocated_step, start_store_steps
from smartflow.launchers import Launcher
from smartflow.runtime.messages import Launch, Stop, SupervisorMessage
from smartflow.runtime.supervisor import StatusRecord, Supervisor
from smartflow.settings import RunSettings
from smartflow.status import Status

PROGRESS_INTERVAL = 5.0


@attrs.frozen
class Batch:
    """A model or an ensemble to run as one batch job."""

    job_name: str
    settings: object
    models: list[Model]
    workdir: Path


class Launching:
    """Starts an experiment's entities through its supervisor, and waits for them (see the
    module docstring). The Experiment owns one; ``request`` sends its supervisor a message
    (starting the supervisor if need be), ``supervisor`` returns it (None before the first
    request), and ``running_stores`` lists the stores serving now."""

    def __init__(
        self,
        exp_path: Path,
        launcher: Launcher,
        request: Callable[[SupervisorMessage], Awaitable[object]],
        supervisor: Callable[[], Supervisor | None],
        running_stores: Callable[[], list[Orchestrator]],
        log: Any,
    ) -> None:
        self.exp_path = exp_path
        self.launcher = launcher
        self._request = request
        self._supervisor = supervisor
        self._running_stores = running_stores
        self._log = log
        self._run_ids = itertools.count(1)

    def _table(self) -> dict[str, StatusRecord]:
        supervisor = self._supervisor()
        return supervisor.table if supervisor is not None else {}

    def _record_status(self, name: str) -> Status:
        record = self._table().get(name)
        return record.status if record is not None else Status.NEW

    async def start_store(self, db: Orchestrator) -> None:
        run_id = next(self._run_ids)
        workdir = self.exp_path / db.db_identifier
        if db.launcher == "local":
            await start_store(db, workdir, run_id, self.launch, self.stop)
        else:
            await start_store_steps(db, workdir, run_id, self.launcher, self.launch, self.stop)
        self._log.info("store started", entity=db.name, address=db.get_address(), run_id=run_id)

    async def start_models(self, members: list[Model], batches: list[Batch]) -> list[str]:
        """Start ``members`` (their co-located stores and declared models first), those in
        ``batches`` as batch jobs; returns every actor started."""
        batched = {m.name for batch in batches for m in batch.models}
        for model in members:
            if model.colocated and model.name in batched:
                raise InvalidArgumentError(
                    f"{model.name}: a model with a co-located store runs as a step, not in a "
                    "batch job (create it without batch_settings)"
                )
        stores = self._running_stores()  # start() has refused SSDB clashes already
        check_stores(members, stores)
        run_id = next(self._run_ids)
        colocated, placed = await self._start_colocated(members, run_id)
        try:
            loaded = await load_db_objects(members, stores)
            if loaded:
                self._log.info("models and scripts loaded", run_id=run_id, count=loaded)
            base_env = dict(os.environ)
            by_name = {
                m.name: attrs.evolve(
                    _launch_specs.model_actor_spec(
                        m,
                        _launch_specs.stores_env([*stores, *colocated_of(m)]),
                        run_id,
                        base_env,
                        settings=placed.get(m.name),
                    ),
                    start=self.launcher.start_step,
                )
                for m in members
                if m.name not in batched
            }
            for batch in batches:
                for spec in _launch_specs.batch_actor_specs(
                    self.launcher,
                    batch.job_name,
                    batch.settings,
                    batch.models,
                    _launch_specs.stores_env(stores),
                    batch.workdir,
                    run_id,
                ):
                    by_name[spec.name] = spec
            specs = tuple(by_name[m.name] for m in members)
            await self.launch(Launch(specs))  # all or nothing: on failure none is left running
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.stop(colocated)
            raise
        names = [spec.name for spec in specs]
        self._log.info("started", run_id=run_id, count=len(names))
        return names + colocated  # a co-located store ends right after its model

    async def _start_colocated(
        self, members: list[Model], run_id: int
    ) -> tuple[list[str], dict[str, RunSettings]]:
        """Start the co-located stores of ``members``; on failure none is left running.
        Under a workload manager each is a step, and its model's run settings are placed in
        its job, on its node (returned by model name)."""
        started: list[str] = []
        placed: dict[str, RunSettings] = {}
        try:
            for model in members:
                if not model.colocated:
                    continue
                # No entity can be named like it: check_entity_name keeps ".db" for these.
                name = _launch_specs.colocated_store_name(model)
                if name in self._table():  # its last run is stopping with its model
                    await self._table()[name].ended.wait()
                started.append(name)
                if self.launcher.name == "local":
                    await start_colocated(model, name, run_id, self.launch, self.stop)
                    continue
                placed[model.name] = await start_colocated_step(
                    model, name, run_id, self.launcher, self.launch, self.stop
                )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.stop(started)
            raise
        return started, placed

    async def launch(self, message: Launch) -> object:
        """Launch; if the caller is cancelled meanwhile, stop what the launch started."""
        try:
            return await self._request(message)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                try:
                    await message.reply.wait()  # bounded by the readiness timeout
                except Exception as exc:  # all or nothing: a failed launch left nothing running
                    self._log.debug("cancelled launch failed", error=str(exc))
                else:
                    await self._request(Stop(tuple(spec.name for spec in message.specs)))
            raise

    async def stop(self, names: list[str]) -> None:
        await self._request(Stop(tuple(names)))

    async def wait_or_stop(self, names: list[str]) -> None:
        try:
            await self.wait(names, PROGRESS_INTERVAL, verbose=True)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await self.stop(names)
            raise

    async def wait(self, names: list[str], interval: float, verbose: bool) -> None:
        if not names:
            return
        supervisor = self._supervisor()
        assert supervisor is not None
        while True:
            with anyio.move_on_after(interval):
                await supervisor.wait_ended(names)
                return
            if verbose:
                done = sum(self._record_status(n).is_terminal for n in names)
                self._log.info(
                    "waiting", done=done, total=len(names), progress=f"{done}/{len(names)}"
                )
