"""An Orchestrator under a workload manager: every shard a step on a node the scheduler picks.

Each shard runs :mod:`smartflow.store.shard_step` through the launcher's run command (``srun
-N1 -n1 --overlap``: one task on one node, never a whole node), which reports the shard's own
``host:port`` to a listener in the driver (:mod:`smartflow.store.reports`). The cluster is then
formed as it is locally, and each shard's inference worker runs as a step of its shard's job,
on its node (``srun --jobid=<the shard's job> --overlap``: it takes no CPU of its own).
The secret reaches a shard on its step's stdin (srun passes it to the task), never a command line.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio
import attrs

from smartflow.entities.model import Model
from smartflow.entities.orchestrator import Orchestrator
from smartflow.errors import InvalidArgumentError, StoreStartError
from smartflow.experiment._store_start import (
    LaunchFn,
    StopFn,
    colocated_shard,
    form,
    remember,
    start_workers,
)
from smartflow.inference.runners import inference_threads
from smartflow.launchers import Launcher, MemberScript, write_private
from smartflow.runtime.job import JobHandle
from smartflow.runtime.messages import ActorSpec, Launch
from smartflow.runtime.process import ProcessSpec
from smartflow.settings import RunSettings, SrunSettings, run_settings_class
from smartflow.settings.launch import LauncherRunSettings
from smartflow.status import Status
from smartflow.store import server
from smartflow.store.config import ShardConfig
from smartflow.store.reports import ReportListener, ShardReport
from smartflow.store.server import wait_until_answering


async def start_store_steps(
    db: Orchestrator,
    workdir: Path,
    run_id: int,
    launcher: Launcher,
    launch: LaunchFn,
    stop: StopFn,
) -> None:
    """Launch ``db``'s shards as steps (or as the members of one batch job), learn their
    addresses, form their cluster, start their workers; on failure nothing it started is left
    running."""
    inference_threads(os.environ)
    start_step = launcher.start_step
    async with await ReportListener.open(db.host) as listener:
        if db.batch_settings is None:
            specs = tuple(
                attrs.evolve(_shard_spec(db, i, workdir, listener, run_id), start=start_step)
                for i in range(db.db_nodes)
            )
        else:
            specs = await _batch_shard_specs(db, workdir, listener, run_id, launcher)
        reports = await _launch_reporting(f"store {db.name!r}", listener, specs, launch)
    shards = [_reported(db, r, workdir) for r in reports]
    if db.is_clustered:
        await form(db, shards, stop)
    seeds = [s.address for s in shards] if db.is_clustered else None
    where = {r.name: r for r in reports}
    label = f"store {db.name!r}"

    def on_node(spec: ActorSpec) -> ActorSpec:
        beside = _beside(db, spec, where[spec.name.removesuffix(".worker")])
        return attrs.evolve(beside, start=start_step)

    await start_workers(label, shards, seeds, run_id, launch, stop, wrap=on_node)
    db._set_ports([r.port for r in reports], [r.host for r in reports])
    remember(shards, db.password)


async def _batch_shard_specs(
    db: Orchestrator, workdir: Path, listener: ReportListener, run_id: int, launcher: Launcher
) -> tuple[ActorSpec, ...]:
    """The shards as members of one batch job: a job has no stdin, so each shard's setup (its
    secret) is a 0600 file the shard step reads once and removes."""
    files = [workdir / f"{name}.setup.json" for name in db.shard_names]
    specs = [
        _shard_spec(db, i, workdir, listener, run_id, setup_file=files[i])
        for i in range(db.db_nodes)
    ]
    setups = [spec.process.stdin_data for spec in specs]
    members = [
        MemberScript(
            spec.name,
            spec.process.argv,
            attrs.evolve(spec.process, env={}, stdin_data=None),
            workdir / f"{spec.name}.exitcode",
        )
        for spec in specs
    ]

    def write_setups() -> None:
        for path, setup in zip(files, setups, strict=True):
            assert setup is not None
            write_private(path, setup.decode())

    await anyio.to_thread.run_sync(write_setups)
    submission = launcher.submission(db.name, db.batch_settings, members, workdir)
    return tuple(
        attrs.evolve(
            spec,
            process=member.spec,
            start=lambda _spec, _truncate, name=spec.name: submission.start_member(name),
        )
        for spec, member in zip(specs, members, strict=True)
    )


async def _launch_reporting(
    label: str, listener: ReportListener, specs: Sequence[ActorSpec], launch: LaunchFn
) -> list[ShardReport]:
    """Launch store steps while ``listener`` takes their reports; each one's report."""
    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve)
        try:  # raised after the group, so no exception group leaks out
            await launch(Launch(tuple(specs)))
        except Exception as exc:
            failure = exc
        tg.cancel_scope.cancel()
    if isinstance(failure, StoreStartError):
        raise failure
    if failure is not None:
        raise StoreStartError(f"{label} did not start: {failure}") from failure
    return [listener.reports[spec.name] for spec in specs]


