"""What the experiment hands the supervisor for a model: argv, directory, environment.

The environment contract (SmartSim's names): each running store is ``SSDB[_<id>]`` (comma-separated
shard addresses), ``SR_DB_TYPE[_<id>]`` and ``SSDB_PASSWORD[_<id>]``; ``SSKEYOUT`` is the model's
own name when key prefixing is on; ``SSKEYIN`` lists its incoming entities. A model's own
``env_vars`` are applied last, so a user can always override.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import attrs

from smartflow.client import env_names
from smartflow.entities.colocated import ColocatedDB
from smartflow.entities.model import Model
from smartflow.entities.orchestrator import Orchestrator
from smartflow.errors import ExperimentError
from smartflow.launchers import Launcher, MemberScript
from smartflow.runtime.messages import ActorSpec
from smartflow.runtime.process import ProcessSpec
from smartflow.settings import RunSettings

_SECRET_NAMES = ("SSDB_PASSWORD",)


def check_env_names(stores: list[Orchestrator | ColocatedDB]) -> None:
    """Refuse two stores that would both be one ``SSDB[_<id>]`` of a model."""
    seen: set[str] = set()
    for db in stores:
        address_var = env_names(db.db_identifier)[0]
        if address_var in seen:
            raise ExperimentError(
                f"stores {db.db_identifier!r} and another would both be the plain {address_var}; "
                "give one of them a different db_identifier"
            )
        seen.add(address_var)


def stores_env(stores: list[Orchestrator | ColocatedDB]) -> dict[str, str]:
    """The variables that point launched applications at every running store."""
    check_env_names(stores)
    env: dict[str, str] = {}
    for db in stores:
        address_var, type_var, password_var = env_names(db.db_identifier)
        env[address_var] = ",".join(db.get_address())
        env[type_var] = "Clustered" if db.num_shards > 1 else "Standalone"
        env[password_var] = db.password
    return env


def model_env(model: Model, store_vars: dict[str, str]) -> dict[str, str]:
    """The variables smartflow sets for ``model`` (without the inherited environment)."""
    env = dict(store_vars)
    if model.query_key_prefixing():
        env["SSKEYOUT"] = model.name
    if model.incoming_entities:
        env["SSKEYIN"] = ",".join(m.name for m in model.incoming_entities)
    # An MPMD line's parts share one process environment: every part's variables go in it.
    env.update(model.run_settings.launch_env())
    return env


def model_actor_spec(
    model: Model,
    store_vars: dict[str, str],
    run_id: int,
    base_env: dict[str, str],
    settings: RunSettings | None = None,
) -> ActorSpec:
    """The actor that runs ``model`` in its directory, output to ``<name>.out`` / ``.err``.

    ``base_env`` is the inherited environment, read once per launch (``os.environ`` decodes
    every variable on each copy, which adds up over an ensemble)."""
    directory = Path(model.path) if model.path is not None else Path.cwd()
    process = ProcessSpec(
        argv=tuple(step_argv(model, settings)),
        cwd=directory,
        env={**base_env, **model_env(model, store_vars)},
        stdout_path=directory / f"{model.name}.out",
        stderr_path=directory / f"{model.name}.err",
        walltime=model.run_settings.walltime,
    )
    companions = (colocated_store_name(model),) if model.colocated else ()
    return ActorSpec(
        name=model.name, kind=model.kind, process=process, run_id=run_id, companions=companions
    )


def step_argv(model: Model, settings: RunSettings | None = None) -> list[str]:
    """The model's command line: its run settings' (``srun ... exe args`` on Slurm), or
    ``settings`` (its own, placed beside its co-located store)."""
    chosen = settings or model.run_settings
    return chosen.format_argv(model.params_to_args(), name=model.name)


def batch_members(models: list[Model], store_vars: dict[str, str]) -> list[MemberScript]:
    """The members of one batch script. Their environment is only what smartflow sets: the
    scheduler passes the submitting environment on to the job (``--export=ALL``, ``-V``)."""
    members = []
    for model in models:
        directory = Path(model.path) if model.path is not None else Path.cwd()
        process = ProcessSpec(
            argv=tuple(step_argv(model)),
            cwd=directory,
            env=model_env(model, store_vars),
            stdout_path=directory / f"{model.name}.out",
            stderr_path=directory / f"{model.name}.err",
        )
        exit_file = directory / f"{model.name}.exitcode"
        members.append(MemberScript(model.name, process.argv, process, exit_file))
    return members


def batch_actor_specs(
    launcher: Launcher,
    job_name: str,
    batch_settings: object,
    models: list[Model],
    store_vars: dict[str, str],
    workdir: Path,
    run_id: int,
) -> list[ActorSpec]:
    """One actor per member of one batch job (submitted when the first member starts)."""
    members = batch_members(models, store_vars)
    submission = launcher.submission(job_name, batch_settings, members, workdir)
    return [
        ActorSpec(
            name=member.name,
            kind=model.kind,
            process=member.spec,
            run_id=run_id,
            start=lambda _spec, _truncate, name=member.name: submission.start_member(name),
        )
        for model, member in zip(models, members, strict=True)
    ]


def preview_batch(
    launcher: Launcher,
    job_name: str,
    batch_settings: object,
    models: list[Model],
    store_vars: dict[str, str],
    workdir: Path,
) -> str:
    """The batch script that ``start`` would submit, secrets masked."""
    members = [
        attrs.evolve(m, spec=attrs.evolve(m.spec, env=_masked(m.spec.env)))
        for m in batch_members(models, store_vars)
    ]
    script = launcher.render(batch_settings, job_name, members, workdir)
    return f"{job_name}: batch job ({launcher.name})\n" + "\n".join(
        f"  {line}" for line in script.splitlines()
    )


def _masked(env: dict[str, str]) -> dict[str, str]:
    return {k: ("********" if k.startswith(_SECRET_NAMES) else v) for k, v in env.items()}


def colocated_store_name(model: Model) -> str:
    """The actor name of ``model``'s co-located store (its row in summary())."""
    return f"{model.name}.db"


def preview(model: Model, store_vars: dict[str, str]) -> str:
    """The exact command, directory and smartflow-set environment of ``model`` (secrets hidden)."""
    argv = step_argv(model)
    lines = [f"{model.name}:", f"  cwd: {model.path}", f"  argv: {shlex.join(argv)}"]
    for key, value in sorted(model_env(model, store_vars).items()):
        lines.append(f"  env: {key}={_masked({key: value})[key]}")
    colo = model.colocated_db
    if colo is not None:
        where = (
            f"unix socket {colo.unix_socket}"
            if colo.unix_socket is not None
            else f"{colo.host}:{colo.port or '<free port>'}"
        )
        suffix = f"_{colo.db_identifier}" if colo.db_identifier else ""
        lines.append(f"  co-located store {colocated_store_name(model)}: {where} (SSDB{suffix})")
    for obj in [*model.db_models, *model.db_scripts]:
        source = getattr(obj, "model_path", None) or getattr(obj, "script_path", None) or "inline"
        lines.append(f"  loads {obj.kind} {obj.name!r} on {', '.join(obj.devices)} ({source})")
    return "\n".join(lines)
