"""RunSettings: how to run one executable, and what the launcher must honour.

A setting the chosen launcher cannot honour is refused when it is set (SmartSim only logged it and
went on). The local launcher runs one process per model, or ``-np N`` ranks through an explicit MPI
``run_command``, on this host, and enforces a walltime itself.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import attrs

from smartflow import _checks
from smartflow.errors import ExecutableNotFoundError, InvalidArgumentError

_MPI_COMMANDS = ("mpirun", "mpiexec")
_WALLTIME = re.compile(r"^(?:(\d+)-)?(\d{1,2}):(\d{2}):(\d{2})$")


def resolve_executable(exe: str) -> str:
    """The absolute path of ``exe`` (a path, or a name looked up on PATH)."""
    if not isinstance(exe, str) or not exe:
        raise InvalidArgumentError(f"exe must be a non-empty str, got {exe!r}")
    found = shutil.which(exe)
    if found is None:
        raise ExecutableNotFoundError(
            f"executable {exe!r} not found on PATH or not executable; give a full path"
        )
    return str(Path(found).absolute())


def parse_walltime(walltime: str) -> float:
    """Seconds in ``[D-]HH:MM:SS``."""
    match = _WALLTIME.match(walltime) if isinstance(walltime, str) else None
    if match is None:
        raise InvalidArgumentError(f"walltime {walltime!r} must look like HH:MM:SS or D-HH:MM:SS")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)


def _str_list(value: object, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str | int | float) for v in value
    ):
        raise InvalidArgumentError(f"{what} must be a list of str, got {value!r}")
    return [str(v) for v in value]


def _str_dict(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
        raise InvalidArgumentError(f"{what} must be a dict with str keys, got {value!r}")
    return {k: "" if v is None else str(v) for k, v in value.items()}


@attrs.define(eq=False)
class RunSettings:
    """How one model runs: ``[run_command run_args] exe exe_args`` with ``env_vars`` added."""

    exe: str = attrs.field(converter=resolve_executable)
    exe_args: list[str] = attrs.field(factory=list, converter=lambda v: _str_list(v, "exe_args"))
    run_command: str | None = None
    run_args: dict[str, str] = attrs.field(
        factory=dict, converter=lambda v: _str_dict(v, "run_args")
    )
    env_vars: dict[str, str] = attrs.field(
        factory=dict, converter=lambda v: _str_dict(v, "env_vars")
    )
    launcher: str = "local"
    tasks: int = 1
    walltime: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.run_command in (None, "", "auto"):
            self.run_command = None
        elif self.run_command not in _MPI_COMMANDS:
            self.run_command = resolve_executable(self.run_command)
        else:
            resolve_executable(self.run_command)

    # SmartSim's setters; each refuses what the local launcher cannot do.

    def set_tasks(self, tasks: int) -> None:
        """Number of ranks; more than one needs an MPI ``run_command`` locally."""
        _checks.count(tasks, "tasks")
        if tasks > 1 and self.run_command is None:
            raise InvalidArgumentError(
                f"set_tasks({tasks}): the local launcher starts one process per model; create "
                "the settings with run_command='mpirun' for MPI ranks"
            )
        self.tasks = tasks

    def set_nodes(self, nodes: int) -> None:
        _checks.count(nodes, "nodes")
        if nodes != 1:
            raise InvalidArgumentError(
                f"set_nodes({nodes}): the local launcher runs on this host only"
            )

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        _checks.count(tasks_per_node, "tasks_per_node")
        self.set_tasks(tasks_per_node)

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        _checks.count(cpus_per_task, "cpus_per_task")
        if cpus_per_task != 1:
            raise InvalidArgumentError(
                f"set_cpus_per_task({cpus_per_task}): the local launcher does not reserve CPUs"
            )

    def set_walltime(self, walltime: str) -> None:
        """``HH:MM:SS``: the process is stopped (and FAILED) when it runs longer."""
        self.walltime = parse_walltime(walltime)

    def add_exe_args(self, args: str | list[str]) -> None:
        self.exe_args.extend(_str_list(args, "exe_args"))

    def update_env(self, env_vars: dict[str, str]) -> None:
        self.env_vars.update(_str_dict(env_vars, "env_vars"))

    def format_argv(self, extra_args: list[str] | None = None) -> list[str]:
        """The exact command line."""
        argv = [self.exe, *self.exe_args, *(extra_args or [])]
        if self.run_command is None:
            return argv
        run_args = [f"--{k}={v}" if v else f"--{k}" for k, v in self.run_args.items()]
        return [self.run_command, "-np", str(self.tasks), *run_args, *argv]

    def copy(self) -> RunSettings:
        return attrs.evolve(
            self,
            exe_args=list(self.exe_args),
            run_args=dict(self.run_args),
            env_vars=dict(self.env_vars),
            run_command=self.run_command,
        )


@attrs.define(eq=False)
class BatchSettings:
    """Batch-job settings; only workload-manager launchers (not implemented yet) take them."""

    nodes: int = 1
    time: str = ""
    queue: str = ""
    account: str = ""
    batch_args: dict[str, str] = attrs.field(factory=dict)