async def _report_host() -> str:
    """An address of the driver that steps on other nodes can reach (a co-located store binds
    its model's loopback, which says nothing of the driver's): ``SMARTFLOW_REPORT_HOST``, else
    this host's name resolved (off the event loop: it may ask DNS)."""
    given = os.environ.get("SMARTFLOW_REPORT_HOST")
    if given:
        return given
    return await anyio.to_thread.run_sync(lambda: socket.gethostbyname(socket.gethostname()))


def _shard_spec(
    db: Orchestrator,
    index: int,
    workdir: Path,
    listener: ReportListener,
    run_id: int,
    setup_file: Path | None = None,
) -> ActorSpec:
    """A shard's step; its setup goes on stdin, or (``setup_file``) in a file named on its
    command line (its bytes stay in ``stdin_data`` for the caller to write)."""
    name = db.shard_names[index]
    shard = ShardConfig(
        name,
        db.host,
        0,
        db.password,
        workdir,
        extra=tuple(db.startup_conf.items()),
        cluster=db.is_clustered,
    )
    args = ["-m", "smartflow.store.shard_step", "--interface", db.interface]
    args += ["--report", listener.address]
    if db.port is not None:
        args += ["--port", str(db.port + index)]
    if setup_file is not None:
        args += ["--conf-file", str(setup_file)]
    argv = _step_argv(db, sys.executable, args, name, index)
    return _step_spec(shard, argv, listener, run_id, companions=(f"{name}.worker",))


def _step_spec(
    shard: ShardConfig,
    argv: list[str],
    listener: ReportListener,
    run_id: int,
    companions: tuple[str, ...] = (),
) -> ActorSpec:
    """The actor of a store's step: ready once the step has reported and its store answers."""
    name = shard.name
    setup = {
        "conf": shard.render(listen=False),
        "password": shard.password,
        "token": listener.token,
        "name": name,
        "logfile": str(shard.logfile),
        "unix_socket": None if shard.unix_socket is None else str(shard.unix_socket),
    }
    process = ProcessSpec(
        argv=tuple(argv),
        cwd=shard.workdir,
        env=dict(os.environ),
        stdout_path=shard.workdir / f"{name}.out",
        stderr_path=shard.workdir / f"{name}.out",
        stdin_data=json.dumps(setup).encode(),
    )

    async def ready(job: JobHandle) -> None:
        timeout = server.STARTUP_TIMEOUT_S
        while True:
            with anyio.move_on_after(timeout):
                report = await listener.wait_for(name)
                await wait_until_answering(report.address, shard.password)
                return
            if job.status is not Status.QUEUED:  # a batch job waits in its queue unbounded
                break
        raise StoreStartError(
            f"{name}: the store did not report serving within {timeout:g} s; its output is "
            f"{process.stdout_path} and its log {shard.logfile}"
        )

    return ActorSpec(
        name=name,
        kind="Orchestrator",
        process=process,
        ready=ready,
        run_id=run_id,
        companions=companions,
    )


async def start_colocated_step(
    model: Model, name: str, run_id: int, launcher: Launcher, launch: LaunchFn, stop: StopFn
) -> RunSettings:
    """Start ``model``'s co-located store (actor ``name``) as a step, with its worker beside
    it; returns the model's run settings placed in the store's job, on its node."""
    colo, settings = model.colocated_db, model.run_settings
    assert colo is not None and model.path is not None
    if getattr(settings, "nodes", 1) > 1:
        raise InvalidArgumentError(
            f"{model.name}: a co-located store serves one node; under {launcher.name} its model "
            "must run on one node (set_nodes(1))"
        )
    inference_threads(os.environ)
    shard = colocated_shard(model, name, 0)
    label = f"{model.name}: its co-located store"
    async with await ReportListener.open(await _report_host()) as listener:
        args = ["-m", "smartflow.store.shard_step", "--interface", colo.host]
        args += ["--report", listener.address]
        if colo.port is not None:
            args += ["--port", str(colo.port)]
        step = run_settings_class(launcher.name)(sys.executable, args)
        step.set_nodes(1)
        step.set_tasks(1)
        if not os.environ.get("SLURM_JOB_ID") and getattr(settings, "tasks", 1) > 1:
            step.set_cpus_per_task(settings.tasks)  # the job it obtains must fit the model too
        argv = step.format_argv(name=name)
        spec = attrs.evolve(
            _step_spec(shard, argv, listener, run_id, (f"{name}.worker",)),
            start=launcher.start_step,
        )
        (report,) = await _launch_reporting(label, listener, [spec], launch)
    worker_shard = attrs.evolve(shard, host=report.host, port=report.port)

    def beside(worker: ActorSpec) -> ActorSpec:
        exe, *argv = worker.process.argv
        placed = _placed(run_settings_class(launcher.name)(exe, argv), report)
        placed.set_tasks(1)
        command = placed.format_argv(name=worker.name)
        process = attrs.evolve(worker.process, argv=tuple(command))
        return attrs.evolve(worker, process=process, start=launcher.start_step)

    await start_workers(label, [worker_shard], None, run_id, launch, stop, wrap=beside)
    if colo.unix_socket is None:
        colo._set_port(report.port)
    remember([worker_shard], colo.password)
    return _placed(settings.copy(), report)


def _placed(settings: RunSettings, report: ShardReport) -> RunSettings:
    """``settings`` run in the reported store's job and on its node."""
    if report.job is not None and isinstance(settings, SrunSettings):
        settings.alloc = report.job
    if isinstance(settings, LauncherRunSettings):
        settings.set_hostlist(report.node)
    return settings


def preview(db: Orchestrator) -> str:
    """Each shard's step command line (its setup, with the secret, goes on stdin or in a 0600
    file; the driver's report address is chosen at start)."""
    lines = [
        f"{db.name}: {db.db_nodes} shard(s) as {db.launcher} steps"
        + (" in one batch job" if db.batch_settings is not None else "")
    ]
    for index, name in enumerate(db.shard_names):
        args = ["-m", "smartflow.store.shard_step", "--interface", db.interface]
        args += ["--report", "<driver>:<port>"]
        argv = _step_argv(db, sys.executable, args, name, index)
        lines.append(f"  {name}: {shlex.join(argv)}")
    return "\n".join(lines)


def _step_argv(
    db: Orchestrator,
    exe: str,
    args: list[str],
    name: str,
    index: int,
    beside: ShardReport | None = None,
) -> list[str]:
    """One task on one node through the launcher's run command, with the store's run args
    (``beside`` a reported shard: in its job and on its node)."""
    settings = run_settings_class(db.launcher)(exe, args)
    settings.set_nodes(1)
    settings.set_tasks(1)
    if beside is not None:
        _placed(settings, beside)
    elif db.hosts:
        settings.set_hostlist(db.hosts[index % len(db.hosts)])
    if beside is None:  # the shard's own step (its worker shares the shard's CPUs)
        if db.cpus > 1:
            settings.set_cpus_per_task(db.cpus)
        if db.walltime is not None and db.batch_settings is None:
            settings.set_walltime(db.walltime)
    for key, value in db.run_args.items():
        settings.run_args[key] = value or ""
    return settings.format_argv(name=name)


def _beside(db: Orchestrator, spec: ActorSpec, shard: ShardReport) -> ActorSpec:
    """A worker's spec as a step beside its shard (in its job, on its node)."""
    exe, *args = spec.process.argv
    index = db.shard_names.index(shard.name)
    argv = _step_argv(db, exe, args, spec.name, index, beside=shard)
    return attrs.evolve(spec, process=attrs.evolve(spec.process, argv=tuple(argv)))


def _reported(db: Orchestrator, report: ShardReport, workdir: Path) -> ShardConfig:
    return ShardConfig(
        report.name, report.host, report.port, db.password, workdir, cluster=db.is_clustered
    )
